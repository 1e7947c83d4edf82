"""Settings and template changes, for the audit log.

duban.toml and the mail templates are files the office edits by hand, so no duban command sees
the change. The daemon's upkeep compares their fingerprints with the last recorded ones (kept in
the audit log itself, in the last ``settings.change`` / ``template.change`` row) and records a
row when they differ: which sections or templates changed, never a value (duban.toml holds the
SMTP password). Who edited the file is not known to duban: the row says so, and the operating
system's own logs (auditd on the config folder) must tell.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from workflow.audit.chain import EVENTS
from workflow.audit.record import record
from workflow.config import Config
from workflow.storage.db import Database

WATCHER = SimpleNamespace(role="system", name="系统（配置变更检测）")
UNKNOWN_EDITOR = "修改人不详（文件被直接编辑，请查操作系统日志）"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def settings_fingerprint(config: Config) -> dict[str, str]:
    """Section → hash of its canonical JSON (the file's sections as duban read them)."""
    return {
        name: _digest(json.dumps(value, sort_keys=True, default=str).encode())[:16]
        for name, value in sorted(config.raw.items())
    }


def templates_fingerprint(config: Config) -> dict[str, str]:
    folder = config.config_dir / "templates"
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): _digest(p.read_bytes())[:16]
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _last(db: Database, action: str) -> dict[str, str] | None:
    with db.engine.connect() as conn:
        detail = conn.execute(
            sa.select(EVENTS.c.detail)
            .where(EVENTS.c.action == action)
            .order_by(EVENTS.c.id.desc())
            .limit(1)
        ).scalar()
    if detail is None:
        return None
    return json.loads(detail).get("fingerprint")


def _changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def watch(db: Database, config: Config, now: datetime) -> list[str]:
    """Record what changed since the last look; the actions recorded."""
    done: list[str] = []
    for action, target, fingerprint in (
        ("settings.change", str(Path(config.config_file).name), settings_fingerprint(config)),
        ("template.change", "templates/", templates_fingerprint(config)),
    ):
        before = _last(db, action)
        if before == fingerprint or (before is None and not fingerprint):
            continue
        detail: dict[str, Any] = {"fingerprint": fingerprint, "editor": UNKNOWN_EDITOR}
        if before is None:
            detail["first_seen"] = True
        else:
            detail["changed"] = _changed(before, fingerprint)
        record(db, WATCHER, action, now, door="daemon", target=target, detail=detail)
        done.append(action)
    return done

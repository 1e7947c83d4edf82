"""What the daemon does besides checking and sending: the heartbeat, scheduled backups with a
retention count (``[backup] dir``, ``keep``, ``at``) and the audit log's retention.

Each step is an idempotent scan run every minute (and once at start-up): a backup is due when
the day's ``at`` (Asia/Shanghai) has passed and the folder holds none of today's; downtime costs
nothing, and a second run the same day does nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from workflow.audit.reading import audit_settings, prune
from workflow.audit.record import entry_for, record
from workflow.config import Config
from workflow.dates.clock import SHANGHAI
from workflow.errors import ConfigError, DubanError
from workflow.operations.backup import backup
from workflow.operations.health import beat
from workflow.operations.watch import watch
from workflow.storage.db import Database

log = logging.getLogger("duban.daemon")
DAEMON_CALLER = SimpleNamespace(role="system", name="系统（守护进程）")
_NAME = re.compile(r"^duban-(\d{8})-(\d{4})\.(db|dump)$")


@dataclass(frozen=True)
class BackupSettings:
    folder: Path | None = None  # no folder: no scheduled backups
    keep: int = 7
    at: time = time(2, 30)


def backup_settings(config: Config) -> BackupSettings:
    raw = config.section("backup")
    where = f"配置文件 {config.config_file} 的 [backup]"
    unknown = sorted(set(raw) - {"dir", "keep", "at", "pg_dump"})
    if unknown:
        raise ConfigError(f"{where} 中有未知设置：{'、'.join(unknown)}")
    keep = raw.get("keep", 7)
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ConfigError(f"{where} keep 应为正整数（保留的备份份数）")
    at = raw.get("at", "02:30")
    if not isinstance(at, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise ConfigError(f"{where} at 应为 HH:MM（上海时间），现为 {at!r}")
    folder = raw.get("dir")
    if folder is not None and not isinstance(folder, str):
        raise ConfigError(f"{where} dir 应为目录路径")
    hour, minute = map(int, at.split(":"))
    return BackupSettings(
        folder=Path(folder).expanduser() if folder else None, keep=keep, at=time(hour, minute)
    )


def scheduled_backup(db: Database, config: Config, now: datetime) -> str | None:
    """Take today's backup if it is due; keep the newest ``keep``. The file's name, or None."""
    settings = backup_settings(config)
    if settings.folder is None:
        return None
    local = now.astimezone(SHANGHAI)
    if local.time() < settings.at:
        return None
    settings.folder.mkdir(parents=True, exist_ok=True)
    day = local.strftime("%Y%m%d")
    ours = sorted(p for p in settings.folder.iterdir() if _NAME.match(p.name))
    if any(_NAME.match(p.name).group(1) == day for p in ours):
        return None
    suffix = "db" if db.dialect == "sqlite" else "dump"
    target = settings.folder / f"duban-{day}-{local:%H%M}.{suffix}"
    try:
        result = backup(db, config, target)
    except DubanError as exc:
        record(
            db,
            DAEMON_CALLER,
            "backup",
            now,
            door="daemon",
            outcome="failed",
            target=target.name,
            detail={"reason": exc.message[:200]},
        )
        raise
    record(
        db,
        DAEMON_CALLER,
        "backup",
        now,
        door="daemon",
        target=target.name,
        detail={"size": result.size, "schema_version": result.schema_version},
    )
    ours.append(target)
    for old in sorted(ours)[: -settings.keep]:
        old.unlink(missing_ok=True)
        log.info("删除过期备份 %s（保留最近 %s 份）", old.name, settings.keep)
    return target.name


def prune_audit(db: Database, config: Config, now: datetime) -> dict[str, Any]:
    settings = audit_settings(config)
    with db.engine.begin() as conn:
        return prune(
            conn, settings, now, entry_for(DAEMON_CALLER, "audit.prune", now, door="daemon")
        )


def upkeep(db: Database, config: Config, now: datetime) -> list[str]:
    """One round: heartbeat first (so a failing backup does not look like a dead daemon)."""
    beat(db, now)
    done: list[str] = []
    for step in (watch, scheduled_backup, prune_audit):
        try:
            out = step(db, config, now)
        except DubanError as exc:
            log.error("%s 未完成：%s", step.__name__, exc.message)
            done.append(f"{step.__name__}: {exc.message}")
            continue
        except Exception:  # noqa: BLE001 - one failing step must not stop the others or the daemon
            log.exception("%s 出错（下一分钟重试）", step.__name__)
            done.append(f"{step.__name__}: 出错")
            continue
        if out and (not isinstance(out, dict) or out.get("pruned")):
            done.append(f"{step.__name__}: {out}")
    return done


def check_upkeep_settings(config: Config) -> None:
    """Refuse wrong ``[backup]`` / ``[audit]`` / ``[health]`` values at the daemon's start."""
    from workflow.audit.reading import audit_settings as audit_check
    from workflow.operations.health import heartbeat_minutes

    backup_settings(config)
    audit_check(config)
    heartbeat_minutes(config)

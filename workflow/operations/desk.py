"""The operations a person runs on the server machine (``duban backup``, ``restore``,
``status``, ``db upgrade``): one function each, recorded in the audit log as the desk's user."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from workflow.audit.record import record
from workflow.config import Config, load_config
from workflow.dates import clock
from workflow.operations import backup as backups
from workflow.operations.health import readiness
from workflow.storage.db import Database
from workflow.storage.schema import SCHEMA_HEAD

DESK = SimpleNamespace(role="system", name="本机命令行")


def _setup(config: Config | None, now: datetime | None) -> tuple[Config, Database, datetime]:
    config = config or load_config()
    return config, Database(config.database_url), now or clock.now()


def take_backup(
    file: str, config: Config | None = None, now: datetime | None = None
) -> dict[str, Any]:
    config, db, now = _setup(config, now)
    target = Path(file)
    result = backups.backup(db, config, target)  # a failure changes nothing
    if db.current_revision() == SCHEMA_HEAD:
        record(
            db,
            DESK,
            "backup",
            now,
            door="cli",
            target=target.name,
            detail={"size": result.size, "schema_version": result.schema_version},
        )
    return {**result.to_dict(), "database": db.safe_url}


def restore_backup(
    file: str, force: bool = False, config: Config | None = None, now: datetime | None = None
) -> dict[str, Any]:
    config, db, now = _setup(config, now)
    result = backups.restore(db, config, Path(file), force=force)
    db = Database(config.database_url)
    if db.current_revision() == SCHEMA_HEAD:  # an older backup: recorded after db upgrade
        record(
            db,
            DESK,
            "restore",
            now,
            door="cli",
            target=Path(file).name,
            detail={"forced": force, "schema_version": result["schema_version"]},
        )
    result["upgrade_needed"] = result["schema_version"] != SCHEMA_HEAD
    return result


def status(config: Config | None = None, now: datetime | None = None) -> dict[str, Any]:
    config, db, now = _setup(config, now)
    report = readiness(db, config, now)
    report["database"] = db.safe_url
    return report


def pending_migrations(db: Database) -> list[dict[str, str]]:
    """The migrations an upgrade would run, oldest first: id and first line of its docstring."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db._alembic_config())
    current = db.current_revision()
    revisions = list(script.iterate_revisions("head", current or "base"))
    revisions = [r for r in revisions if r.revision != current]
    return [
        {"revision": r.revision, "what": (r.doc or "").strip().splitlines()[0] if r.doc else ""}
        for r in reversed(revisions)
    ]


def upgrade(
    *,
    backup_to: str | None = None,
    no_backup: bool = False,
    dry_run: bool = False,
    config: Config | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Say what will change; back up first (into ``backup_to`` or the data folder) unless told
    not to; then migrate. ``dry_run`` only says."""
    config, db, now = _setup(config, now)
    steps = pending_migrations(db)
    out: dict[str, Any] = {
        "database": db.safe_url,
        "from": db.current_revision(),
        "pending": steps,
        "backup": None,
        "to": db.current_revision(),
    }
    if dry_run or not steps:
        return out
    if not no_backup and backups.holds_duban(db):
        stamp = now.astimezone(clock.SHANGHAI).strftime("%Y%m%d-%H%M%S")
        suffix = "db" if db.dialect == "sqlite" else "dump"
        target = (
            Path(backup_to)
            if backup_to
            else config.data_dir / f"duban-before-upgrade-{stamp}.{suffix}"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        out["backup"] = backups.backup(db, config, target).file
    _, after = db.upgrade()
    out["to"] = after
    if after == SCHEMA_HEAD:
        record(
            db,
            DESK,
            "db.upgrade",
            now,
            door="cli",
            target=f"{out['from'] or '空'} → {after}",
            detail={"backup": Path(out["backup"]).name if out["backup"] else None},
        )
    return out

"""Liveness, readiness and the daemon's heartbeat, for the office's monitoring.

``readiness`` answers: the database is reachable, its schema is the one this code expects, the
daemon's heartbeat is younger than ``[health] heartbeat_minutes`` (default 10), and — for
information, not for the verdict — the outbox backlog and its oldest failure. Nothing secret:
the database is named by its dialect and its URL without password.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from workflow.config import Config
from workflow.dates.clock import SHANGHAI
from workflow.errors import ConfigError
from workflow.storage.db import Database
from workflow.storage.db_reasons import database_reason
from workflow.storage.models import Heartbeat, Notification
from workflow.storage.schema import SCHEMA_HEAD

DAEMON = "daemon"
BEATS = Heartbeat.__table__
OUTBOX = Notification.__table__


def heartbeat_minutes(config: Config) -> int:
    raw = config.section("health")
    value = raw.get("heartbeat_minutes", 10)
    if not isinstance(value, int) or isinstance(value, bool) or value < 2:
        raise ConfigError(
            f"配置文件 {config.config_file} 的 [health] heartbeat_minutes 应为不小于 2 的整数"
        )
    return value


def beat(db: Database, now: datetime, name: str = DAEMON) -> None:
    """Write the heartbeat (one row per name, replaced)."""
    values = {"beat_at": now, "pid": os.getpid(), "host": socket.gethostname()[:200]}
    with db.engine.begin() as conn:
        done = conn.execute(BEATS.update().where(BEATS.c.name == name).values(**values))
        if done.rowcount == 0:
            conn.execute(BEATS.insert().values(name=name, **values))


def _local(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def liveness() -> dict[str, Any]:
    return {"status": "ok"}


def readiness(db: Database, config: Config, now: datetime) -> dict[str, Any]:
    """The readiness report; ``ready`` is False when any check fails (the door answers 503)."""
    checks: dict[str, Any] = {}
    report: dict[str, Any] = {"ready": False, "checked_at": _local(now), "checks": checks}
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            checks["database"] = {"ok": True, "dialect": db.dialect}
            has_version = sa.inspect(conn).has_table("alembic_version")
            current = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                if has_version
                else None
            )
            checks["schema"] = {
                "ok": current == SCHEMA_HEAD,
                "current": current,
                "expected": SCHEMA_HEAD,
            }
            if current != SCHEMA_HEAD:
                return report
            checks["daemon"] = _daemon(conn, config, now)
            checks["outbox"] = _outbox(conn, now)
    except sa.exc.SQLAlchemyError as exc:
        checks["database"] = {"ok": False, "dialect": db.dialect, "reason": database_reason(exc)}
        return report
    report["ready"] = all(c.get("ok", True) for c in checks.values())
    return report


def _daemon(conn: sa.Connection, config: Config, now: datetime) -> dict[str, Any]:
    limit = heartbeat_minutes(config)
    row = conn.execute(sa.select(BEATS).where(BEATS.c.name == DAEMON)).mappings().first()
    if row is None:
        return {
            "ok": False,
            "last_beat": None,
            "limit_minutes": limit,
            "reason": "守护进程从未运行",
        }
    age = (now - row["beat_at"]).total_seconds() / 60
    out = {
        "ok": age <= limit,
        "last_beat": _local(row["beat_at"]),
        "age_minutes": round(age, 1),
        "limit_minutes": limit,
        "host": row["host"],
        "pid": row["pid"],
    }
    if age > limit:
        out["reason"] = f"守护进程心跳已 {age:.0f} 分钟未更新（上限 {limit} 分钟）"
    return out


def _outbox(conn: sa.Connection, now: datetime) -> dict[str, Any]:
    c = OUTBOX.c
    pending, oldest_pending = conn.execute(
        sa.select(sa.func.count(), sa.func.min(c.created_at)).where(c.state == "pending")
    ).one()
    failed, oldest_failed = conn.execute(
        sa.select(sa.func.count(), sa.func.min(c.created_at)).where(c.state == "failed")
    ).one()
    retrying = conn.execute(
        sa.select(sa.func.count()).where(c.state == "pending", c.last_error.is_not(None))
    ).scalar_one()
    return {
        "pending": pending,
        "retrying": retrying,
        "oldest_pending": _local(oldest_pending),
        "failed": failed,
        "oldest_failure": _local(oldest_failed),
    }

"""Shared helpers for the outbox tests: an office config pointing at a test SMTP server, rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from workflow.config import Config, load_config
from workflow.outbox.queue import enqueue
from workflow.storage.models import Notification

DOMAIN = "office.example.cn"
SENDER = "江门市政务公开办公室 <duban@office.example.cn>"


def write_config(tmp_path: Path, text: str, **env: str) -> Config:
    """``duban.toml`` with ``text`` in a fresh config dir; ``env`` as the process environment."""
    config_dir = tmp_path / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "duban.toml").write_text(text, encoding="utf-8")
    base = {"DUBAN_CONFIG_DIR": str(config_dir), "DUBAN_DATA_DIR": str(tmp_path / "data")}
    return load_config({**base, **env})


def smtp_toml(server, *, concurrency: int = 4, extra: str = "", notify: str = "") -> str:
    return (
        '[office]\nname = "江门市政务公开办公室"\n\n'
        f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
        f'from = "{SENDER}"\ntimeout = 10\nconcurrency = {concurrency}\n'
        f'local_hostname = "duban.test"\n{extra}\n'
        f"[notify]\n{notify}\n"
    )


def reminder_context(i: int, due: str = "2026-03-05") -> dict[str, Any]:
    """A context as the daily check stores it (ISO dates, JSON-safe)."""
    return {
        "office": "江门市政务公开办公室",
        "unit": f"政法科{i}",
        "recipient": f"政法科{i}",
        "as_of": "2026-03-02",
        "items": [
            {
                "assignment_id": i,
                "task_title": f"第{i}项：推进政务公开标准化规范化",
                "section": "一、深化重点领域信息公开",
                "due": due,
                "working_days": 3,
                "state_label": "办理中",
                "last_report": "已完成专栏建设，正在补充办事指南。",
                "last_report_at": "2026-02-27",
            }
        ],
        "covers": [f"r:{i}:{due}:3"],
    }


def queue(
    db,
    now: datetime,
    n: int,
    *,
    start: int = 0,
    recipients=None,
    context=None,
    kind: str = "reminder",
) -> list[str]:
    """Queue ``n`` reminders (keys returned in order)."""
    keys = []
    with db.session() as session:
        for i in range(start, start + n):
            key = f"{kind}:u{i}:2026-03-02:{i:05d}"
            enqueue(
                session,
                key=key,
                kind=kind,
                recipients=list(recipients(i)) if recipients else [f"unit{i}@units.example.cn"],
                recipient_name=f"政法科{i}",
                context=context(i) if context else reminder_context(i),
                now=now,
                as_of=date(2026, 3, 2),
            )
            keys.append(key)
    return keys


def rows(db) -> dict[str, Notification]:
    with db.session() as session:
        return {n.key: n for n in session.exec(select(Notification).order_by(Notification.id))}


def senders_gone(db, timeout: float = 30) -> None:
    """Wait until no sender holds the senders' lock: PostgreSQL ends a killed client's session
    (and drops its locks) a moment after the process; on SQLite the kernel drops the flock
    with the process. A bounded poll, not a timing."""
    import time

    import sqlalchemy as sa

    if db.dialect != "postgresql":
        return
    query = sa.text(
        "select count(*) from pg_locks where locktype = 'advisory' and granted"
        " and pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + timeout
    while True:
        with db.engine.connect() as conn:
            if conn.execute(query).scalar_one() == 0:
                return
        if time.monotonic() > deadline:
            raise AssertionError("a killed sender's PostgreSQL session did not end")
        time.sleep(0.05)

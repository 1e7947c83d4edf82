"""The outbox's operations as the doors call them (see ``workflow/calls/table.py``): preview,
send, list, retry, the group robots' test message, and the mail settings. Office only, decided
here or in the functions called."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.chasing.items import KIND_LABELS
from workflow.config import Config
from workflow.dates.clock import local_date, parse_date
from workflow.directory.roles import Caller, require_role
from workflow.errors import ConfigError, InvalidInput
from workflow.outbox.delivery import deliver_pending
from workflow.outbox.preview import preview_notification
from workflow.outbox.queue import list_notifications, retry_all_failed, retry_notification
from workflow.outbox.robots import send_test_robots
from workflow.outbox.settings import describe_smtp, notify_settings, send_test_mail, smtp_settings
from workflow.storage.db import Database


def notify_preview(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    kind: str,
    assignment_id: int,
    as_of: str | None = None,
    channel: str = "email",
) -> dict[str, Any]:
    """A ``kind`` mail about ``assignment_id`` (or, for a robot ``channel`` — wecom, dingtalk,
    feishu — the markdown it would post), as of ``as_of`` (default today); nothing is sent."""
    day = parse_date(as_of, "--as-of 日期") if as_of else local_date(now)
    view = preview_notification(session, caller, config, kind, assignment_id, day, channel)
    session.rollback()  # a preview writes nothing
    return view


def notify_send(
    db: Database, caller: Caller, config: Config, now: datetime, limit: int | None = None,
    retry_waiting: bool = False, progress: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """Deliver what is due now (``retry_waiting``: rows waiting to retry too); each result is
    recorded in its own transaction. ``{"result": counts, errors and the wrong robots'
    messages (``robot_blocked``), "summary": one line without those messages}``."""
    require_role(caller, "office", "发送通知")
    summary = deliver_pending(
        db, config, now, limit=limit, progress=progress, retry_waiting=retry_waiting
    )
    return {"result": summary.to_dict(), "summary": summary.summary(robots=False)}


def notify_list(
    session: Session,
    caller: Caller,
    state: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """``{"rows": the notifications, "kind_labels": kind → Chinese name}``."""
    rows = list_notifications(session, caller, state=state, kind=kind, limit=limit)
    return {"rows": rows, "kind_labels": dict(KIND_LABELS)}


def notify_retry(
    session: Session,
    caller: Caller,
    now: datetime,
    notification_id: int | None = None,
    all_failed: bool = False,
) -> dict[str, Any]:
    if (notification_id is None) == (not all_failed):
        raise InvalidInput("请指定一个通知编号，或使用 --all-failed（二者选一）")
    if all_failed:
        ids = retry_all_failed(session, caller, now)
    else:
        ids = [retry_notification(session, caller, notification_id, now).id]
    return {"requeued": ids}


def notify_test_robot(
    session: Session, caller: Caller, config: Config, now: datetime, name: str
) -> list[dict[str, Any]]:
    """Post the test message to every group robot of the unit (or leader) ``name``."""
    return send_test_robots(session, caller, config, name, now)


def mail_test(caller: Caller, config: Config, now: datetime, address: str) -> dict[str, Any]:
    require_role(caller, "office", "发送测试邮件")
    settings, message_id = send_test_mail(config, address, now)
    return {
        "address": address,
        "host": settings.host,
        "port": settings.port,
        "tls": settings.tls,
        "sender": settings.sender,
        "message_id": message_id,
    }


def mail_settings(caller: Caller, config: Config) -> dict[str, Any]:
    """The delivery and SMTP settings in effect (never the password)."""
    require_role(caller, "office", "查看邮件设置")
    notify_cfg = notify_settings(config)
    try:
        smtp = describe_smtp(smtp_settings(config))
    except ConfigError:
        if notify_cfg.delivery == "smtp":
            raise
        smtp = None  # a dry run does not need a server
    return {
        "delivery": notify_cfg.delivery,
        "directory": str(notify_cfg.directory) if notify_cfg.directory else None,
        "max_attempts": notify_cfg.max_attempts,
        "smtp": smtp,
    }

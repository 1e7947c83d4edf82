"""The outbox: notifications queued in the same transaction as the change that caused them.

``key`` is unique, so the same notification can never be queued twice (e.g.
``reminder:<assignment>:<due>:<offset>`` or ``digest:<leader>:<period>``). Nothing is deleted:
a row goes pending → sent, failed with the reason, or dropped (stale before it went out,
the reason in ``note``). :mod:`workflow.outbox.delivery` sends the
pending rows (claims: :mod:`workflow.outbox.claims`); this module queues them and is the office's view
(``duban notify list / retry``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.outbox.claims import aware
from workflow.storage.models import Notification

STATES = ("pending", "sent", "failed", "dropped")
STATE_LABELS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "dropped": "已作废"}
_N = Notification.__table__


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipients: list[str],
    recipient_name: str,
    context: dict[str, Any],
    now: datetime,
    assignment_id: int | None = None,
    level: int = 0,
    as_of: date | None = None,
) -> Notification | None:
    """Queue one notification unless one with ``key`` exists; returns the new row or None."""
    if session.exec(select(Notification.id).where(Notification.key == key)).first() is not None:
        return None
    row = Notification(
        key=key,
        kind=kind,
        recipients=list(recipients),
        recipient_name=recipient_name,
        context=context,
        assignment_id=assignment_id,
        level=level,
        as_of=as_of,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- the office's view


def notification_view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "key": n.key,
        "kind": n.kind,
        "channel": n.channel,
        "recipient": n.recipient_name,
        "recipients": list(n.recipients or []),
        "assignment_id": n.assignment_id,
        "level": n.level,
        "state": n.state,
        "state_label": STATE_LABELS.get(n.state, n.state),
        "attempts": n.attempts,
        "next_attempt_at": n.next_attempt_at,
        "last_error": n.last_error,
        "note": n.note,
        "message_id": n.message_id,
        "as_of": n.as_of,
        "created_at": n.created_at,
        "sent_at": n.sent_at,
    }


def list_notifications(
    session: Session,
    caller: Caller,
    *,
    state: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows, newest first, optionally of one state and kind."""
    from notifiers.render import KINDS

    require_role(caller, "office", "查看通知")
    query = select(Notification)
    if state is not None:
        if state not in STATES:
            raise InvalidInput(f"通知状态无效：{state}（可选 {' / '.join(STATES)}）")
        query = query.where(Notification.state == state)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"通知类型无效：{kind}（可选 {' / '.join(KINDS)}）")
        query = query.where(Notification.kind == kind)
    query = query.order_by(Notification.id.desc())  # type: ignore[union-attr]
    if limit is not None:
        query = query.limit(limit)
    return [notification_view(n) for n in session.exec(query).all()]


def state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(_N.c.state, sa.func.count()).group_by(_N.c.state))
    counts = {s: 0 for s in STATES}
    counts.update({state: count for state, count in rows})
    return counts


def retry_notification(
    session: Session, caller: Caller, notification_id: int, now: datetime
) -> Notification:
    """Put a failed notification back in the queue, due now, with a fresh retry budget."""
    require_role(caller, "office", "重试通知")
    row = session.get(Notification, notification_id)
    if row is None:
        raise NotFound(f"通知 #{notification_id} 不存在")
    if row.state != "failed":
        label = STATE_LABELS.get(row.state, row.state)
        raise Conflict(f"通知 #{notification_id} 的状态是“{label}”，只有发送失败的通知可以重试")
    _requeue(row, now)
    session.add(row)
    session.flush()
    return row


def retry_all_failed(session: Session, caller: Caller, now: datetime) -> list[int]:
    """Put every failed notification back in the queue (e.g. after fixing the SMTP password)."""
    require_role(caller, "office", "重试通知")
    rows = session.exec(
        select(Notification).where(Notification.state == "failed").order_by(Notification.id)  # type: ignore[arg-type]
    ).all()
    for row in rows:
        _requeue(row, now)
        session.add(row)
    session.flush()
    return [row.id for row in rows if row.id is not None]


def _requeue(row: Notification, now: datetime) -> None:
    row.state = "pending"
    row.attempts = 0
    row.next_attempt_at = aware(now)

"""Every decision reaches the unit it concerns: 退回, 延期批准 / 不批准, 核验通过.

When the office decides on a unit's assignment, the decision is queued in the outbox in the
same transaction as the history row that records it (kind ``decision``): one mail to the
unit's addresses and one post per group robot the unit has, each keyed by the history row
(``decision:u<unit>:h<history id>`` and ``…#<channel>``), so a decision is told exactly once
whatever door made it (page, CLI, API, bulk verification) and however often delivery retries.
The mail and the post link to the task's page when ``[server] url`` is set (the link is added
at delivery, from the configuration of that day).

``verified`` is queued like the others; ``[notify] on_verified = false`` drops it at delivery
(with the reason in the outbox's ``note``), so an office can turn it off without a restart of
every door. A unit with neither an address nor a robot gets nothing (its page still shows
the decision).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.dates.clock import local_date
from workflow.storage.models import Assignment, History, Notification, Robot, Task, Unit

KIND = "decision"
# lifecycle trigger / history action → the decision told
DECISIONS = {
    "return": "returned",
    "verify": "verified",
    "extension.approve": "extension_approved",
    "extension.refuse": "extension_refused",
}
OWNER = "_owner"  # as workflow.chasing.channels: whose robot a robot row goes to


def decision_key(unit_id: int, history_id: int) -> str:
    """The outbox key of a decision's mail (its robot posts add ``#<channel>``)."""
    return f"{KIND}:u{unit_id}:h{history_id}"


def queue_decision(
    session: Session,
    a: Assignment,
    history: History,
    now: datetime,
    *,
    requested_due: date | None = None,
    reason: str | None | bool = True,
) -> list[str]:
    """Queue the mail and robot posts telling ``a``'s unit of ``history`` (a decision row).

    ``reason``: what the mail gives as the office's reason (default: the history row's).
    Returns the keys queued (none when the unit has no address and no robot, or when this
    decision was queued before).
    """
    decision = DECISIONS[history.action]
    unit = session.get(Unit, a.unit_id)
    task = session.get(Task, a.task_id)
    if unit is None or task is None or history.id is None:
        return []
    context: dict[str, Any] = {
        "unit": unit.name,
        "recipient": unit.name,
        "as_of": local_date(now).isoformat(),
        "decision": decision,
        "assignment_id": a.id,
        "task_title": task.title,
        "due": a.due.isoformat(),
        "requested_due": requested_due.isoformat() if requested_due else None,
        "reason": history.reason if reason is True else reason,
        "decided_by": history.actor,
    }
    key = decision_key(unit.id, history.id)
    owner = f"u{unit.id}"
    rows = []
    emails = [e for e in (unit.emails or []) if e]
    if emails:
        rows.append((key, "email", emails, context))
    robots = session.execute(
        sa.select(Robot.__table__.c.kind)
        .where(Robot.__table__.c.owner == owner)
        .order_by(Robot.__table__.c.kind)
    ).scalars()
    for channel in robots:
        rows.append((f"{key}#{channel}", channel, [], {**context, OWNER: owner}))
    if not rows:
        return []
    n = Notification.__table__
    known = set(
        session.execute(sa.select(n.c.key).where(n.c.key.in_([r[0] for r in rows]))).scalars()
    )
    queued = []
    for row_key, channel, recipients, ctx in rows:
        if row_key in known:
            continue
        session.add(
            Notification(
                key=row_key,
                kind=KIND,
                channel=channel,
                recipients=list(recipients),
                recipient_name=unit.name,
                assignment_id=a.id,
                context=ctx,
                as_of=local_date(now),
                created_at=now,
                next_attempt_at=now,
            )
        )
        queued.append(row_key)
    session.flush()
    return queued

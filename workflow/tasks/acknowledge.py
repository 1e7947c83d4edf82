"""签收: a unit acknowledges that it has received a newly assigned task.

``duban task ack ASSIGNMENT``, the 签收 button on the assignment page and the link in its mails
(the page) all call :func:`acknowledge`. Only the unit itself signs for its task; signing twice
changes nothing (a second click on the mail's link is harmless). The time and the person are
kept on the assignment (``acknowledged_at`` / ``acknowledged_by``) and in the history
(``acknowledge``); the board lists what is not yet signed for, the ledger export has a 签收时间
column, and the daily check escalates a task still unsigned after ``[check] ack_within_days``
working days to the unit's leader (:mod:`workflow.chasing.acks`).

A task the unit has already started or reported counts as received: it is never "unsigned".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from states.machine import FINAL_STATES
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, PermissionDenied
from workflow.storage.models import Assignment
from workflow.tasks.assignments import get_assignment, note

UNSIGNED_STATES = ("assigned",)  # started, reported, overdue after a start: received


@dataclass(frozen=True)
class Acknowledged:
    assignment: Assignment
    already: bool  # it had been signed for before this call

    def to_dict(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "id": a.id,
            "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
            "acknowledged_by": a.acknowledged_by,
            "already": self.already,
        }


def acknowledge(
    session: Session, caller: Caller, assignment_id: int, now: datetime
) -> Acknowledged:
    """The unit signs for assignment ``assignment_id`` (once; again is a no-op)."""
    require_role(caller, "unit", "签收任务")
    a = get_assignment(session, assignment_id)
    if caller.unit_id != a.unit_id:
        raise PermissionDenied(f"任务 #{assignment_id} 不属于{caller.name}，不能签收")
    if a.acknowledged_at is not None:
        return Acknowledged(a, already=True)
    if a.state in FINAL_STATES:
        raise Conflict(f"任务 #{assignment_id} 已办结或已撤销，无需签收")
    a.acknowledged_at = now
    a.acknowledged_by = caller.name
    session.add(a)
    session.add(note(a, caller, "acknowledge", now))
    session.flush()
    return Acknowledged(a, already=False)


def unsigned_condition(table: Any) -> Any:
    """SQL: an assignment not signed for (and not started or reported either)."""
    return table.c.acknowledged_at.is_(None) & table.c.state.in_(UNSIGNED_STATES)

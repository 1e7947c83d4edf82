"""The one writer of history rows: who did what, when, from which address, and why.

Every change the history records (a transition, a note on an assignment, a unit or leader
edited, a ledger import, an appeal, a waiver) is built by :func:`history_row`, and most are
added by :func:`write_history`; nothing else constructs a :class:`workflow.storage.models.History`
(``tests/test_vocabulary.py`` checks it). It lives in the directory room because the caller
(:class:`workflow.directory.roles.Caller`) is the directory's, and every room that writes history
sits above it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.directory.roles import Caller
from workflow.storage.models import Assignment, History


def history_row(
    caller: Caller,
    action: str,
    at: datetime,
    *,
    assignment: Assignment | None = None,
    task_id: int | None = None,
    entity: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> History:
    """A history row for ``action`` by ``caller`` at ``at``, not yet added.

    ``assignment`` fills the assignment and task ids (and the entity, "assignment");
    ``entity`` names what else changed ("unit", "person", "task", "plan")."""
    return History(
        entity=entity or "assignment",
        assignment_id=assignment.id if assignment is not None else None,
        task_id=task_id if task_id is not None else (assignment.task_id if assignment else None),
        action=str(action),
        from_state=from_state,
        to_state=to_state,
        actor=caller.name,
        role=str(caller.role),
        address=caller.address,
        reason=reason,
        data=data,
        at=at,
    )


def write_history(
    session: Session, caller: Caller, action: str, at: datetime, **row: Any
) -> History:
    """Add the history row of :func:`history_row` to ``session`` (flushed with the change)."""
    history = history_row(caller, action, at, **row)
    session.add(history)
    return history

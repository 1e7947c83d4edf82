"""How urgent an open assignment is: working days left (negative = overdue) and its colour grade.

The grades are the mails' (:func:`notifiers.render.grade_for`): 红 overdue, 黄 due today or on
the next working day, 蓝 approaching. Reported, verified and cancelled assignments have neither.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from notifiers.render import GRADE_STYLE, grade_for
from workflow.directory.roles import Caller
from workflow.tasks.assignments import TaskFilter, list_assignments

OPEN_STATES = ("assigned", "in_progress", "overdue")


def urgency(state: str, due: date, as_of: date, calendar: Any) -> dict[str, Any]:
    """``working_days`` left (negative: working days overdue), ``grade`` and its Chinese label."""
    if state not in OPEN_STATES:
        return {"working_days": None, "grade": None, "grade_label": None}
    days = calendar.working_days_between(as_of, due)
    grade = grade_for(days)
    return {"working_days": days, "grade": grade, "grade_label": GRADE_STYLE[grade]["short"]}


def list_with_urgency(
    session: Session, caller: Caller, flt: TaskFilter, as_of: date, calendar: Any
) -> list[dict[str, Any]]:
    """:func:`list_assignments` (same permission rules), each row with its :func:`urgency`."""
    rows = list_assignments(session, caller, flt)
    for row in rows:
        row.update(urgency(row["state"], date.fromisoformat(row["due"]), as_of, calendar))
    return rows

"""The read path of ``duban task list``: SQLAlchemy Core only, no ORM, no models imported.

Listing 10,000 assignments must take well under half a second as a whole process (issue 18):
importing the ORM and SQLModel alone costs more than that, and building ORM objects for every
row ten times more than a Core select. So this module names the three tables it reads with
lightweight ``sa.table()`` constructs and returns plain dicts in the documented JSON shape.

Lateness is computed as of ``today``: an assignment still waiting (assigned / in progress) whose
due date has passed is listed as overdue even before the daily check has marked the row, so
``--overdue`` is right without waiting for the daemon. ``recorded_state`` keeps what the row says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from states import STATE_LABELS, STATES
from workflow.directory.roles import Caller
from workflow.errors import InvalidInput

# The states the lifecycle's ``expire`` leaves (checked against states/ by a test, so the
# lifecycle machine need not be built on this fast path).
EXPIRING = ("assigned", "in_progress")

# Chinese labels accepted wherever a state is asked for (``--state 已逾期``).
STATE_BY_LABEL = {label: state for state, label in STATE_LABELS.items()}

_assignment = sa.table(
    "assignment",
    sa.column("id", sa.Integer),
    sa.column("task_id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("role", sa.String),
    sa.column("period", sa.String),
    sa.column("state", sa.String),
    sa.column("due", sa.Date),
    sa.column("original_due", sa.Date),
    sa.column("due_provisional", sa.Boolean),
    sa.column("late", sa.Boolean),
    sa.column("version", sa.Integer),
)
_task = sa.table(
    "task",
    sa.column("id", sa.Integer),
    sa.column("plan_id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("section_path", sa.String),  # JSON text, decoded once per task below
    sa.column("number", sa.String),
)
_unit = sa.table("unit", sa.column("id", sa.Integer), sa.column("name", sa.String))


@dataclass
class TaskFilter:
    unit: str | None = None
    state: str | None = None
    overdue: bool = False
    due_before: date | None = None
    due_after: date | None = None
    plan_id: int | None = None


def parse_state(value: str) -> str:
    """A state key from its key or its Chinese label (已逾期 → overdue)."""
    text = value.strip()
    if text in STATES:
        return text
    if text in STATE_BY_LABEL:
        return STATE_BY_LABEL[text]
    choices = " / ".join(f"{s}（{STATE_LABELS[s]}）" for s in STATES)
    raise InvalidInput(f"未知状态：{value}（可选 {choices}）")


def effective_state(state: str, due: date, today: date) -> str:
    """The state as of ``today``: a waiting assignment past its due date is overdue."""
    return "overdue" if state in EXPIRING and due < today else state


def _is_overdue(today: date):
    a = _assignment.c
    return sa.or_(a.state == "overdue", sa.and_(a.state.in_(EXPIRING), a.due < today))


def _unit_id(conn: sa.Connection, name: str) -> int:
    """The unit's id: an exact name on the fast path, else the directory's full resolution."""
    found = conn.execute(sa.select(_unit.c.id).where(_unit.c.name == name.strip())).scalar()
    if found is not None:
        return found
    from sqlmodel import Session

    from workflow.directory.units import resolve_unit  # aliases, near matches, the error

    with Session(bind=conn) as session:
        return resolve_unit(session, name).id


def list_assignment_rows(
    conn: sa.Connection, caller: Caller, flt: TaskFilter, today: date
) -> list[dict[str, Any]]:
    """Assignments the caller may see, filtered, ordered by due date; lateness as of ``today``."""
    a, t, u = _assignment.c, _task.c, _unit.c
    query = sa.select(
        a.id,
        a.task_id,
        t.plan_id,
        u.name,
        a.role,
        t.title,
        t.section_path,
        t.number,
        a.period,
        a.state,
        a.due,
        a.original_due,
        a.late,
        a.due_provisional,
        a.version,
    ).select_from(_assignment.join(_task, t.id == a.task_id).join(_unit, u.id == a.unit_id))
    if caller.role == "unit":
        query = query.where(a.unit_id == caller.unit_id)
    if flt.unit:
        query = query.where(a.unit_id == _unit_id(conn, flt.unit))
    if flt.state:
        state = parse_state(flt.state)
        if state == "overdue":
            query = query.where(_is_overdue(today))
        elif state in EXPIRING:
            query = query.where(a.state == state, a.due >= today)
        else:
            query = query.where(a.state == state)
    if flt.overdue:
        query = query.where(_is_overdue(today))
    if flt.due_before:
        query = query.where(a.due <= flt.due_before)
    if flt.due_after:
        query = query.where(a.due >= flt.due_after)
    if flt.plan_id is not None:
        query = query.where(t.plan_id == flt.plan_id)
    query = query.order_by(a.due, a.id)
    labels = STATE_LABELS
    sections: dict[Any, str] = {}  # by JSON text (SQLite); PostgreSQL hands decoded lists
    out = []
    for (
        id_,
        task_id,
        plan_id,
        unit,
        role,
        title,
        section_path,
        number,
        period,
        recorded,
        due,
        original_due,
        late,
        provisional,
        version,
    ) in conn.execute(query).all():
        key = section_path if section_path is None or isinstance(section_path, str) else id_
        section = sections.get(key)
        if section is None:
            section = sections[key] = " / ".join(_json_list(section_path))
        state = "overdue" if recorded in EXPIRING and due < today else recorded
        out.append(
            {
                "id": id_,
                "task_id": task_id,
                "plan_id": plan_id,
                "unit": unit,
                "role": role,
                "title": title,
                "section": section,
                "number": number,
                "period": period,
                "state": state,
                "state_label": labels[state],
                "recorded_state": recorded,
                "due": due.isoformat(),
                "original_due": original_due.isoformat(),
                "late": bool(late),
                "provisional": bool(provisional),
                "version": version,
            }
        )
    return out


def _json_list(value: Any) -> list[str]:
    """A JSON list column read as text (SQLite) or already decoded (PostgreSQL's json)."""
    if value is None:
        return []
    if isinstance(value, str):
        return json.loads(value) or []
    return list(value)

"""The read path of ``duban task list``: one SQL text on a :class:`workflow.storage.reading.Reader`.

Listing 10,000 assignments must take well under half a second as a whole process, its JSON
0.3 s (issue 18): importing the ORM and SQLModel alone costs more than that, and SQLAlchemy
itself half of it. So this module writes its query as plain SQL that runs on sqlite3 directly
(the embedded database) or through SQLAlchemy's ``text()`` (PostgreSQL, a session's
connection), and returns plain dicts in the documented JSON shape.

Lateness is computed as of ``today``: an assignment still waiting (assigned / in progress) whose
due date has passed is listed as overdue even before the daily check has marked the row, so
``--overdue`` is right without waiting for the daemon. ``recorded_state`` keeps what the row says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from states import STATE_LABELS, STATES
from workflow.directory.roles import Caller
from workflow.errors import InvalidInput
from workflow.storage.reading import Page, Reader, iso, page_limit

# The states the lifecycle's ``expire`` leaves (checked against states/ by a test, so the
# lifecycle machine need not be built on this fast path).
EXPIRING = ("assigned", "in_progress")
_WAITING = "a.state IN (" + ", ".join(f"'{s}'" for s in EXPIRING) + ")"  # EXPIRING, as SQL

# Chinese labels accepted wherever a state is asked for (``--state 已逾期``).
STATE_BY_LABEL = {label: state for state, label in STATE_LABELS.items()}

_SELECT = f"""SELECT a.id, a.task_id, t.plan_id, u.name, a.role, t.title, t.section_path,
 t.number, a.period, a.state, CASE WHEN {_WAITING} AND a.due < :today THEN 1 ELSE 0 END,
 a.due, a.original_due, a.late, a.due_provisional, a.version
 FROM assignment a JOIN task t ON t.id = a.task_id JOIN unit u ON u.id = a.unit_id"""
_OVERDUE = f"(a.state = 'overdue' OR ({_WAITING} AND a.due < :today))"


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


def _unit_id(reader: Reader, name: str) -> int:
    """The unit's id: an exact name on the fast path, else the directory's full resolution."""
    found = reader.first("SELECT id FROM unit WHERE name = :name", name=name.strip())
    if found is not None:
        return found[0]
    from workflow.directory.units import resolve_unit  # aliases, near matches, the error

    with reader.session() as session:
        return resolve_unit(session, name).id


def _conditions(
    reader: Reader, caller: Caller, flt: TaskFilter, params: dict[str, Any]
) -> list[str]:
    """The WHERE clauses of ``flt`` for ``caller``; their values go into ``params``."""
    where = []
    if caller.role == "unit":
        where.append("a.unit_id = :caller_unit")
        params["caller_unit"] = caller.unit_id
    if flt.unit:
        where.append("a.unit_id = :unit_id")
        params["unit_id"] = _unit_id(reader, flt.unit)
    if flt.state:
        state = parse_state(flt.state)
        if state == "overdue":
            where.append(_OVERDUE)
        else:
            params["state"] = state
            where.append("a.state = :state" + (" AND a.due >= :today" if state in EXPIRING else ""))
    if flt.overdue:
        where.append(_OVERDUE)
    if flt.due_before:
        where.append("a.due <= :due_before")
        params["due_before"] = flt.due_before
    if flt.due_after:
        where.append("a.due >= :due_after")
        params["due_after"] = flt.due_after
    if flt.plan_id is not None:
        where.append("t.plan_id = :plan_id")
        params["plan_id"] = flt.plan_id
    return where


_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{1,10})$")


def parse_cursor(cursor: str) -> tuple[date, int]:
    """The (due, id) after which a page starts, from the ``next`` of the page before."""
    found = _CURSOR.match(cursor.strip()) if isinstance(cursor, str) else None
    try:
        return date.fromisoformat(found.group(1)), int(found.group(2))  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise InvalidInput(
            f"参数 cursor 无效：“{str(cursor)[:40]}”（应原样使用上一页给出的 next）"
        ) from None


def page_assignment_rows(
    reader: Reader,
    caller: Caller,
    flt: TaskFilter,
    today: date,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page:
    """One page of :func:`list_assignment_rows`: at most ``limit`` rows (default
    :data:`~workflow.storage.reading.DEFAULT_PAGE`) after ``cursor``, and the cursor of the next page.
    The order (due date, id) is a key: a page is found by an index range, not by an offset, and
    a row added or changed between two pages neither repeats nor hides another."""
    size = page_limit(limit)
    after = parse_cursor(cursor) if cursor else None
    rows = list_assignment_rows(reader, caller, flt, today, limit=size + 1, after=after)
    if len(rows) <= size:
        return Page(rows)
    rows = rows[:size]
    return Page(rows, next=f"{rows[-1]['due']}.{rows[-1]['id']}")


def list_assignment_rows(
    reader: Reader,
    caller: Caller,
    flt: TaskFilter,
    today: date,
    limit: int | None = None,
    after: tuple[date, int] | None = None,
) -> list[dict[str, Any]]:
    """Assignments the caller may see, filtered, ordered by due date; lateness as of ``today``
    (the first ``limit`` after the (due, id) ``after`` when given)."""
    params: dict[str, Any] = {"today": today}
    where = _conditions(reader, caller, flt, params)
    if after is not None:
        where.append("(a.due > :after_due OR (a.due = :after_due AND a.id > :after_id))")
        params["after_due"], params["after_id"] = after
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.due, a.id"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
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
        expired,
        due,
        original_due,
        late,
        provisional,
        version,
    ) in reader.rows(sql, **params):
        key = section_path if section_path is None or isinstance(section_path, str) else id_
        section = sections.get(key)
        if section is None:
            section = sections[key] = " / ".join(_json_list(section_path))
        state = "overdue" if expired else recorded
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
                "due": iso(due),
                "original_due": iso(original_due),
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

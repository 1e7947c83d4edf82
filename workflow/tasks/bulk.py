"""Many assignments at once: multi-row INSERTs for the rows and for their history, in batches
of :data:`BATCH` rows (an import of 93,000 assignments peaked at 434 MB when all their
parameters were built at once; 149 MB in batches).

The rows and history are exactly what :func:`workflow.tasks.assignments.create_assignment` writes
one by one (state assigned, version 1, a ``create`` history row with unit, role, due, period);
this path skips the ORM's per-object flush, which costs ~2 ms a row (an import of 10,000
assignments spent 15 s in it). Nothing is added to the session's identity map.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.directory.roles import Caller
from workflow.errors import InvalidInput
from workflow.storage.models import Assignment, History
from workflow.tasks.assignments import ROLES, date_rule


def insert_returning_ids(session: Session, table: sa.Table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` into ``table``; their new ids, in order.

    SQLite: multi-row ``INSERT … RETURNING``. PostgreSQL: the ids are taken from the table's
    sequence first, then the rows go in one pipelined executemany — psycopg rewrites the
    placeholders of every multi-row statement in Python (7 s for 10,000 rows), but parses a
    one-row statement once."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.execute(
                sa.text(
                    "select nextval(pg_get_serial_sequence(:t, 'id')) from generate_series(1, :n)"
                ),
                {"t": table.name, "n": len(rows)},
            ).scalars()
        )
        session.execute(sa.insert(table), [{**r, "id": i} for r, i in zip(rows, ids, strict=True)])
        return ids
    result = session.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [row[0] for row in result]


@dataclass(frozen=True)
class NewAssignment:
    task_id: int
    unit_id: int
    unit_name: str
    due: date
    role: str = "responsible"
    period: str = ""
    due_rule: str | None = None
    due_provisional: bool = False


BATCH = 5000  # rows per batch: a batch's parameters take a few MB


def insert_assignments(
    session: Session, items: Iterable[NewAssignment], *, actor: Caller, now: datetime
) -> list[int]:
    """Insert ``items`` and their ``create`` history rows; their ids, in order.

    Written in batches of :data:`BATCH` (rows, then their history), so memory stays that of one
    batch whatever the count; ``items`` may be a generator. A role no assignment can have is
    refused before its batch is written (the caller's transaction rolls back what went before)."""
    rest = iter(items)
    batch = list(islice(rest, BATCH))
    if not batch:
        return []
    _check_roles(batch)
    session.flush()  # pending ORM changes go first, in their order
    ids: list[int] = []
    while batch:
        ids += _insert_batch(session, batch, actor, now)
        batch = list(islice(rest, BATCH))
        _check_roles(batch)
    return ids


def _check_roles(items: list[NewAssignment]) -> None:
    for item in items:
        if item.role not in ROLES:
            raise InvalidInput(
                f"未知的单位角色：{item.role}（可选 lead / responsible / cooperating）"
            )


def _insert_batch(
    session: Session, items: list[NewAssignment], actor: Caller, now: datetime
) -> list[int]:
    table = Assignment.__table__
    rows = [
        {
            "task_id": a.task_id,
            "unit_id": a.unit_id,
            "role": a.role,
            "period": a.period,
            "state": "assigned",
            "due": a.due,
            "original_due": a.due,
            "due_rule": a.due_rule or date_rule(a.due),
            "due_provisional": a.due_provisional,
            "late": False,
            "overdue_since": None,
            "reported_at": None,
            "verified_at": None,
            "returned_count": 0,
            "version": 1,
            "created_at": now,
        }
        for a in items
    ]
    ids = insert_returning_ids(session, table, rows)
    history = [
        {
            "assignment_id": assignment_id,
            "task_id": a.task_id,
            "entity": "assignment",
            "action": "create",
            "from_state": None,
            "to_state": "assigned",
            "actor": actor.name,
            "role": actor.role,
            "address": getattr(actor, "address", None),
            "reason": None,
            "data": {
                "unit": a.unit_name,
                "role": a.role,
                "due": a.due.isoformat(),
                "period": a.period,
            },
            "at": now,
        }
        for assignment_id, a in zip(ids, items, strict=True)
    ]
    session.execute(sa.insert(History.__table__), history)
    return ids

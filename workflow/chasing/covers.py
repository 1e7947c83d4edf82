"""The check's set-based SQL: write the covers of what is due today, read them back, digests.

A cover (:class:`workflow.models.ChaseCover`) is one item told to one audience. Each selection of
"what is due" is one ``INSERT … SELECT`` into ``chasecover`` with the thresholds as due-date
cutoffs and a ``NOT EXISTS`` against the covers already written, restricted to the units whose
recipient has an address; the planner then reads the rows of this run back, streamed and ordered
by unit, to build the mails. Nothing here decides who is told what: :mod:`.planner` does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.chasing.items import OpenRow
from workflow.models import Assignment, ChaseCover, Task

A = Assignment.__table__
C = ChaseCover.__table__
T = Task.__table__
WAITING = ("assigned", "in_progress")


@dataclass(frozen=True)
class Selection:
    """One family of covers: ``what`` for waiting/overdue rows matching ``where``."""

    what: str | sa.ColumnElement[Any]
    where: Sequence[sa.ColumnElement[bool]]
    cover_due: sa.ColumnElement[Any] = A.c.due
    joins_task: bool = False


def next_run(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.coalesce(sa.func.max(C.c.run), 0))).scalar()) + 1


def _source(sel: Selection, units: Sequence[int] | None):
    what = sel.what if not isinstance(sel.what, str) else sa.literal(sel.what)
    covered = (
        sa.select(sa.literal(1))
        .select_from(C)
        .where(C.c.assignment_id == A.c.id, C.c.due == sel.cover_due, C.c.what == what)
        .exists()
    )
    where = [*sel.where, ~covered]
    if units is not None:
        where.append(A.c.unit_id.in_(units))
    source = A.join(T, T.c.id == A.c.task_id) if sel.joins_task else A
    return what, source, where


def cover(
    session: Session, sel: Selection, units: Sequence[int] | None, run: int, as_of: date
) -> None:
    """Write the covers of ``sel`` for ``units`` (None: every unit) as run ``run``."""
    if units is not None and not units:
        return
    what, source, where = _source(sel, units)
    session.execute(
        sa.insert(C).from_select(
            ["assignment_id", "due", "what", "run", "as_of"],
            sa.select(A.c.id, sel.cover_due, what, sa.literal(run), sa.literal(as_of, sa.Date))
            .select_from(source)
            .where(*where),
        )
    )


def units_left_out(session: Session, sel: Selection, units: Sequence[int]) -> list[int]:
    """Units with items due under ``sel`` that are not in ``units`` (no recipient: warned)."""
    what, source, where = _source(sel, None)
    where.append(A.c.unit_id.not_in(units))
    return list(
        session.execute(sa.select(A.c.unit_id).select_from(source).where(*where).distinct())
        .scalars()
        .all()
    )


def covered_now(session: Session, run: int, whats: Sequence[str]) -> Iterator[tuple[str, Any]]:
    """(what, row) of this run's covers in ``whats``, by unit, due date and id (streamed)."""
    rows = session.execute(
        sa.select(C.c.what, C.c.due.label("cover_due"), A.c.id, A.c.unit_id, A.c.task_id)
        .add_columns(A.c.state, A.c.due)
        .select_from(C.join(A, A.c.id == C.c.assignment_id))
        .where(C.c.run == run, C.c.what.in_(whats))
        .order_by(A.c.unit_id, A.c.due, A.c.id),
        execution_options={"yield_per": 5000},
    )
    for r in rows:
        yield r.what, r


def bounded_by_unit(
    session: Session, cutoff: date, first_day: date, limit: int
) -> dict[int, tuple[int, list[OpenRow]]]:
    """Unit id → (count, the first ``limit`` rows) of overdue rows due on or before ``cutoff``."""
    where = (A.c.state == "overdue", A.c.due <= cutoff, A.c.due >= first_day)
    ranked = (
        sa.select(
            A.c.id,
            A.c.unit_id,
            A.c.task_id,
            A.c.state,
            A.c.due,
            sa.func.row_number()
            .over(partition_by=A.c.unit_id, order_by=(A.c.due, A.c.id))
            .label("rn"),
            sa.func.count().over(partition_by=A.c.unit_id).label("n"),
        )
        .where(*where)
        .subquery()
    )
    out: dict[int, tuple[int, list[OpenRow]]] = {}
    for r in session.execute(
        sa.select(ranked).where(ranked.c.rn <= limit).order_by(ranked.c.unit_id, ranked.c.rn)
    ):
        count, rows = out.setdefault(r.unit_id, (r.n, []))
        rows.append(OpenRow(r.id, r.unit_id, r.task_id, r.state, r.due))
    return out


def out_of_range(session: Session, first_day: date, last_day: date, limit: int = 20) -> list[Any]:
    """Open rows whose due date the calendar cannot count (at most ``limit``) and their total."""
    where = (A.c.state.in_((*WAITING, "overdue")), sa.or_(A.c.due < first_day, A.c.due > last_day))
    return list(
        session.execute(
            sa.select(A.c.id, A.c.unit_id, A.c.due, sa.func.count().over().label("n"))
            .where(*where)
            .order_by(A.c.id)
            .limit(limit)
        )
    )

"""The check's set-based SQL: write the covers of what is due today, read them back, digests.

A cover (:class:`workflow.storage.models.ChaseCover`) is one item told to one audience. Each selection of
"what is due" is one ``INSERT … SELECT`` into ``chasecover`` with the thresholds as due-date
cutoffs, restricted to the units whose recipient has an address, that skips the covers already
written through ``ON CONFLICT DO NOTHING`` on the primary key (see :func:`_insert_new`); the planner then reads the rows of this run back, streamed and ordered
by unit, to build the mails. Nothing here decides who is told what: :mod:`.planner` does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.chasing.items import OpenRow
from workflow.storage.models import Assignment, ChaseCover, Task

A = Assignment.__table__
C = ChaseCover.__table__
T = Task.__table__
WAITING = ("assigned", "in_progress")
BITS = {"unit": 1, "leader": 2, "principal": 4}
# every combination of level bits -> the bits it sets, in BITS' order
_SET_BITS = {n: tuple(b for b in BITS.values() if n & b) for n in range(8)}
# SQLAlchemy keeps an INSERT's row count only when asked (it is -1 otherwise)
COUNTED = {"preserve_rowcount": True}


@dataclass(frozen=True)
class Level:
    """An escalation level: its bit, the due-date cutoff it has reached, the units it may tell
    (None: every unit)."""

    name: str
    cutoff: date
    units: Sequence[int] | None

    @property
    def bit(self) -> int:
        return BITS[self.name]


@dataclass(frozen=True)
class Selection:
    """One family of covers: ``what`` for waiting/overdue rows matching ``where``."""

    what: str | sa.ColumnElement[Any]
    where: Sequence[sa.ColumnElement[bool]]
    cover_due: sa.ColumnElement[Any] = A.c.due
    joins_task: bool = False


def next_run(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.coalesce(sa.func.max(C.c.run), 0))).scalar()) + 1


def _insert_new(session: Session, columns: Sequence[str], select: sa.Select) -> int:
    """``INSERT INTO chasecover (columns) select`` of the rows not covered yet; returns how many.

    The covers already written are skipped by ``ON CONFLICT DO NOTHING`` on the primary key
    (assignment, due, what), one index probe a row, rather than a ``NOT EXISTS`` against
    ``chasecover`` in the SELECT: that read the table being inserted into, and PostgreSQL,
    planning on a table still empty, picked a nested loop that re-read every row inserted so far
    (789,000 overdue at once: more than 11 minutes). The SELECT must have a WHERE clause (SQLite
    parses ``… FROM a ON CONFLICT`` as a join otherwise); every caller's has one."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(C)
        .from_select(list(columns), select)
        .on_conflict_do_nothing(index_elements=["assignment_id", "due", "what"])
    )
    return session.execute(statement, execution_options=COUNTED).rowcount


def _source(sel: Selection, units: Sequence[int] | None, skip_covered: bool = True):
    what = sel.what if not isinstance(sel.what, str) else sa.literal(sel.what)
    where = list(sel.where)
    if skip_covered:
        covered = (
            sa.select(sa.literal(1))
            .select_from(C)
            .where(C.c.assignment_id == A.c.id, C.c.due == sel.cover_due, C.c.what == what)
            .exists()
        )
        where.append(~covered)
    if units is not None:
        where.append(A.c.unit_id.in_(units))
    source = A.join(T, T.c.id == A.c.task_id) if sel.joins_task else A
    return what, source, where


def cover(
    session: Session, sel: Selection, units: Sequence[int] | None, run: int, as_of: date
) -> int:
    """Write the covers of ``sel`` for ``units`` (None: every unit) as run ``run``; returns how
    many."""
    if units is not None and not units:
        return 0
    what, source, where = _source(sel, units, skip_covered=False)
    return _insert_new(
        session,
        ["assignment_id", "due", "what", "run", "as_of", "unit_id", "task_id"],
        sa.select(A.c.id, sel.cover_due, what, sa.literal(run), sa.literal(as_of, sa.Date))
        .add_columns(A.c.unit_id, A.c.task_id)
        .select_from(source)
        .where(*where),
    )


def _bits(levels: Sequence[Level]) -> sa.ColumnElement[int]:
    """The level bits an overdue row has reached (for the units each level may tell)."""
    total: Any = sa.literal(0)
    for level in levels:
        cond = A.c.due <= level.cutoff
        if level.units is not None:
            cond = sa.and_(cond, A.c.unit_id.in_(level.units))
        total = total + sa.case((cond, level.bit), else_=0)
    return total


def cover_overdue(
    session: Session, levels: Sequence[Level], first_day: date, run: int, as_of: date
) -> int:
    """Every level an overdue row has reached and not yet told, in two statements: an INSERT
    for rows without an ``o`` cover (those with one conflict and are skipped), an UPDATE … FROM adding bits to the others; returns how
    many covers were written."""
    levels = [lv for lv in levels if lv.units is None or lv.units]
    if not levels:
        return 0
    bits = _bits(levels)
    loosest = max(lv.cutoff for lv in levels)
    where = (A.c.state == "overdue", A.c.due <= loosest, A.c.due >= first_day)
    inserted = _insert_new(
        session,
        [
            "assignment_id",
            "due",
            "what",
            "run",
            "as_of",
            "levels",
            "new_levels",
            "unit_id",
            "task_id",
        ],
        sa.select(
            A.c.id,
            A.c.due,
            sa.literal("o"),
            sa.literal(run),
            sa.literal(as_of, sa.Date),
            bits,
            bits,
            A.c.unit_id,
            A.c.task_id,
        ).where(*where, bits > 0),
    )
    full = sum(lv.bit for lv in levels)  # rows told at every level are not looked at again
    new = bits - bits.op("&")(C.c.levels)
    updated = session.execute(
        sa.update(C)
        .where(
            C.c.what == "o",
            C.c.run != run,
            C.c.levels.op("&")(full) != full,
            C.c.assignment_id == A.c.id,
            C.c.due == A.c.due,
            *where,
            new > 0,
        )
        .values(levels=C.c.levels.op("|")(bits), new_levels=new, run=run, as_of=as_of),
        execution_options={"synchronize_session": False},
    ).rowcount
    return inserted + updated


def overdue_left_out(
    session: Session, level: Level, first_day: date, units: Sequence[int]
) -> list[int]:
    """Units with overdue rows at ``level`` not told, outside ``units`` (no recipient)."""
    told = (
        sa.select(sa.literal(1))
        .select_from(C)
        .where(
            C.c.assignment_id == A.c.id,
            C.c.due == A.c.due,
            C.c.what == "o",
            C.c.levels.op("&")(level.bit) > 0,
        )
        .exists()
    )
    where = (
        A.c.state == "overdue",
        A.c.due <= level.cutoff,
        A.c.due >= first_day,
        A.c.unit_id.not_in(units),
        ~told,
    )
    return list(session.execute(sa.select(A.c.unit_id).where(*where).distinct()).scalars())


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
        sa.select(C.c.what, C.c.due.label("cover_due"), C.c.new_levels, A.c.id, A.c.unit_id)
        .add_columns(A.c.task_id)
        .add_columns(A.c.state, A.c.due)
        .select_from(C.join(A, A.c.id == C.c.assignment_id))
        .where(C.c.run == run, C.c.what.in_(whats))
        .order_by(A.c.unit_id, A.c.due, A.c.id),
        execution_options={"yield_per": 5000},
    )
    for r in rows:
        yield r[0], r


def overdue_told_now(
    session: Session, run: int, limit: int
) -> Iterator[tuple[int, dict[int, tuple[int, list[OpenRow]]]]]:
    """(unit id, {level bit: (items newly told at it, the first ``limit`` by due date)}) of
    this run's ``o`` covers, by unit: one window over the covers alone (each names its unit and
    task), partitioned by unit and by the set of bits newly told, so a big catch-up never
    brings its rows into Python (the first ``limit`` rows of a union are among the first
    ``limit`` of each of its parts). An ``o`` cover of this run was written from its overdue
    row in this transaction: its ``due`` is the row's, its state overdue."""
    window: dict[str, Any] = {
        "partition_by": (C.c.unit_id, C.c.new_levels),
        "order_by": (C.c.due, C.c.assignment_id),
    }
    ranked = (
        sa.select(
            C.c.new_levels.label("bits"),
            C.c.assignment_id.label("id"),
            C.c.unit_id,
            C.c.task_id,
            C.c.due,
            sa.func.row_number().over(**window).label("rn"),
            sa.func.count().over(**window, rows=(None, None)).label("n"),
        )
        .where(C.c.run == run, C.c.what == "o")
        .subquery()
    )
    rows = session.execute(
        sa.select(ranked)
        .where(ranked.c.rn <= limit)
        .order_by(ranked.c.unit_id, ranked.c.due, ranked.c.id)
    )
    for unit_id, unit_rows in groupby(rows, key=itemgetter(2)):
        told: dict[int, list[Any]] = {}  # bit -> [items newly told, the first ``limit``]
        for bits, id_, _, task_id, due, rn, n in unit_rows:
            row = None
            for bit in _SET_BITS[bits]:
                entry = told.get(bit)
                if entry is None:
                    entry = told[bit] = [0, []]
                if rn == 1:  # a part's first row: its count, once
                    entry[0] += n
                if len(entry[1]) < limit:
                    row = row or OpenRow(id_, unit_id, task_id, "overdue", due)
                    entry[1].append(row)
        yield unit_id, {bit: (n, listed) for bit, (n, listed) in told.items()}


def bounded_by_unit(
    session: Session, cutoff: date, inner: date | None, first_day: date, limit: int
) -> dict[int, tuple[int, int, list[OpenRow]]]:
    """Unit id → (count due on or before ``cutoff``, count on or before ``inner``, the first
    ``limit`` rows by due date) of overdue rows: one query for both digest levels (the earliest
    rows of the wider set are the earliest of the narrower one too)."""
    where = (A.c.state == "overdue", A.c.due <= cutoff, A.c.due >= first_day)
    window: dict[str, Any] = {"partition_by": A.c.unit_id, "order_by": (A.c.due, A.c.id)}
    inner_count: Any = sa.literal(0)
    if inner is not None:  # one window specification: the database sorts once
        inner_count = sa.func.sum(sa.case((A.c.due <= inner, 1), else_=0)).over(
            **window, rows=(None, None)
        )
    ranked = (
        sa.select(
            A.c.id,
            A.c.unit_id,
            A.c.task_id,
            A.c.state,
            A.c.due,
            sa.func.row_number().over(**window).label("rn"),
            sa.func.count().over(**window, rows=(None, None)).label("n"),
            inner_count.label("n_inner"),
        )
        .where(*where)
        .subquery()
    )
    out: dict[int, tuple[int, int, list[OpenRow]]] = {}
    rows = session.execute(
        sa.select(ranked).where(ranked.c.rn <= limit).order_by(ranked.c.unit_id, ranked.c.rn)
    )
    for unit_id, unit_rows in groupby(rows, key=itemgetter(1)):
        ranked_rows = list(unit_rows)
        n, n_inner = ranked_rows[0][6:8]  # the unit's counts, on each of its rows
        listed = [OpenRow(r[0], unit_id, r[2], r[3], r[4]) for r in ranked_rows]
        out[unit_id] = (n, int(n_inner or 0), listed)
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

"""Planner statistics after a bulk change (``workflow/chasing/statistics.py``): PostgreSQL
analyses the table inside the check's transaction, with the transaction's own rows; SQLite is
left alone; a small change costs nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workflow.chasing.statistics import BULK, after_bulk_change


def _rows_seen(session) -> float:
    """The planner's row count for ``chasecover`` (reltuples: -1 never analysed)."""
    if session.get_bind().dialect.name != "postgresql":
        return -1
    return session.execute(
        sa.text("select reltuples from pg_class where oid = 'chasecover'::regclass")
    ).scalar_one()


@pytest.mark.parametrize("changed, analysed", [(0, False), (BULK - 1, False), (BULK, True)])
def test_only_a_bulk_change_is_analysed_and_only_on_postgresql(db, changed, analysed):
    on_pg = db.dialect == "postgresql"
    with db.session() as s:
        s.execute(
            sa.text(
                "insert into chasecover"
                " (assignment_id, due, what, run, as_of, levels, new_levels, unit_id, task_id)"
                " values (1, '2026-03-02', 'o', 1, '2026-03-02', 1, 1, 1, 1)"
            )
        )
        after_bulk_change(s, "chasecover", changed)
        # the statistics include this transaction's own, uncommitted row
        assert (_rows_seen(s) == 1) == (analysed and on_pg)
        s.rollback()


def test_only_the_check_tables_may_be_named(db):
    with db.session() as s, pytest.raises(ValueError):
        after_bulk_change(s, "token; drop table unit", BULK)

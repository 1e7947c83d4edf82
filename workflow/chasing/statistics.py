"""Fresh planner statistics after a catch-up changed a large part of a table (PostgreSQL).

PostgreSQL plans each statement from table statistics that autovacuum refreshes minutes after a
commit. A catch-up turns 440,000 rows overdue and writes as many covers in one transaction;
the statements after it were planned on statistics that still said "no overdue rows, no covers
of this run": nested loops over 440,000 rows (3.6 s for one INSERT, 1.7 s for an UPDATE that
changed nothing), and the next day's check paid the same until autovacuum came by. ``ANALYZE``
inside the transaction samples the table with this transaction's own changes (~0.2 s at a
million rows) and, like them, is rolled back with a dry run.

SQLite plans from its own fixed heuristics plus ``sqlite_stat1`` only when asked; its plans for
these statements do not depend on the data, so nothing is done there.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Fewer changed rows than this cannot turn a plan around at the sizes that matter.
BULK = 10_000
TABLES = ("assignment", "chasecover")  # the only tables this module is asked to analyse


def after_bulk_change(session: Session, table: str, changed: int) -> None:
    """``ANALYZE table`` on PostgreSQL when ``changed`` rows is a bulk change; never fails the
    check (a database user that may not analyse keeps the old statistics)."""
    if table not in TABLES:
        raise ValueError(table)
    if changed < BULK or session.get_bind().dialect.name != "postgresql":
        return
    try:
        with session.begin_nested():
            session.execute(sa.text(f"ANALYZE {table}"))
    except sa.exc.DBAPIError:
        pass  # e.g. not the table's owner: the statements still run, only slower

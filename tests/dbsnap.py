"""Snapshot every table of a database, to prove that a refused command changed nothing."""

from __future__ import annotations

import sqlalchemy as sa

# the server's own bookkeeping, not the office's data: every request with a token is an attempt
# the failed-token throttle counts (a wrong one stays counted, by design)
BOOKKEEPING = {"failedguess"}
# The audit log records refused and failed commands by design (issue 30): the one change a
# refusal makes. Its own tests check those rows.
AUDIT_TABLES = {"auditevent", "auditseal", "heartbeat"}


def snapshot(url_or_engine) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    inspector = sa.inspect(engine)
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for name in sorted(set(inspector.get_table_names()) - BOOKKEEPING - AUDIT_TABLES):
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted(tuple(map(repr, r)) for r in rows)
    if isinstance(url_or_engine, str):
        engine.dispose()
    return out

"""The PostgreSQL-only locks (``workflow/pglocks.py``): advisory locks where the server has
them, the table-lock fallback where it does not (forced here); either way two transactions
take turns. PostgreSQL only: on SQLite duban takes the write lock instead."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import PG_URL

from workflow import pglocks

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only")


@pytest.fixture(params=["advisory", "fallback"])
def mode(request, db):
    url = db.engine.url.render_as_string(hide_password=True)
    pglocks._PROBED.pop(url, None)
    if request.param == "fallback":
        pglocks._PROBED[url] = False
    yield request.param
    pglocks._PROBED.pop(url, None)


def _refused(conn: sa.Connection, name: str) -> bool:
    conn.execute(sa.text("set local lock_timeout = '300ms'"))
    try:
        pglocks.xact_lock(conn, name)
    except sa.exc.OperationalError as exc:
        return "lock timeout" in str(exc)
    return False


def test_transaction_locks_take_turns_and_end_with_the_transaction(db, mode):
    with db.engine.connect() as first, db.engine.connect() as second:
        first.begin()
        pglocks.xact_lock(first, "duban-check")
        second.begin()
        assert _refused(second, "duban-check")
        second.rollback()
        first.commit()
        second.begin()
        pglocks.xact_lock(second, "duban-check")  # free again
        second.commit()


def test_readers_are_not_blocked_by_the_fallback(db, mode):
    with db.engine.connect() as first, db.engine.connect() as reader:
        first.begin()
        pglocks.xact_lock(first, "duban-import")
        reader.execute(sa.text("set lock_timeout = '300ms'"))
        assert reader.execute(sa.text("select count(*) from alembic_version")).scalar() == 1
        first.rollback()


def test_the_key_is_per_schema_and_name_and_needs_no_hashtext(db):
    with db.engine.connect() as conn:
        key = pglocks.lock_key(conn, "duban-daemon")
        assert (
            key == pglocks.lock_key(conn, "duban-daemon") != pglocks.lock_key(conn, "duban-check")
        )
        assert -(2**63) <= key < 2**63


def test_the_daemon_lock_refuses_a_second_daemon(db):
    from workflow.daemon.lock import DaemonLock
    from workflow.db import Database
    from workflow.errors import Conflict

    first = DaemonLock(db)
    assert first.acquire()
    try:
        other = Database(db.url)
        with pytest.raises(Conflict):
            DaemonLock(other).acquire()
        assert first.held()
        other.engine.dispose()
    finally:
        first.release()


def test_no_sql_outside_the_module_uses_hashtext_or_advisory_locks():
    """Only workflow/pglocks.py (and the outbox's claims, not yet moved: see the docs)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "workflow"
    users = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "pg_advisory" in p.read_text(encoding="utf-8")
        or "hashtext(" in p.read_text(encoding="utf-8")
    )
    assert users == ["outbox/claims.py", "pglocks.py"]

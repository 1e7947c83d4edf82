"""The PostgreSQL-only locks (``workflow/storage/pglocks.py``): advisory locks where the server has
them, the table-lock fallback where it does not (forced here); either way two transactions
take turns; the outbox senders' locks, and their fallback (liveness unknown: claims wait for
their lease). PostgreSQL only: on SQLite duban takes the write lock and ``flock`` instead."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import PG_URL, Cli
from outbox_helpers import DOMAIN, queue, smtp_toml, write_config
from smtp_server import SmtpServer

from notifiers.message import make_message_id
from workflow.storage import pglocks

pg_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only")


@pytest.fixture(params=["advisory", "fallback"])
def mode(request, db):
    url = db.engine.url.render_as_string(hide_password=True)
    pglocks._PROBED.pop(url, None)
    if request.param == "fallback":
        pglocks._PROBED[url] = False
    yield request.param
    pglocks._PROBED.pop(url, None)
    pglocks._WARNED.clear()


def _refused(conn: sa.Connection, name: str) -> bool:
    conn.execute(sa.text("set local lock_timeout = '300ms'"))
    try:
        pglocks.xact_lock(conn, name)
    except sa.exc.OperationalError as exc:
        return "lock timeout" in str(exc)
    return False


@pg_only
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


@pg_only
def test_readers_are_not_blocked_by_the_fallback(db, mode):
    with db.engine.connect() as first, db.engine.connect() as reader:
        first.begin()
        pglocks.xact_lock(first, "duban-import")
        reader.execute(sa.text("set lock_timeout = '300ms'"))
        assert reader.execute(sa.text("select count(*) from alembic_version")).scalar() == 1
        first.rollback()


@pg_only
def test_the_key_is_per_schema_and_name_and_needs_no_hashtext(db):
    with db.engine.connect() as conn:
        key = pglocks.lock_key(conn, "duban-daemon")
        assert (
            key == pglocks.lock_key(conn, "duban-daemon") != pglocks.lock_key(conn, "duban-check")
        )
        assert -(2**63) <= key < 2**63


@pg_only
def test_the_daemon_lock_refuses_a_second_daemon(db):
    from workflow.daemon.lock import DaemonLock
    from workflow.errors import Conflict
    from workflow.storage.db import Database

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


def test_no_module_but_pglocks_names_hashtext_pg_locks_or_advisory_functions():
    """Every PostgreSQL-only lock statement is in workflow/storage/pglocks.py: no other module of
    workflow/ names ``hashtext``, ``pg_locks`` or a ``pg_*advisory*`` function, in SQL or
    anywhere else."""
    root = Path(__file__).resolve().parent.parent / "workflow"
    pattern = re.compile(r"hashtext|pg_locks|pg_\w*advisory", re.IGNORECASE)
    users = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
    )
    assert users == ["storage/pglocks.py"]


SENDERS = "duban-senders"


@pg_only
def test_senders_locks_tell_a_live_sender_from_a_gone_one(db, mode):
    """The senders' shared lock and a sender's own lock by number, probed from another
    connection. Fallback: taking succeeds, the probes always say "held" (nobody is declared
    dead), the holder check says held."""
    advisory = mode == "advisory"
    with db.engine.connect() as sender, db.engine.connect() as checker:
        pglocks.session_lock_shared(sender, SENDERS)
        assert pglocks.try_session_lock(sender, SENDERS, 7)
        sender.commit()  # session locks outlive the transaction
        assert pglocks.holds_shared_lock(sender)
        with checker.begin():
            assert not pglocks.try_xact_lock(checker, SENDERS)  # a sender is alive
            assert not pglocks.try_xact_lock(checker, SENDERS, 7)  # sender 7 is alive
            assert pglocks.try_xact_lock(checker, SENDERS, 8) is advisory  # 8 is not
        with db.engine.connect() as other:  # a second sender shares the senders' lock
            pglocks.session_lock_shared(other, SENDERS)
            assert pglocks.try_session_lock(other, SENDERS, 7) is not advisory  # 7 is taken
            pglocks.unlock_all(other)
            other.commit()
        pglocks.unlock_all(sender)
        sender.commit()
        assert pglocks.holds_shared_lock(sender) is not advisory
        with checker.begin():
            assert pglocks.try_xact_lock(checker, SENDERS) is advisory  # no sender left
            assert pglocks.try_xact_lock(checker, SENDERS, 7) is advisory


@pg_only
def test_sender_keys_are_not_the_daemon_keys(db):
    """The two-key form (a sender's number) never meets the one-key form of another name."""
    with db.engine.connect() as first, db.engine.connect() as second:
        assert pglocks.try_session_lock(first, SENDERS, 1)
        assert pglocks.try_session_lock(second, SENDERS)  # the one-key lock is another lock
        assert pglocks.try_session_lock(second, SENDERS, 2)
        assert not pglocks.try_session_lock(second, SENDERS, 1)
        pglocks.unlock_all(first)
        pglocks.unlock_all(second)


@pg_only
def test_without_advisory_locks_notify_send_delivers_exactly_once(
    duban, office_db, now, tmp_path, caplog
):
    """The fallback forced: ``notify send`` (local and over HTTP) still sends every mail once.
    A sender that died holding claims cannot be told from a live one, so its rows wait for
    their lease (``claim_minutes``, 30) and go out once after it; a warning says so, once."""
    from workflow.outbox import claims
    from workflow.outbox.settings import notify_settings

    url = office_db.engine.url.render_as_string(hide_password=True)
    pglocks._PROBED[url] = False
    pglocks._WARNED.clear()
    try:
        with SmtpServer() as server:
            config = write_config(tmp_path, smtp_toml(server))  # the duban fixture's config dir
            keys = queue(office_db, now, 8)
            dead = claims.claim(office_db, now, 3, notify_settings(config), sender=4242)
            assert dead is not None and len(dead.rows) == 3  # and its process is gone
            with caplog.at_level(logging.WARNING, logger="duban.db"):
                first = duban.json("notify", "send")
                assert (first["sent"], first["reclaimed"]) == (5, 0)  # the dead claims wait
                assert len(server.message_ids()) == 5
                early = Cli({**duban.env, "DUBAN_NOW": "2026-03-02T09:29"})
                assert early.json("notify", "send")["sent"] == 0  # lease not over yet
                later = Cli({**duban.env, "DUBAN_NOW": "2026-03-02T09:31"})
                assert later.json("notify", "send")["sent"] == 3  # lease over: sent once
                assert later.json("notify", "send")["sent"] == 0
            mid = {make_message_id(k, DOMAIN) for k in keys}
            assert Counter(server.message_ids()) == Counter(dict.fromkeys(mid, 1))
        warned = [r for r in caplog.records if "claim_minutes" in r.getMessage()]
        assert len(warned) == 1
    finally:
        pglocks._PROBED.pop(url, None)
        pglocks._WARNED.clear()

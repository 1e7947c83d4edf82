"""Every PostgreSQL-only lock duban takes goes through here (信创 databases, issue 30).

duban serialises a few things on PostgreSQL with advisory locks: one daemon per database and
schema (a session lock), one daily check and one import at a time (transaction locks). Advisory
locks, ``pg_locks`` and ``hashtext`` are PostgreSQL extensions; PostgreSQL-compatible
databases (KingbaseES in PostgreSQL mode, openGauss) are believed to have the first two, but
that was not tested here. So:

* the lock's key is computed here, in Python (SHA-256 of the name, the database and the
  schema, as a signed 64-bit integer): ``hashtext`` is not used;
* :func:`has_advisory_locks` probes once per engine whether ``pg_try_advisory_xact_lock``
  exists; where it does not, the **fallback** for transaction locks is
  ``LOCK TABLE alembic_version IN SHARE ROW EXCLUSIVE MODE`` — standard PostgreSQL SQL, a mode
  that conflicts with itself and not with readers, so checks and imports still take turns
  (with each other too: coarser, still correct); the daemon's session lock falls back to
  "not enforced" with a warning in the log (run one daemon; the docs say so);
* the outbox's senders (:mod:`workflow.outbox.senders`) hold a shared session lock each, plus
  an exclusive one of their own named by their number (the two-key form: the name's key cut
  to 32 bits, and the number), and probe others' locks without waiting to tell which senders
  died. **Fallback**: senders cannot see each other's liveness. Taking a lock then succeeds
  without locking (:func:`session_lock_shared`, :func:`try_session_lock`, and
  :func:`holds_shared_lock` says True), while the probes that would declare a sender dead
  (:func:`try_xact_lock`) answer False, "held": no claim is released on a guess, and a dead
  sender's claims are sent again only when their lease (``claim_minutes``) expires — the path
  SQLite takes without ``flock``. A warning is logged once.

Tested on PostgreSQL 15 only (both paths: the fallback is forced in tests/test_pglocks.py).
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa

log = logging.getLogger("duban.db")
_PROBED: dict[str, bool] = {}
_WARNED: set[tuple[str, str]] = set()
FALLBACK_TABLE = "alembic_version"


def lock_key(conn: sa.Connection, name: str) -> int:
    """A stable signed 64-bit key for ``name`` in this database and schema."""
    where = conn.execute(sa.text("select current_database(), current_schema()")).one()
    digest = hashlib.sha256(f"{name}\x00{where[0]}\x00{where[1]}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def has_advisory_locks(conn: sa.Connection) -> bool:
    """Does this server have PostgreSQL's advisory locks? Probed once per database URL."""
    url = conn.engine.url.render_as_string(hide_password=True)
    if url not in _PROBED:
        try:  # on a connection of its own: a failed probe must not spoil the caller's transaction
            with conn.engine.connect() as probe:
                probe.execute(sa.text("select pg_try_advisory_xact_lock(0)"))
            _PROBED[url] = True
        except sa.exc.ProgrammingError:  # undefined function
            log.warning("数据库不支持 advisory lock，改用表锁（%s）", FALLBACK_TABLE)
            _PROBED[url] = False
    return _PROBED[url]


def xact_lock(conn: sa.Connection, name: str) -> None:
    """Wait for the lock ``name``; held until this transaction ends."""
    if has_advisory_locks(conn):
        conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": lock_key(conn, name)})
    else:
        conn.execute(sa.text(f"LOCK TABLE {FALLBACK_TABLE} IN SHARE ROW EXCLUSIVE MODE"))


def _keys(conn: sa.Connection, name: str, n: int | None) -> tuple[str, dict[str, int]]:
    """The argument list and values of ``name``'s lock: one 64-bit key, or with ``n`` the
    two-key form (the name's key cut to a signed 32-bit integer, and ``n``)."""
    key = lock_key(conn, name)
    if n is None:
        return ":k", {"k": key}
    return "cast(:k as integer), cast(:n as integer)", {"k": (key & 0xFFFFFFFF) - 2**31, "n": n}


def _warn_senders_once(conn: sa.Connection) -> None:
    url = conn.engine.url.render_as_string(hide_password=True)
    if (url, "senders") not in _WARNED:
        _WARNED.add((url, "senders"))
        log.warning(
            "数据库不支持 advisory lock：无法判断发送进程是否存活，"
            "已认领的通知要等认领期限（claim_minutes）过后才会重发"
        )


def try_session_lock(conn: sa.Connection, name: str, n: int | None = None) -> bool:
    """Take the exclusive session lock ``name`` (or ``name``'s number ``n``) without waiting;
    held until released or disconnected. Fallback: True, not enforced (a warning)."""
    if not has_advisory_locks(conn):
        if n is None:
            log.warning("数据库不支持 advisory lock：无法保证只运行一个守护进程，请自行确保")
        else:
            _warn_senders_once(conn)
        return True
    args, values = _keys(conn, name, n)
    return bool(conn.execute(sa.text(f"select pg_try_advisory_lock({args})"), values).scalar())


def session_lock_shared(conn: sa.Connection, name: str) -> None:
    """Wait for the session lock ``name`` in shared mode (held until released or
    disconnected; any number of holders). Fallback: nothing is locked (a warning, once)."""
    if not has_advisory_locks(conn):
        _warn_senders_once(conn)
        return
    args, values = _keys(conn, name, None)
    conn.execute(sa.text(f"select pg_advisory_lock_shared({args})"), values)


def try_xact_lock(conn: sa.Connection, name: str, n: int | None = None) -> bool:
    """Take the exclusive lock ``name`` (or ``name``'s number ``n``) until this transaction
    ends, without waiting: True when nobody held it, i.e. whoever held it is gone. Fallback:
    False — it cannot be told, so the caller treats the holder as alive."""
    if not has_advisory_locks(conn):
        _warn_senders_once(conn)
        return False
    args, values = _keys(conn, name, n)
    return bool(conn.execute(sa.text(f"select pg_try_advisory_xact_lock({args})"), values).scalar())


def holds_shared_lock(conn: sa.Connection) -> bool:
    """Does this connection still hold a shared advisory lock (``pg_locks``)? Raises the
    driver's error when the connection is gone. Fallback: True."""
    if not has_advisory_locks(conn):
        return True
    return bool(
        conn.execute(
            sa.text(
                "select exists(select 1 from pg_locks where locktype = 'advisory'"
                " and mode = 'ShareLock' and pid = pg_backend_pid() and granted)"
            )
        ).scalar()
    )


def unlock_all(conn: sa.Connection) -> None:
    """Release every session lock of this connection (no-op in the fallback)."""
    if has_advisory_locks(conn):
        conn.execute(sa.text("select pg_advisory_unlock_all()"))


def holds_session_lock(conn: sa.Connection) -> bool:
    """Does this connection still hold an advisory lock (``pg_locks``)?"""
    if not has_advisory_locks(conn):
        return True
    return bool(
        conn.execute(
            sa.text(
                "select exists(select 1 from pg_locks where locktype = 'advisory'"
                " and pid = pg_backend_pid() and granted)"
            )
        ).scalar()
    )


def session_unlock(conn: sa.Connection, name: str) -> None:
    if has_advisory_locks(conn):
        conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": lock_key(conn, name)})

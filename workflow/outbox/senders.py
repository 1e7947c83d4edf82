"""Which senders are alive, so that a dead one's claims are sent again at once.

A claim's token (``next_attempt_at``) carries its sender's number in its microseconds
(1 … 999,999; every other ``next_attempt_at`` the outbox writes is on a whole second). While a
sender delivers it holds two locks that the operating system or the database server drops
when the process dies (``kill -9`` included):

* the *senders' lock*, shared by every sender (PostgreSQL: a shared advisory session lock on
  the sender's own connection, across machines; SQLite: ``flock(LOCK_SH)`` on
  ``<database>.senders.lock``);
* its *own lock*, exclusive, named by its number (PostgreSQL: an advisory session lock keyed
  by the number, on the same connection; SQLite: ``flock(LOCK_EX)`` on
  ``<database>.senders/<number>.lock``, a file the sender deletes when it finishes).

Every PostgreSQL lock statement is in :mod:`workflow.storage.pglocks`; on a PostgreSQL-compatible
server without advisory locks senders cannot tell each other's liveness, and dead senders'
claims wait for their lease, as without ``flock`` (see that module).

:func:`release_stale_claims` runs before every delivery run (the daemon's and ``duban notify
send``'s). If it gets the senders' lock exclusively, no sender is alive and every outstanding
claim is released. Otherwise, for each sender number found in claims it tries that sender's
own lock without waiting: got it (or, on SQLite, no such file), that sender is gone, and its
claims — only its — are due again at once. A live sender's claims are never touched; a
sender's session that PostgreSQL has not yet ended (a moment after the kill) still counts as
alive, and a claim whose sender cannot be told (no ``flock``) waits for its lease
(``claim_minutes``) to expire.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from workflow.dates.clock import SHANGHAI
from workflow.storage import pglocks
from workflow.storage.db import Database
from workflow.storage.models import Notification

_N = Notification.__table__
_SENDERS = "duban-senders"
NUMBERS = 999_999  # a sender's number is 1 … NUMBERS: the microsecond of its claims


@dataclass
class Sender:
    """A running sender: its ``number`` (the microseconds of its claim tokens) and ``held()``,
    False once its locks are gone (PostgreSQL dropped the connection)."""

    number: int
    held: Callable[[], bool]


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=SHANGHAI)


def _senders_file(db: Database) -> Path | None:
    """``<database>.senders.lock`` beside a SQLite file; None for an in-memory database."""
    path = sa.engine.make_url(db.url).database
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve().with_name(Path(path).name + ".senders.lock")


def _own_file(shared: Path, number: int) -> Path:
    return shared.with_suffix("") / f"{number}.lock"  # <database>.senders/<number>.lock


def _fcntl():
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    return fcntl


@contextlib.contextmanager
def sending(db: Database) -> Iterator[Sender]:
    """Hold the senders' lock (shared) and this sender's own lock for one delivery run."""
    if db.dialect == "postgresql":
        with _pg_sending(db) as sender:
            yield sender
        return
    path = _senders_file(db) if db.dialect == "sqlite" else None
    fcntl = _fcntl()
    if path is None or fcntl is None:
        yield Sender(1 + secrets.randbelow(NUMBERS), lambda: True)
        return
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            with _own_lock(path, fcntl) as number:
                yield Sender(number, lambda: True)  # flocks live as long as the process
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _own_lock(shared: Path, fcntl) -> Iterator[int]:
    folder = shared.with_suffix("")
    folder.mkdir(mode=0o700, exist_ok=True)
    while True:
        number = 1 + secrets.randbelow(NUMBERS)
        path = _own_file(shared, number)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # the file may have been deleted between our open and our lock: lock the file
            # that is at the path now, or a checker would find no file and think us dead
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except (BlockingIOError, FileNotFoundError):
            pass
        os.close(fd)
    try:
        yield number
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # still holding the lock: no checker takes it for a dead sender's
        os.close(fd)


@contextlib.contextmanager
def _pg_sending(db: Database) -> Iterator[Sender]:
    conn = db.engine.connect()

    def held() -> bool:
        try:
            mine = pglocks.holds_shared_lock(conn)
            conn.commit()
        except sa.exc.DBAPIError:
            return False
        return mine

    try:
        pglocks.session_lock_shared(conn, _SENDERS)
        while True:
            number = 1 + secrets.randbelow(NUMBERS)
            if pglocks.try_session_lock(conn, _SENDERS, number):
                break
        conn.commit()
        yield Sender(number, held)
    finally:
        try:
            pglocks.unlock_all(conn)
            conn.commit()
        except sa.exc.SQLAlchemyError:  # a dead connection, or one left invalid
            conn.invalidate()  # never return a connection that may still hold the locks
        conn.close()


def release_stale_claims(db: Database, now: datetime) -> int | None:
    """Make rows claimed by senders that died due again at ``now`` (see the module doc):
    how many; None when a sender is alive and none of the claims was a dead sender's."""
    now = _aware(now)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            # without advisory locks both probes answer False: no claim is released here
            if pglocks.try_xact_lock(conn, _SENDERS):
                return _release(conn, now, lambda number: True)

            def gone(number: int) -> bool:  # its lock is released when this transaction ends
                return pglocks.try_xact_lock(conn, _SENDERS, number)

            return _release(conn, now, gone) or None
    path = _senders_file(db) if db.dialect == "sqlite" else None
    if path is None:
        with db.engine.begin() as conn:
            return _release(conn, now, lambda number: True)
    fcntl = _fcntl()
    if fcntl is None:
        return None  # no flock (Windows): live senders cannot be told apart; claims expire
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            with contextlib.ExitStack() as held, db.engine.begin() as conn:
                return _release(conn, now, lambda n: _sqlite_gone(path, n, fcntl, held)) or None
        try:
            with db.engine.begin() as conn:
                return _release(conn, now, lambda number: True)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_gone(shared: Path, number: int, fcntl, held: contextlib.ExitStack) -> bool:
    """True when sender ``number`` is dead; its file's lock is then kept (``held``) until the
    release is committed, so no new sender takes that number meanwhile."""
    path = _own_file(shared, number)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True  # a live sender's file exists from before its first claim to its end
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    held.callback(os.close, fd)
    held.callback(_unlink, path)  # runs first: removed while still locked
    return True


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _release(conn: sa.Connection, now: datetime, gone: Callable[[int], bool]) -> int:
    future = conn.execute(
        sa.select(_N.c.id, _N.c.next_attempt_at).where(
            _N.c.state == "pending", _N.c.next_attempt_at > now
        )
    ).all()
    verdict: dict[int, bool] = {}
    stale = []
    for r in future:
        number = r.next_attempt_at.microsecond
        if number == 0:
            continue  # a back-off, not a claim
        if number not in verdict:
            verdict[number] = gone(number)
        if verdict[number]:
            stale.append({"b_id": r.id, "b_token": r.next_attempt_at})
    if stale:
        conn.execute(
            sa.update(_N)
            .where(_N.c.id == sa.bindparam("b_id"), _N.c.next_attempt_at == sa.bindparam("b_token"))
            .values(next_attempt_at=now),
            stale,
        )
    return len(stale)

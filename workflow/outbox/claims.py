"""Claims: how a sender owns outbox rows while it delivers them, and how a dead one's are freed.

1. **Claim.** One UPDATE takes up to a chunk of due rows (``state = 'pending'`` and
   ``next_attempt_at <= now``): ``next_attempt_at = now + claim_minutes`` plus a random number
   of microseconds, returning the ids it changed. A claim does not touch ``attempts``: attempts
   count the mail server's answers (recorded with the outcome), so a sender killed three times
   before it heard one uses up nothing. That timestamp is the
   claim's token: another sender (the daemon and a manual ``notify send`` at once) sees the rows
   as not due and skips them; on PostgreSQL the candidate select also uses ``FOR UPDATE SKIP
   LOCKED``, so two senders never wait on each other. On SQLite the single statement takes the
   write lock at once. If a sender dies, its rows become due again when the claim expires.
2. **Renew.** A slow batch renews its claim on the rows it has not settled every third of
   ``claim_minutes`` (a new token, guarded by the old one), so a claim never expires under a
   sender still at work.
3. **Record.** Each outcome is written in its own short transaction, guarded by the token: a
   result for a row someone else re-claimed after our claim expired is not recorded. The
   transactions run on one connection kept for the run (:class:`Writer`) with statements
   compiled once for the run (:class:`Prepared`), so marking a mail sent costs one UPDATE and
   one commit, nothing more.

Claims of a dead sender. A killed sender's rows would wait for their claim to expire
(``claim_minutes``, 30). A claim token's microseconds are its sender's number, and every sender
holds locks that die with it; before every delivery run (the daemon's and ``duban notify
send``'s), :func:`release_stale_claims` makes the claims of senders that are gone due again at
once, and leaves a live sender's alone (see :mod:`workflow.outbox.senders`). On PostgreSQL the
locks live on one connection, which a server restart drops while the sender itself goes on; so
a sender checks once a second that it still holds them and stops (its unsent rows stay queued)
when it does not.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from workflow.dates.clock import SHANGHAI
from workflow.outbox.senders import Sender as Sender  # claims of dead senders: re-exported
from workflow.outbox.senders import release_stale_claims as release_stale_claims
from workflow.outbox.senders import sending as sending
from workflow.outbox.settings import NotifySettings
from workflow.storage.db import Database
from workflow.storage.models import Notification

_N = Notification.__table__


@dataclass
class Claimed:
    """Rows this sender owns until ``token`` (their ``next_attempt_at``) passes."""

    token: datetime
    rows: dict[str, Notification]  # by key
    settled: set[str] = field(default_factory=set)
    renew_at: float = 0.0  # on the sender's monotonic clock


def claim_token(now: datetime, settings: NotifySettings, sender: int | None = None) -> datetime:
    """A claim's token: ``claim_minutes`` ahead, its microseconds the sender's number (a
    non-zero microsecond marks a claim: see :mod:`workflow.outbox.senders`)."""
    number = sender if sender is not None else 1 + secrets.randbelow(999_999)
    return now.replace(microsecond=0) + timedelta(
        minutes=settings.claim_minutes, microseconds=number
    )


def aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=SHANGHAI)


def due_clause(now: datetime):
    return sa.and_(
        _N.c.state == "pending",
        sa.or_(_N.c.next_attempt_at.is_(None), _N.c.next_attempt_at <= now),
    )


def claim(
    db: Database, now: datetime, want: int, settings: NotifySettings, sender: int | None = None
) -> Claimed | None:
    """Take up to ``want`` due rows for sender number ``sender`` (see the module doc); None
    when none are due."""
    token = claim_token(now, settings, sender)
    candidates = (
        sa.select(_N.c.id)
        .where(due_clause(now))
        .order_by(_N.c.next_attempt_at, _N.c.id)
        .limit(want)
    )
    claim = sa.update(_N).values(next_attempt_at=token)
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            # Lock the candidates first, then update exactly those: inside ``IN (subquery)``
            # PostgreSQL may rescan a LIMIT … FOR UPDATE SKIP LOCKED subquery and claim more.
            locked = list(conn.execute(candidates.with_for_update(skip_locked=True)).scalars())
            where = _N.c.id.in_(locked) if locked else sa.false()
        else:
            # SQLite: one statement takes the write lock at once (a SELECT first could deadlock
            # two senders upgrading their read locks).
            where = _N.c.id.in_(candidates.scalar_subquery())
        ids = list(conn.execute(claim.where(where, due_clause(now)).returning(_N.c.id)).scalars())
    if not ids:
        return None
    from sqlmodel import Session as SQLModelSession

    with SQLModelSession(db.engine, expire_on_commit=False) as session:
        rows = session.exec(select(Notification).where(Notification.id.in_(ids))).all()  # type: ignore[union-attr]
        session.expunge_all()
    return Claimed(token=token, rows={r.key: r for r in sorted(rows, key=lambda r: r.id)})


class Prepared:
    """A Core statement compiled once for a dialect and run with ``exec_driver_sql``.

    ``Connection.execute`` looks the statement up in its compiled cache and works out the
    parameters (their order, each type's bind processor: a datetime to UTC text on SQLite …)
    on every call: for the one small UPDATE that marks a mail sent, that machinery cost about as
    much as the UPDATE and its commit (measured on SQLite: ~95 µs a mail that way, ~55 this
    way). Here it is done once; the values go through the same bind processors, and errors are
    SQLAlchemy's as before.
    """

    def __init__(self, stmt: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.names: list[str] = list(compiled.positiontup or []) if self.positional else [*binds]
        self.processors = [
            binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in self.names
        ]
        self.fixed = {n: binds[n].effective_value for n in self.names if not binds[n].required}

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        out = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = values[name] if name in values else self.fixed[name]
            out.append(value if process is None else process(value))
        return tuple(out) if self.positional else dict(zip(self.names, out, strict=True))

    def run(self, conn: sa.Connection, values: dict[str, Any]) -> sa.CursorResult:
        return conn.exec_driver_sql(self.sql, self.parameters(values))


class Writer:
    """One connection for a delivery run's results; each result is its own transaction.

    After a database error the connection is dropped (invalidated: it may be broken) and the
    next write opens a new one.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn: sa.Connection | None = None
        self._prepared: dict[tuple[str, ...], Prepared] = {}

    def outcome(self, keys: tuple[str, ...]) -> Prepared:
        """The outcome UPDATE setting ``keys`` (see :func:`_outcome`), compiled once."""
        prepared = self._prepared.get(keys)
        if prepared is None:
            prepared = self._prepared[keys] = Prepared(_outcome(keys), self.db.engine.dialect)
        return prepared

    def run(self, work: Callable[[sa.Connection], Any]) -> Any:
        if self.conn is None:
            self.conn = self.db.engine.connect()
        try:
            with self.conn.begin():
                return work(self.conn)
        except sa.exc.SQLAlchemyError:
            self.close(broken=True)
            raise

    def close(self, *, broken: bool = False) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        if broken:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                conn.invalidate()
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.close()


@functools.lru_cache(maxsize=64)
def _outcome(keys: tuple[str, ...]) -> sa.Update:
    """``UPDATE … SET <keys> WHERE id = ? AND state = 'pending' AND next_attempt_at = token``,
    built once per set of columns (building a statement costs more than running it)."""
    return (
        sa.update(_N)
        .where(
            _N.c.id == sa.bindparam("b_id", type_=_N.c.id.type),
            _N.c.state == "pending",
            _N.c.next_attempt_at == sa.bindparam("b_token", type_=_N.c.next_attempt_at.type),
        )
        .values({k: sa.bindparam(f"v_{k}", type_=_N.c[k].type) for k in keys})
    )


def record(
    writer: Writer,
    claimed: Claimed,
    row: Notification,
    values: dict[str, Any],
    resend: dict[str, Any] | None = None,
) -> bool:
    """Write one outcome if the row is still ours; False when our claim was taken over.

    ``resend``, a new row's values, is inserted in the same transaction, only with the outcome.
    """
    stmt = writer.outcome(tuple(sorted(values)))
    params = {"b_id": row.id, "b_token": claimed.token}
    params.update({f"v_{k}": v for k, v in values.items()})

    def write(conn: sa.Connection) -> int:
        changed = stmt.run(conn, params).rowcount
        if changed == 1 and resend is not None:
            conn.execute(sa.insert(_N).values(**resend))
        return changed

    try:
        changed = writer.run(write)
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # The connection dropped (a database restart, a killed backend): the mail is out, so
        # write its outcome once more on a new connection rather than send it again later.
        # The UPDATE is guarded by the token: if the first commit did land, it changes nothing.
        changed = writer.run(write) or int(_already(writer, row.id, values))
    claimed.settled.add(row.key)
    return changed == 1


def _already(writer: Writer, row_id: int | None, values: dict[str, Any]) -> bool:
    """The row already holds ``values`` (our first commit landed before the connection
    dropped), compared on the columns that tell one outcome from another."""
    keys = [k for k in ("state", "attempts", "message_id", "last_error") if k in values]
    got = writer.run(
        lambda conn: conn.execute(
            sa.select(*(_N.c[k] for k in keys)).where(_N.c.id == row_id)
        ).one_or_none()
    )
    return got is not None and all(got[i] == values[k] for i, k in enumerate(keys))


def renew(db: Database, claimed: Claimed, token: datetime) -> None:
    """Move the claim on the rows not yet settled to ``token``; rows taken over stay theirs."""
    open_ids = [r.id for k, r in claimed.rows.items() if k not in claimed.settled]
    if open_ids:
        stmt = (
            sa.update(_N)
            .where(
                _N.c.id.in_(open_ids),
                _N.c.state == "pending",
                _N.c.next_attempt_at == claimed.token,
            )
            .values(next_attempt_at=token)
        )
        with db.engine.begin() as conn:
            conn.execute(stmt)
    claimed.token = token


def db_error(exc: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig or exc).split())

"""The outbox: notifications queued in the same transaction as the change that caused them.

``key`` is unique, so the same notification can never be queued twice (e.g.
``reminder:<assignment>:<due>:<offset>`` or ``digest:<leader>:<period>``). Delivery reads
pending rows, hands them to a notifier and records each result; nothing is deleted.

Delivery (:func:`deliver_pending`), for the daemon every few minutes and ``duban notify send``:

1. **Claim.** One UPDATE takes up to a chunk of due rows (``state = 'pending'`` and
   ``next_attempt_at <= now``): ``attempts + 1`` and ``next_attempt_at = now + claim_minutes``
   plus a random number of microseconds, returning the ids it changed. That timestamp is the
   claim's token: another sender (the daemon and a manual ``notify send`` at once) sees the rows
   as not due and skips them. A slow batch renews its claim on the rows it has not settled
   every third of ``claim_minutes`` (a new token, guarded by the old one), so it never expires
   under a sender still at work; on PostgreSQL the candidate select also uses ``FOR UPDATE SKIP
   LOCKED``, so two senders never wait on each other. On SQLite the single statement takes the
   write lock at once. If a sender dies, its rows become due again when the claim expires.
2. **Render** each claimed row (templates with the office's overrides); a row that cannot be
   rendered or addressed is failed with the reason, the rest go on.
3. **Send** the chunk in one batch to the sink; each result is recorded at once in its own short
   transaction, guarded by the claim token (a result for a row someone else re-claimed after
   our claim expired is not recorded: ``skipped``):

   * sent → ``state = 'sent'``, ``sent_at``, ``message_id`` (recipients the server refused are
     kept in ``last_error``). Recipients refused with a 4xx (greylisting, a full mailbox) get
     the same mail later: a *resend* row for just those addresses is queued in the same
     transaction (key ``<key>+resend<n>``, same Message-ID, retried like any row);
   * temporary (4xx, server down, timeout) → stays pending, ``next_attempt_at`` backs off 1, 2,
     4 … minutes up to ``retry_max_minutes``; after ``max_attempts`` attempts it is failed;
   * permanent (5xx, no valid address) → failed at once with the server's words.

A crash between a send and its record repeats at most the messages then in flight (one per SMTP
connection, ``[smtp] concurrency``), with the same Message-ID, derived from the key.

Claims of a dead sender. A killed sender's rows would wait for their claim to expire
(``claim_minutes``, 30). Every sender holds the *senders' lock* in shared mode from before its
first claim until its last result is recorded (PostgreSQL: ``pg_advisory_lock_shared`` on its
own connection, across machines; SQLite: ``flock`` on ``<database>.senders.lock``); the operating
system or the server drops it when the process dies. :func:`release_stale_claims` (the daemon,
before each delivery run) takes that lock exclusively without waiting: if it gets it, no sender
is alive, so every outstanding claim is stale and its rows are made due again at once. To tell a
claim from a back-off (both are pending rows due in the future), claim tokens always carry a
non-zero microsecond and every other ``next_attempt_at`` written here is on a whole second.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from notifiers.email import DeliveryResult
from notifiers.message import Message, MessageError, make_message_id
from notifiers.render import RenderError
from workflow.auth import Caller, require_role
from workflow.clock import SHANGHAI
from workflow.config import Config
from workflow.db import Database
from workflow.errors import Conflict, DatabaseError, DeliveryError, InvalidInput, NotFound
from workflow.mail import (
    NotifySettings,
    mail_sender,
    make_sink,
    message_id_domain,
    notify_settings,
    renderer,
)
from workflow.models import Notification

STATES = ("pending", "sent", "failed")
STATE_LABELS = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}
CHUNK = 500  # rows claimed and handed to the sink at once
_N = Notification.__table__
_NAME_UNSAFE = re.compile(r'[<>"@,;:\\()\[\]\r\n]+')
RESEND_OF, RESEND_N = "_resend_of", "_resend_n"  # context keys of a resend row


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipients: list[str],
    recipient_name: str,
    context: dict[str, Any],
    now: datetime,
    assignment_id: int | None = None,
    level: int = 0,
    as_of: date | None = None,
) -> Notification | None:
    """Queue one notification unless one with ``key`` exists; returns the new row or None."""
    if session.exec(select(Notification.id).where(Notification.key == key)).first() is not None:
        return None
    row = Notification(
        key=key,
        kind=kind,
        recipients=list(recipients),
        recipient_name=recipient_name,
        context=context,
        assignment_id=assignment_id,
        level=level,
        as_of=as_of,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- delivery


@dataclass(frozen=True)
class RowOutcome:
    """A row that did not simply go out: failed, retried later, skipped, or sent with refusals."""

    id: int
    key: str
    kind: str
    recipient: str
    status: str  # failed | retry | skipped | sent (some recipients refused)
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DeliverySummary:
    """What one :func:`deliver_pending` run did. ``errors`` lists every row not cleanly sent."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    errors: list[RowOutcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.retried + self.skipped

    def summary(self) -> str:
        if self.total == 0:
            return "没有待发送的通知"
        text = f"已发送 {self.sent} 封，失败 {self.failed} 封，稍后重试 {self.retried} 封"
        return text + (f"，跳过 {self.skipped} 封（已由其他进程接手）" if self.skipped else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "skipped": self.skipped,
            "errors": [e.to_dict() for e in self.errors],
        }


@dataclass
class _Claimed:
    """Rows this sender owns until ``token`` (their ``next_attempt_at``) passes."""

    token: datetime
    rows: dict[str, Notification]  # by key
    settled: set[str] = field(default_factory=set)
    renew_at: float = 0.0  # on the sender's monotonic clock


def _claim_token(now: datetime, settings: NotifySettings) -> datetime:
    # A non-zero microsecond marks a claim (see "Claims of a dead sender" in the module doc).
    return now.replace(microsecond=0) + timedelta(
        minutes=settings.claim_minutes, microseconds=1 + secrets.randbelow(999_999)
    )


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=SHANGHAI)


def _due(now: datetime):
    return sa.and_(
        _N.c.state == "pending",
        sa.or_(_N.c.next_attempt_at.is_(None), _N.c.next_attempt_at <= now),
    )


def count_due(db: Database, now: datetime) -> int:
    """Pending rows whose time has come (what a send would try now)."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(_due(_aware(now)))).scalar_one()


def _claim(db: Database, now: datetime, want: int, settings: NotifySettings) -> _Claimed | None:
    """Take up to ``want`` due rows for this sender (see the module doc); None when none."""
    token = _claim_token(now, settings)
    candidates = (
        sa.select(_N.c.id).where(_due(now)).order_by(_N.c.next_attempt_at, _N.c.id).limit(want)
    )
    claim = sa.update(_N).values(attempts=_N.c.attempts + 1, next_attempt_at=token)
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
        ids = list(conn.execute(claim.where(where, _due(now)).returning(_N.c.id)).scalars())
    if not ids:
        return None
    from sqlmodel import Session as SQLModelSession

    with SQLModelSession(db.engine, expire_on_commit=False) as session:
        rows = session.exec(select(Notification).where(Notification.id.in_(ids))).all()  # type: ignore[union-attr]
        session.expunge_all()
    return _Claimed(token=token, rows={r.key: r for r in sorted(rows, key=lambda r: r.id)})


def _record(
    db: Database,
    claimed: _Claimed,
    row: Notification,
    values: dict[str, Any],
    resend: dict[str, Any] | None = None,
) -> bool:
    """Write one outcome if the row is still ours; False when our claim was taken over.

    ``resend``, a new row's values, is inserted in the same transaction, only with the outcome.
    """
    stmt = (
        sa.update(_N)
        .where(_N.c.id == row.id, _N.c.state == "pending", _N.c.next_attempt_at == claimed.token)
        .values(**values)
    )
    with db.engine.begin() as conn:
        changed = conn.execute(stmt).rowcount
        if changed == 1 and resend is not None:
            conn.execute(sa.insert(_N).values(**resend))
    claimed.settled.add(row.key)
    return changed == 1


def _renew(db: Database, claimed: _Claimed, token: datetime) -> None:
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


def message_key(row: Notification) -> str:
    """The key a row's Message-ID is made from: a resend keeps its original's Message-ID."""
    return str((row.context or {}).get(RESEND_OF) or row.key)


def _display_name(name: str) -> str:
    return " ".join(_NAME_UNSAFE.sub(" ", name or "").split())


def build_message(row: Notification, render, sender: str, domain: str) -> Message:
    """The mail for one outbox row; RenderError / MessageError when it cannot be built."""
    from workflow.check import render_context

    if not row.recipients:
        raise MessageError("没有收件人地址")
    mail = render.render(row.kind, render_context(dict(row.context or {})))
    name = _display_name(row.recipient_name)
    to = tuple(f"{name} <{a.strip()}>" if name else a.strip() for a in row.recipients)
    return Message(
        key=row.key,
        message_id=make_message_id(message_key(row), domain),
        sender=sender,
        to=to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
    )


def _refusals(refused: dict[str, str]) -> str:
    return "；".join(f"{addr}（{why}）" for addr, why in refused.items())


class _Recorder:
    """Turns each delivery result into a row update and keeps the summary."""

    def __init__(
        self,
        db: Database,
        settings: NotifySettings,
        now: datetime,
        domain: str,
        summary,
        tick,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db, self.settings, self.now, self.domain = db, settings, now, domain
        self.summary: DeliverySummary = summary
        self.tick: Callable[[], None] = tick
        self.monotonic = monotonic
        self.started = monotonic()
        self.claimed: _Claimed | None = None

    def hold(self, claimed: _Claimed) -> None:
        """Work on a fresh claim; it is renewed every third of ``claim_minutes``."""
        claimed.renew_at = self.monotonic() + self.settings.claim_minutes * 60 / 3
        self.claimed = claimed

    def keep_claim(self) -> None:
        """Renew the claim if a third of its time has passed (called after every result)."""
        claimed = self.claimed
        if claimed is None or self.monotonic() < claimed.renew_at:
            return
        elapsed = timedelta(seconds=self.monotonic() - self.started)
        _renew(self.db, claimed, _claim_token(self.now + elapsed, self.settings))
        claimed.renew_at = self.monotonic() + self.settings.claim_minutes * 60 / 3

    def _note(self, row: Notification, status: str, error: str | None) -> None:
        self.summary.errors.append(
            RowOutcome(row.id or 0, row.key, row.kind, row.recipient_name, status, error)
        )

    def failed(self, row: Notification, error: str) -> None:
        assert self.claimed is not None
        values = {"state": "failed", "last_error": error, "next_attempt_at": None}
        self._apply(row, values, "failed", error)

    def temporary(self, row: Notification, error: str) -> None:
        if row.attempts >= self.settings.max_attempts:
            self.failed(row, f"{error}（已尝试 {row.attempts} 次，不再重试）")
            return
        wait = self.settings.backoff_minutes(row.attempts)
        retry_at = (self.now + timedelta(minutes=wait)).replace(microsecond=0)  # not a claim
        values = {"last_error": error, "next_attempt_at": retry_at}
        self._apply(row, values, "retry", f"{error}（{wait} 分钟后重试）")

    def _apply(self, row: Notification, values: dict[str, Any], status: str, error) -> None:
        assert self.claimed is not None
        if not _record(self.db, self.claimed, row, values):
            self.summary.skipped += 1
            self._note(row, "skipped", "已由其他发送进程接手")
        else:
            if status == "failed":
                self.summary.failed += 1
            elif status == "retry":
                self.summary.retried += 1
            self._note(row, status, error)
        self.keep_claim()
        self.tick()

    def __call__(self, result: DeliveryResult) -> None:
        """The sink's ``on_result``: record one outcome at once."""
        assert self.claimed is not None
        row = self.claimed.rows[result.key]
        if result.status == "sent":
            later = [a for a, why in result.refused.items() if why[:1] == "4"]
            resend = self._resend(row, later, result.refused) if later else None
            refusals = "部分收件人被拒收：" + _refusals(result.refused) if result.refused else None
            if refusals and resend:
                refusals += f"（暂时拒收的地址将另行重发：{resend['key']}）"
            values = {
                "state": "sent",
                "sent_at": self.now,
                "message_id": make_message_id(message_key(row), self.domain),
                "next_attempt_at": None,
                "last_error": refusals,
            }
            if not _record(self.db, self.claimed, row, values, resend):
                self.summary.skipped += 1
                self._note(row, "skipped", "已由其他发送进程接手")
            else:
                self.summary.sent += 1
                if result.refused:
                    self._note(row, "sent", values["last_error"])
            self.keep_claim()
            self.tick()
        elif result.status == "temporary":
            self.temporary(row, result.error or "暂时无法发送")
        else:
            error = result.error or "发送失败"
            if result.refused and "收件人" not in error:
                error += "：" + _refusals(result.refused)
            self.failed(row, error)

    def _resend(self, row: Notification, to: list[str], refused: dict[str, str]) -> dict[str, Any]:
        """A new outbox row sending ``row``'s mail again to the addresses refused with a 4xx."""
        context = dict(row.context or {})
        n = int(context.get(RESEND_N, 0)) + 1
        context.update({RESEND_OF: message_key(row), RESEND_N: n})
        wait = self.settings.backoff_minutes(1)
        return {
            "key": f"{message_key(row)}+resend{n}",
            "kind": row.kind,
            "recipients": to,
            "recipient_name": row.recipient_name,
            "assignment_id": row.assignment_id,
            "level": row.level,
            "context": context,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": (self.now + timedelta(minutes=wait)).replace(microsecond=0),
            "last_error": "暂时拒收：" + _refusals({a: refused[a] for a in to}),
            "as_of": row.as_of,
            "created_at": self.now,
        }

    def release(self, error: str) -> None:
        """After the sink stopped early: rows not yet settled count as a temporary failure."""
        assert self.claimed is not None
        for key, row in self.claimed.rows.items():
            if key not in self.claimed.settled:
                try:
                    self.temporary(row, error)
                except Exception:  # noqa: BLE001 - best effort; the claim expires anyway
                    return


def deliver_pending(
    db: Database,
    config: Config,
    now: datetime,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sink=None,
    monotonic: Callable[[], float] = time.monotonic,
) -> DeliverySummary:
    """Deliver the pending notifications due at ``now`` (see the module doc).

    ``sink`` defaults to the one ``[notify] delivery`` selects; ``progress(done, total)`` is
    called after each row; ``monotonic`` times the renewal of claims. Raises ConfigError for bad settings (before claiming anything),
    DatabaseError when results cannot be recorded, DeliveryError when the sink itself breaks.
    """
    now = _aware(now)
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit 应为正整数，实际为 {limit}")
    settings = notify_settings(config)
    sender = mail_sender(config)
    domain = message_id_domain(config)
    if sink is None:
        sink = make_sink(config, now=lambda: now)
    render = renderer(config)
    summary = DeliverySummary()
    try:
        total = count_due(db, now)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"读取待发送通知时数据库出错：{_db_error(exc)}") from None
    total = min(total, limit) if limit is not None else total
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, max(total, done))

    recorder = _Recorder(db, settings, now, domain, summary, tick, monotonic)
    try:
        with sending(db):
            _claim_and_send(db, now, limit, settings, recorder, sink, render, sender, domain)
    except sa.exc.SQLAlchemyError as exc:  # taking the senders' lock
        raise DatabaseError(f"领取待发送通知时数据库出错：{_db_error(exc)}") from None
    return summary


def _claim_and_send(db, now, limit, settings, recorder, sink, render, sender, domain) -> None:
    claimed_count = 0
    while limit is None or claimed_count < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - claimed_count)
        try:
            claimed = _claim(db, now, want, settings)
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(f"领取待发送通知时数据库出错：{_db_error(exc)}") from None
        if claimed is None:
            break
        claimed_count += len(claimed.rows)
        recorder.hold(claimed)
        _send_chunk(claimed, recorder, sink, render, sender, domain)


def _send_chunk(claimed: _Claimed, recorder: _Recorder, sink, render, sender, domain) -> None:
    messages = []
    try:
        for row in claimed.rows.values():
            try:
                messages.append(build_message(row, render, sender, domain))
            except (RenderError, MessageError) as exc:
                recorder.failed(row, f"无法生成邮件：{exc}")
        if messages:
            sink.deliver(messages, recorder)
    except sa.exc.SQLAlchemyError as exc:
        recorder.release(f"记录发送结果时数据库出错：{_db_error(exc)}")
        raise DatabaseError(f"记录发送结果时数据库出错：{_db_error(exc)}") from None
    except Exception as exc:
        recorder.release(f"发送中断：{exc}")
        raise DeliveryError(f"发送中断（{type(exc).__name__}）：{exc}") from None
    except BaseException:
        recorder.release("发送被中断")
        raise


# ---------------------------------------------------------------- claims of dead senders

_SENDERS = "duban-senders"
_PG_KEY = "hashtext(:name || current_database() || current_schema())"


def _senders_file(db: Database) -> Path | None:
    """``<database>.senders.lock`` beside a SQLite file; None for an in-memory database."""
    path = sa.engine.make_url(db.url).database
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve().with_name(Path(path).name + ".senders.lock")


def _fcntl():
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    return fcntl


@contextlib.contextmanager
def sending(db: Database) -> Iterator[None]:
    """Hold the senders' lock in shared mode for one delivery run (see the module doc)."""
    if db.dialect == "postgresql":
        conn = db.engine.connect()
        try:
            conn.execute(sa.text(f"select pg_advisory_lock_shared({_PG_KEY})"), {"name": _SENDERS})
            conn.commit()
            yield
        finally:
            try:
                conn.execute(
                    sa.text(f"select pg_advisory_unlock_shared({_PG_KEY})"), {"name": _SENDERS}
                )
                conn.commit()
            except sa.exc.DBAPIError:
                conn.invalidate()  # never return a connection that may still hold the lock
            conn.close()
        return
    path = _senders_file(db) if db.dialect == "sqlite" else None
    fcntl = _fcntl()
    if path is None or fcntl is None:
        yield
        return
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def release_stale_claims(db: Database, now: datetime) -> int | None:
    """Make rows claimed by senders that died due again at ``now``; None if a sender is live.

    Sound only because every sender holds the senders' lock (shared) while it has claims: when
    the exclusive lock is free, no claim belongs to a living sender. Back-offs are left alone.
    """
    now = _aware(now)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            got = conn.execute(
                sa.text(f"select pg_try_advisory_xact_lock({_PG_KEY})"), {"name": _SENDERS}
            ).scalar()
            return _release(conn, now) if got else None
    path = _senders_file(db) if db.dialect == "sqlite" else None
    if path is None:
        with db.engine.begin() as conn:
            return _release(conn, now)
    fcntl = _fcntl()
    if fcntl is None:
        return None  # no flock (Windows): live senders cannot be told apart; claims expire
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        try:
            with db.engine.begin() as conn:
                return _release(conn, now)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _release(conn: sa.Connection, now: datetime) -> int:
    future = conn.execute(
        sa.select(_N.c.id, _N.c.next_attempt_at).where(
            _N.c.state == "pending", _N.c.next_attempt_at > now
        )
    ).all()
    stale = [
        {"b_id": r.id, "b_token": r.next_attempt_at}
        for r in future
        if r.next_attempt_at.microsecond != 0
    ]
    if stale:
        conn.execute(
            sa.update(_N)
            .where(_N.c.id == sa.bindparam("b_id"), _N.c.next_attempt_at == sa.bindparam("b_token"))
            .values(next_attempt_at=now),
            stale,
        )
    return len(stale)


def _db_error(exc: sa.exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig or exc).split())


# ---------------------------------------------------------------- the office's view


def notification_view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "key": n.key,
        "kind": n.kind,
        "recipient": n.recipient_name,
        "recipients": list(n.recipients or []),
        "assignment_id": n.assignment_id,
        "level": n.level,
        "state": n.state,
        "state_label": STATE_LABELS.get(n.state, n.state),
        "attempts": n.attempts,
        "next_attempt_at": n.next_attempt_at,
        "last_error": n.last_error,
        "message_id": n.message_id,
        "as_of": n.as_of,
        "created_at": n.created_at,
        "sent_at": n.sent_at,
    }


def list_notifications(
    session: Session,
    caller: Caller,
    *,
    state: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows, newest first, optionally of one state and kind."""
    from notifiers.render import KINDS

    require_role(caller, "office", "查看通知")
    query = select(Notification)
    if state is not None:
        if state not in STATES:
            raise InvalidInput(f"通知状态无效：{state}（可选 pending / sent / failed）")
        query = query.where(Notification.state == state)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"通知类型无效：{kind}（可选 {' / '.join(KINDS)}）")
        query = query.where(Notification.kind == kind)
    query = query.order_by(Notification.id.desc())  # type: ignore[union-attr]
    if limit is not None:
        query = query.limit(limit)
    return [notification_view(n) for n in session.exec(query).all()]


def state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(_N.c.state, sa.func.count()).group_by(_N.c.state))
    counts = {s: 0 for s in STATES}
    counts.update({state: count for state, count in rows})
    return counts


def retry_notification(
    session: Session, caller: Caller, notification_id: int, now: datetime
) -> Notification:
    """Put a failed notification back in the queue, due now, with a fresh retry budget."""
    require_role(caller, "office", "重试通知")
    row = session.get(Notification, notification_id)
    if row is None:
        raise NotFound(f"通知 #{notification_id} 不存在")
    if row.state != "failed":
        label = STATE_LABELS.get(row.state, row.state)
        raise Conflict(f"通知 #{notification_id} 的状态是“{label}”，只有发送失败的通知可以重试")
    _requeue(row, now)
    session.add(row)
    session.flush()
    return row


def retry_all_failed(session: Session, caller: Caller, now: datetime) -> list[int]:
    """Put every failed notification back in the queue (e.g. after fixing the SMTP password)."""
    require_role(caller, "office", "重试通知")
    rows = session.exec(
        select(Notification).where(Notification.state == "failed").order_by(Notification.id)  # type: ignore[arg-type]
    ).all()
    for row in rows:
        _requeue(row, now)
        session.add(row)
    session.flush()
    return [row.id for row in rows if row.id is not None]


def _requeue(row: Notification, now: datetime) -> None:
    row.state = "pending"
    row.attempts = 0
    row.next_attempt_at = _aware(now)

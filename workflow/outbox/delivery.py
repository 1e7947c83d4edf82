"""Delivering the outbox: claim due rows, render, send, record each outcome at once.

:func:`deliver_pending` runs for the daemon every few minutes and for ``duban notify send``:

1. **Claim** a chunk of due rows (:mod:`workflow.outbox.claims`: a token no other sender will take,
   renewed while a slow batch runs, freed at once when its sender dies).
2. **Refresh and render** each claimed row: its items are checked against the database as of
   the delivery day (:mod:`workflow.outbox.fresh`: a row whose items were all reported,
   cancelled or moved is dropped with the reason, stale items are left out), and every mail
   gets the office's contact and the way to report (:mod:`workflow.outbox.contact`). A row that
   cannot be rendered or addressed is failed with the reason, the rest go on; an office
   template override that breaks stops the run with a ConfigError naming the template and line
   (the rows stay queued, nothing used up).
3. **Send** the chunk in one batch to the sink; each result is recorded at once in its own short
   transaction, guarded by the claim token (a result for a row someone else re-claimed after
   our claim expired is not recorded: ``skipped``):

   * sent → ``state = 'sent'``, ``sent_at``, ``message_id`` (recipients the server refused are
     kept in ``last_error``). Recipients refused with a 4xx (greylisting, a full mailbox) get
     the same mail later: a *resend* row for just those addresses is queued in the same
     transaction (key ``<key>+resend<n>``, same Message-ID, retried like any row);
   * temporary (4xx, server down, timeout) → stays pending, ``next_attempt_at`` backs off 1, 2,
     4 … minutes up to ``retry_max_minutes``; after ``max_attempts`` attempts it is failed.
     ``attempts`` counts the server's answers, not claims: a sender that dies uses up nothing;
   * permanent (5xx, no valid address) → failed at once with the server's words;
   * blocked (the settings are wrong: password rejected, sender refused, certificate not
     trusted) → the row stays pending and due, without using up an attempt; the run stops and
     :func:`deliver_pending` raises ``MailSettingsError`` saying what to fix. The next send
     after the fix delivers them; nothing is marked failed for a wrong password (the daemon
     backs off meanwhile, so it does not hammer the server with bad logins).

A crash between a send and its record repeats at most the messages then in flight (one per SMTP
connection, ``[smtp] concurrency``), with the same Message-ID, derived from the key.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from notifiers.message import Attachment, LazyMessage, Message, MessageError, make_message_id
from notifiers.render import RenderError, TemplateOverrideError
from workflow.config import Config
from workflow.dates.clock import local_date
from workflow.errors import (
    ConfigError,
    DatabaseError,
    DeliveryError,
    InvalidInput,
    MailSettingsError,
)
from workflow.outbox.attachments import NoticeFiles
from workflow.outbox.claims import (
    Claimed,
    aware,
    claim,
    db_error,
    due_clause,
    release_stale_claims,
    sending,
)
from workflow.outbox.contact import MailContact, mail_contact
from workflow.outbox.fresh import Refresher, assignment_ids, load_current
from workflow.outbox.outcomes import (
    LOCK_CHECK_SECONDS,
    DeliverySummary,
    LockLost,
    Recorder,
    RowOutcome,
    Stopping,
    message_key,
)
from workflow.outbox.robots import RobotDelivery, mail_sink
from workflow.outbox.settings import (
    mail_sender,
    message_id_domain,
    notify_settings,
    renderer,
)
from workflow.storage.db import Database
from workflow.storage.models import Notification

__all__ = [
    "LOCK_CHECK_SECONDS",
    "DeliverySummary",
    "LockLost",
    "RowOutcome",
    "build_message",
    "count_due",
    "deliver_pending",
    "message_key",
    "retry_now_rows",
    "waiting_rows",
]

CHUNK = 500  # rows claimed and handed to the sink at once
PREFETCH = 32  # mails rendered back to back when a sender needs the first of them
_NAME_UNSAFE = re.compile(r'[<>"@,;:\\()\[\]\r\n]+')


def count_due(db: Database, now: datetime) -> int:
    """Pending rows whose time has come (what a send would try now)."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(due_clause(aware(now)))).scalar_one()


def _future(conn: sa.Connection, now: datetime) -> list[tuple[int, datetime]]:
    n = Notification.__table__
    return [
        (r.id, r.next_attempt_at)
        for r in conn.execute(
            sa.select(n.c.id, n.c.next_attempt_at).where(
                n.c.state == "pending", n.c.next_attempt_at > now
            )
        )
    ]


def waiting_rows(db: Database, now: datetime) -> tuple[int, datetime | None, int]:
    """(rows backing off after a temporary failure, when the first is due, rows another live
    sender has claimed). A claim's time carries microseconds; a back-off's never does."""
    with db.engine.connect() as conn:
        future = _future(conn, aware(now))
    backing_off = [at for _, at in future if at.microsecond == 0]
    return len(backing_off), min(backing_off, default=None), len(future) - len(backing_off)


def retry_now_rows(db: Database, now: datetime) -> int:
    """Make every row backing off due at ``now`` (``duban notify send --now``); claims of live
    senders are left alone. Attempts are kept: the retry budget still counts."""
    now = aware(now)
    n = Notification.__table__
    with db.engine.begin() as conn:
        ids = [(i, at) for i, at in _future(conn, now) if at.microsecond == 0]
        if ids:
            conn.execute(
                sa.update(n)
                .where(
                    n.c.id == sa.bindparam("b_id"),
                    n.c.state == "pending",
                    n.c.next_attempt_at == sa.bindparam("b_at", type_=n.c.next_attempt_at.type),
                )
                .values(next_attempt_at=now.replace(microsecond=0)),
                [{"b_id": i, "b_at": at} for i, at in ids],
            )
    return len(ids)


def _display_name(name: str) -> str:
    return " ".join(_NAME_UNSAFE.sub(" ", name or "").split())


def build_message(
    row: Notification,
    render,
    sender: str,
    domain: str,
    context: dict[str, Any] | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> Message:
    """The mail for one outbox row (``context``: the refreshed render context, else the
    stored one; ``attachments``: its notices, :mod:`workflow.outbox.attachments`);
    RenderError / MessageError when it cannot be built."""
    if context is None:
        from workflow.chasing.check import render_context

        context = render_context(dict(row.context or {}))
    if not row.recipients:
        raise MessageError("没有收件人地址")
    mail = render.render(row.kind, context)
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
        attachments=attachments,
    )


class _Run:
    """What every chunk of one delivery run needs."""

    def __init__(self, db: Database, config: Config, now: datetime, sink, recorder: Recorder):
        self.db, self.config, self.now, self.sink, self.recorder = db, config, now, sink, recorder
        self.render = renderer(config)  # checks the office's overrides: ConfigError at load
        self.sender = mail_sender(config)
        self.domain = message_id_domain(config)
        self.contact: MailContact = mail_contact(config)
        self.on_verified = notify_settings(config).on_verified
        self.files = NoticeFiles()  # the 督办单 / 催办通知书 attached to the chunk's mails
        self._calendar = None

    @property
    def calendar(self):
        if self._calendar is None:
            from workflow.dates.workdays import load_calendar

            self._calendar = load_calendar(self.config)
        return self._calendar

    def contexts(self, claimed: Claimed) -> dict[str, Any]:
        """Each row's refreshed render context, or a str: why it is dropped."""
        from workflow.chasing.check import render_context

        rows = list(claimed.rows.values())
        with self.db.engine.connect() as conn:
            current = load_current(conn, assignment_ids(rows))
        refresher = Refresher(current, self.calendar if current else None, local_date(self.now))
        action = self.contact.context()
        out: dict[str, Any] = {}
        for row in rows:
            context = render_context(dict(row.context or {}))
            if row.kind in ("decision", "signin_link"):  # queued without the office
                context.setdefault("office", self.contact.office)
            verified = row.kind == "decision" and context.get("decision") == "verified"
            if verified and not self.on_verified:
                out[row.key] = "[notify] on_verified = false：核验通过不通知单位"
                continue
            if row.kind == "signin_link" and _expired(context.get("expires_at"), self.now):
                out[row.key] = "登录链接已过期，不再发送"  # workflow/accounts/signin.py
                continue
            fresh = refresher.refresh(row, context)
            if fresh.context is None:
                out[row.key] = fresh.note or "内容已过时"
                continue
            if fresh.note:
                self.recorder.notes[row.key] = fresh.note
            out[row.key] = {**fresh.context, **action}
        mails = {k: (claimed.rows[k], c) for k, c in out.items() if isinstance(c, dict)}
        if self.files.find(mails):
            with self.db.engine.connect() as conn:
                self.files.fetch(conn)
        return out


def _expired(stamp: Any, now: datetime) -> bool:
    """Whether a sign-in link's ``expires_at`` (ISO, stored in the row's context) is past."""
    try:
        return datetime.fromisoformat(str(stamp)) <= now
    except ValueError:
        return True


def deliver_pending(
    db: Database,
    config: Config,
    now: datetime,
    *,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    sink=None,
    monotonic: Callable[[], float] = time.monotonic,
    stop: Callable[[], bool] | None = None,
    retry_waiting: bool = False,
) -> DeliverySummary:
    """Deliver the pending notifications due at ``now`` (see the module doc).

    ``retry_waiting`` (``duban notify send --now``): rows backing off after a temporary failure
    are made due first, so they are tried at once (their attempts still count).

    ``sink`` defaults to the one ``[notify] delivery`` selects; ``progress(done, total)`` is
    called after each row; ``monotonic`` times the renewal of claims. Raises ConfigError for bad
    settings or a broken template override (before claiming anything), DatabaseError when
    results cannot be recorded, DeliveryError when the sink itself breaks.
    """
    now = aware(now)
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit 应为正整数，实际为 {limit}")
    settings = notify_settings(config)
    if sink is None:  # make_sink, or none needed when only robot rows are due
        sink = mail_sink(db, config, now)
    summary = DeliverySummary()
    total, done = 0, 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, max(total, done))

    recorder = Recorder(db, settings, now, message_id_domain(config), summary, tick, monotonic)
    if stop is not None:  # the daemon stopping: no new claims; unsent rows given back
        recorder.stop = stop
    run = _Run(db, config, now, sink, recorder)  # every setting checked before any change
    recorder.robots = RobotDelivery(db, config, now)  # robot rows: workflow.outbox.robots
    try:
        # Claims of senders that died (kill -9) are due again at once when no sender is alive,
        # so a manual send after a crash sends them instead of waiting for the claims to expire.
        summary.reclaimed = release_stale_claims(db, now) or 0
        if retry_waiting:
            summary.retried_now = retry_now_rows(db, now)
        total = count_due(db, now)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"读取待发送通知时数据库出错：{db_error(exc)}") from None
    total = min(total, limit) if limit is not None else total
    try:
        with sending(db) as sender:
            recorder.lock_held, recorder.sender = sender.held, sender.number
            _claim_and_send(run, limit, settings)
    except sa.exc.SQLAlchemyError as exc:  # taking the senders' lock
        raise DatabaseError(f"领取待发送通知时数据库出错：{db_error(exc)}") from None
    finally:
        recorder.close()
    if summary.blocked:
        raise MailSettingsError(
            f"{summary.blocked_error}。已发送 {summary.sent} 封，其余通知仍在队列中：请修正 "
            "duban.toml 的 [smtp] 设置（可先用 duban mail test 试发），再运行 duban notify send"
        )
    try:
        summary.waiting, summary.next_retry_at, summary.sending_elsewhere = waiting_rows(db, now)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(f"读取待发送通知时数据库出错：{db_error(exc)}") from None
    return summary


class _Builder:
    """Builds a chunk's mails when the senders come for them, a few at a time.

    A mail is built only when a sender is ready for it (:class:`LazyMessage`), so the first
    mails go out while the rest are still to render; but the first request builds the next
    ``PREFETCH`` mails back to back: rendering mails one after another keeps jinja2's code and
    data in the CPU's caches, where one rendering between two sends costs ~60% more CPU.

    A row that cannot be built is failed when it is built (no attempt used) and the sink skips
    it; an error building a mail (a broken office template: ConfigError) is raised when the
    sender comes to that mail, so the mails before it still go out, as when each mail was built
    on its own.
    """

    def __init__(self, run: _Run, rows: list[tuple[Notification, dict[str, Any]]]) -> None:
        self.run = run
        self.rows = rows
        self.position = {row.key: i for i, (row, _) in enumerate(rows)}
        self.built: dict[str, Message | Exception | None] = {}
        self.done = 0  # rows[:done] have been built (and maybe taken)

    def lazy(self) -> list[LazyMessage]:
        return [LazyMessage(row.key, functools.partial(self.take, row.key)) for row, _ in self.rows]

    def take(self, key: str) -> Message | None:
        if key not in self.built:
            self._build_from(self.position[key])
        result = self.built.pop(key, None)
        if isinstance(result, Exception):
            raise result
        return result

    def _build_from(self, start: int) -> None:
        start = max(start, self.done)
        for row, context in self.rows[start : start + PREFETCH]:
            self.done += 1
            try:
                self.built[row.key] = self._build(row, context)
            except Exception as exc:  # noqa: BLE001 - raised when the sender comes to this row
                self.built[row.key] = exc
                break  # the rows after it are built (or not) when their turn comes

    def _build(self, row: Notification, context: dict[str, Any]) -> Message | None:
        run = self.run
        try:
            files = run.files.for_row(row.key)
            return build_message(row, run.render, run.sender, run.domain, context, files)
        except TemplateOverrideError as exc:  # the office's template: its fault, not the row's
            raise ConfigError(str(exc)) from None
        except (RenderError, MessageError) as exc:
            run.recorder.failed(row, f"无法生成邮件：{exc}", answered=False)
            return None


def _claim_and_send(run: _Run, limit: int | None, settings) -> None:
    claimed_count = 0
    while limit is None or claimed_count < limit:
        if run.recorder.stop():
            break
        want = CHUNK if limit is None else min(CHUNK, limit - claimed_count)
        try:
            claimed = claim(run.db, run.now, want, settings, run.recorder.sender)
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(f"领取待发送通知时数据库出错：{db_error(exc)}") from None
        if claimed is None:
            break
        claimed_count += len(claimed.rows)
        run.recorder.hold(claimed)
        _send_chunk(claimed, run)
        if run.recorder.summary.blocked:  # wrong settings: the next chunk would fail the same
            break


def _send_chunk(claimed: Claimed, run: _Run) -> None:
    recorder = run.recorder
    try:
        contexts = run.contexts(claimed)
        mails, robot_rows = [], []
        for row in claimed.rows.values():
            context = contexts[row.key]
            if isinstance(context, str):
                recorder.dropped(row, context)
            elif row.channel != "email":
                robot_rows.append(row)
            else:
                mails.append((row, context))
        if mails:  # rendered when the senders come for them (_Builder)
            run.sink.deliver(_Builder(run, mails).lazy(), recorder)
        if robot_rows:
            recorder.robots.deliver(robot_rows, recorder, contexts)
    except sa.exc.SQLAlchemyError as exc:
        recorder.release(f"记录发送结果时数据库出错：{db_error(exc)}")
        raise DatabaseError(f"记录发送结果时数据库出错：{db_error(exc)}") from None
    except Stopping:
        recorder.give_back()
    except (LockLost, ConfigError) as exc:
        recorder.release(exc.message)
        raise
    except ValueError as exc:  # calendars.CalendarError: a due date outside the calendar
        recorder.release(f"无法计算工作日：{exc}")
        raise DeliveryError(f"发送前核对任务时无法计算工作日：{exc}") from None
    except Exception as exc:
        recorder.release(f"发送中断：{exc}")
        raise DeliveryError(f"发送中断（{type(exc).__name__}）：{exc}") from None
    except BaseException:
        recorder.release("发送被中断")
        raise

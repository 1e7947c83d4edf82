"""Delivering the outbox: claim due rows, render, send, record each outcome at once.

:func:`deliver_pending` runs for the daemon every few minutes and for ``duban notify send``:

1. **Claim** a chunk of due rows (:mod:`workflow.outbox.claims`: a token no other sender will take,
   renewed while a slow batch runs, freed at once when its sender dies).
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

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from notifiers.email import DeliveryResult
from notifiers.message import Message, MessageError, make_message_id
from notifiers.render import RenderError
from workflow.config import Config
from workflow.db import Database
from workflow.errors import DatabaseError, DeliveryError, InvalidInput, MailSettingsError
from workflow.models import Notification
from workflow.outbox.claims import (
    Claimed,
    aware,
    claim,
    claim_token,
    db_error,
    due_clause,
    record,
    renew,
    sending,
)
from workflow.outbox.settings import (
    NotifySettings,
    mail_sender,
    make_sink,
    message_id_domain,
    notify_settings,
    renderer,
)

CHUNK = 500  # rows claimed and handed to the sink at once
LOCK_CHECK_SECONDS = 1.0  # how often a sender makes sure it still holds the senders' lock
_NAME_UNSAFE = re.compile(r'[<>"@,;:\\()\[\]\r\n]+')
RESEND_OF, RESEND_N = "_resend_of", "_resend_n"  # context keys of a resend row


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
    blocked: int = 0  # kept queued because the SMTP settings are wrong
    blocked_error: str | None = None
    released: int = 0  # given back unsent because the daemon was stopping
    errors: list[RowOutcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.retried + self.skipped + self.blocked

    def summary(self) -> str:
        if self.total == 0 and not self.released:
            return "没有待发送的通知"
        text = f"已发送 {self.sent} 封，失败 {self.failed} 封，稍后重试 {self.retried} 封"
        text += f"，跳过 {self.skipped} 封（已由其他进程接手）" if self.skipped else ""
        return text + (f"，{self.released} 封因停止而放回队列" if self.released else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "skipped": self.skipped,
            "blocked": self.blocked,
            "released": self.released,
            "errors": [e.to_dict() for e in self.errors],
        }


class Stopping(Exception):
    """The daemon is stopping (SIGTERM): claim nothing more, give back what is not sent."""


class LockLost(DatabaseError):
    """The senders' lock went away under a running sender (PostgreSQL restarted)."""


def count_due(db: Database, now: datetime) -> int:
    """Pending rows whose time has come (what a send would try now)."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(due_clause(aware(now)))).scalar_one()


def message_key(row: Notification) -> str:
    """The key a row's Message-ID is made from: a resend keeps its original's Message-ID."""
    return str((row.context or {}).get(RESEND_OF) or row.key)


def _display_name(name: str) -> str:
    return " ".join(_NAME_UNSAFE.sub(" ", name or "").split())


def build_message(row: Notification, render, sender: str, domain: str) -> Message:
    """The mail for one outbox row; RenderError / MessageError when it cannot be built."""
    from workflow.chasing.check import render_context

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
        self.claimed: Claimed | None = None
        self.lock_held: Callable[[], bool] = lambda: True  # set by deliver_pending
        self.lock_checked = self.started
        self.releasing = False
        self.stop: Callable[[], bool] = lambda: False  # set by deliver_pending

    def hold(self, claimed: Claimed) -> None:
        """Work on a fresh claim; it is renewed every third of ``claim_minutes``."""
        claimed.renew_at = self.monotonic() + self.settings.claim_minutes * 60 / 3
        self.claimed = claimed

    def keep_claim(self) -> None:
        """Stop if the senders' lock is lost (checked once a second); renew the claim if a
        third of its time has passed. Called after every result."""
        if self.releasing:
            return
        if self.stop():
            raise Stopping
        if self.monotonic() - self.lock_checked >= LOCK_CHECK_SECONDS:
            self.lock_checked = self.monotonic()
            if not self.lock_held():
                raise LockLost(
                    "与数据库的连接中断，发送者锁已失效：已停止发送，以免与守护进程重复发送；"
                    "未发送的通知仍在队列中"
                )
        claimed = self.claimed
        if claimed is None or self.monotonic() < claimed.renew_at:
            return
        elapsed = timedelta(seconds=self.monotonic() - self.started)
        renew(self.db, claimed, claim_token(self.now + elapsed, self.settings))
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

    def blocked(self, row: Notification, error: str) -> None:
        """The settings are wrong, not the row: keep it queued and due; give back its attempt."""
        values = {
            "attempts": max(row.attempts - 1, 0),  # the claim counted one
            "last_error": error,
            "next_attempt_at": self.now.replace(microsecond=0),  # due; a whole second: no claim
        }
        self.summary.blocked_error = self.summary.blocked_error or error
        self._apply(row, values, "blocked", error)

    def _apply(self, row: Notification, values: dict[str, Any], status: str, error) -> None:
        assert self.claimed is not None
        if not record(self.db, self.claimed, row, values):
            self.summary.skipped += 1
            self._note(row, "skipped", "已由其他发送进程接手")
        else:
            if status == "failed":
                self.summary.failed += 1
            elif status == "retry":
                self.summary.retried += 1
            elif status == "blocked":
                self.summary.blocked += 1
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
            if not record(self.db, self.claimed, row, values, resend):
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
        elif result.status == "blocked":
            self.blocked(row, result.error or "SMTP 设置有误")
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

    def give_back(self) -> None:
        """Stopping: rows not yet sent are due again at once, their claim's attempt returned."""
        assert self.claimed is not None
        self.releasing = True
        for key, row in self.claimed.rows.items():
            if key in self.claimed.settled:
                continue
            values = {
                "attempts": max(row.attempts - 1, 0),  # the claim counted one
                "next_attempt_at": self.now.replace(microsecond=0),  # due; not a claim token
            }
            try:
                if record(self.db, self.claimed, row, values):
                    self.summary.released += 1
            except Exception:  # noqa: BLE001 - best effort; the claim is released at next start
                return

    def release(self, error: str) -> None:
        """After the sink stopped early: rows not yet settled count as a temporary failure."""
        assert self.claimed is not None
        self.releasing = True  # giving the claim back: nothing to keep or check
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
    stop: Callable[[], bool] | None = None,
) -> DeliverySummary:
    """Deliver the pending notifications due at ``now`` (see the module doc).

    ``sink`` defaults to the one ``[notify] delivery`` selects; ``progress(done, total)`` is
    called after each row; ``monotonic`` times the renewal of claims. Raises ConfigError for bad settings (before claiming anything),
    DatabaseError when results cannot be recorded, DeliveryError when the sink itself breaks.
    """
    now = aware(now)
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
        raise DatabaseError(f"读取待发送通知时数据库出错：{db_error(exc)}") from None
    total = min(total, limit) if limit is not None else total
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, max(total, done))

    recorder = _Recorder(db, settings, now, domain, summary, tick, monotonic)
    if stop is not None:  # the daemon stopping: no new claims; unsent rows given back
        recorder.stop = stop
    try:
        with sending(db) as held:
            recorder.lock_held = held
            _claim_and_send(db, now, limit, settings, recorder, sink, render, sender, domain)
    except sa.exc.SQLAlchemyError as exc:  # taking the senders' lock
        raise DatabaseError(f"领取待发送通知时数据库出错：{db_error(exc)}") from None
    if summary.blocked:
        raise MailSettingsError(
            f"{summary.blocked_error}。已发送 {summary.sent} 封，其余通知仍在队列中：请修正 "
            "duban.toml 的 [smtp] 设置（可先用 duban mail test 试发），再运行 duban notify send"
        )
    return summary


def _claim_and_send(db, now, limit, settings, recorder, sink, render, sender, domain) -> None:
    claimed_count = 0
    while limit is None or claimed_count < limit:
        if recorder.stop():
            break
        want = CHUNK if limit is None else min(CHUNK, limit - claimed_count)
        try:
            claimed = claim(db, now, want, settings)
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(f"领取待发送通知时数据库出错：{db_error(exc)}") from None
        if claimed is None:
            break
        claimed_count += len(claimed.rows)
        recorder.hold(claimed)
        _send_chunk(claimed, recorder, sink, render, sender, domain)
        if recorder.summary.blocked:  # wrong settings: the next chunk would fail the same way
            break


def _send_chunk(claimed: Claimed, recorder: _Recorder, sink, render, sender, domain) -> None:
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
        recorder.release(f"记录发送结果时数据库出错：{db_error(exc)}")
        raise DatabaseError(f"记录发送结果时数据库出错：{db_error(exc)}") from None
    except Stopping:
        recorder.give_back()
    except LockLost as exc:
        recorder.release(exc.message)
        raise
    except Exception as exc:
        recorder.release(f"发送中断：{exc}")
        raise DeliveryError(f"发送中断（{type(exc).__name__}）：{exc}") from None
    except BaseException:
        recorder.release("发送被中断")
        raise

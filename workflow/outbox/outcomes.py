"""Outcomes of a delivery run: each result becomes a row update, recorded at once.

:class:`Recorder` is the sink's ``on_result``: sent, temporary, permanent or blocked, plus the
outbox's own verdicts (a row that cannot be rendered, a row that went stale before sending).
``attempts`` counts answers from the mail server only: a sent mail, a 4xx/5xx, a refused or
dropped connection. Rendering failures, stale rows, wrong settings and rows released after our
own process broke off use up nothing, so a sender killed again and again never fails a mail.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from notifiers.email import DeliveryResult
from notifiers.message import make_message_id
from workflow.errors import DatabaseError
from workflow.outbox.claims import Claimed, Writer, claim_token, record, renew
from workflow.outbox.settings import NotifySettings
from workflow.storage.db import Database
from workflow.storage.models import Notification

LOCK_CHECK_SECONDS = 1.0  # how often a sender makes sure it still holds the senders' lock
RESEND_OF, RESEND_N = "_resend_of", "_resend_n"  # context keys of a resend row


def message_key(row: Notification) -> str:
    """The key a row's Message-ID is made from: a resend keeps its original's Message-ID."""
    return str((row.context or {}).get(RESEND_OF) or row.key)


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
    """What one :func:`deliver_pending` run did. ``errors`` lists every row not cleanly sent.

    ``waiting`` / ``next_retry_at``: pending rows not yet due after the run (backing off after a
    temporary failure), and when the first of them is due; ``sending_elsewhere``: rows another
    live sender holds right now.
    """

    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    dropped: int = 0  # stale before sending (see workflow.outbox.fresh)
    blocked: int = 0  # kept queued because the SMTP settings are wrong
    blocked_error: str | None = None
    errors: list[RowOutcome] = field(default_factory=list)
    waiting: int = 0
    next_retry_at: datetime | None = None
    sending_elsewhere: int = 0
    retried_now: int = 0  # rows made due at once by ``--now``
    released: int = 0  # given back unsent because the daemon was stopping
    reclaimed: int = 0  # claims of senders that had died, made due again before this run
    robot_held: int = 0  # robot rows kept queued because that robot's settings are wrong
    robot_blocked: dict[str, str] = field(default_factory=dict)  # one message per robot

    @property
    def total(self) -> int:
        done = self.sent + self.failed + self.retried + self.skipped + self.dropped
        return done + self.blocked + self.robot_held

    def summary(self, robots: bool = True) -> str:
        """One line; ``robots``: include the wrong robots' messages (the CLI prints them apart)."""
        parts = [f"{self.retried_now} 封等待重试的通知已改为立即重试"] if self.retried_now else []
        if self.reclaimed:
            parts.insert(0, f"收回已退出的发送进程领取的 {self.reclaimed} 封")
        if self.total:
            text = f"已发送 {self.sent} 封，失败 {self.failed} 封，稍后重试 {self.retried} 封"
            if self.dropped:
                text += f"，作废 {self.dropped} 封（内容已过时）"
            if self.skipped:
                text += f"，跳过 {self.skipped} 封（已由其他进程接手）"
            if (
                robots and self.robot_blocked
            ):  # one message per misconfigured robot (workflow.outbox.robots)
                text += f"；{self.robot_held} 条群机器人通知因机器人设置有误仍在队列中："
                text += "；".join(self.robot_blocked.values())
            parts.append(text)
        elif not self.waiting and not self.sending_elsewhere and not parts and not self.released:
            return "没有待发送的通知"
        else:
            parts.append("现在没有到期的通知")
        if self.waiting:
            when = _local(self.next_retry_at)
            parts.append(
                f"{self.waiting} 封等待重试，最早于 {when}"
                "（可运行 duban notify send --now 立即重试）"
            )
        if self.sending_elsewhere:
            parts.append(f"{self.sending_elsewhere} 封正由另一个发送进程发送")
        if self.released:
            parts.append(f"{self.released} 封因停止而放回队列")
        return "；".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "skipped": self.skipped,
            "dropped": self.dropped,
            "blocked": self.blocked,
            "waiting": self.waiting,
            "next_retry_at": self.next_retry_at,
            "sending_elsewhere": self.sending_elsewhere,
            "retried_now": self.retried_now,
            "released": self.released,
            "reclaimed": self.reclaimed,
            "robot_held": self.robot_held,
            "robot_blocked": list(self.robot_blocked.values()),
            "errors": [e.to_dict() for e in self.errors],
        }


def _local(at: datetime | None) -> str:
    from workflow.dates.clock import SHANGHAI

    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


class Stopping(Exception):
    """The daemon is stopping (SIGTERM): claim nothing more, give back what is not sent."""


class LockLost(DatabaseError):
    """The senders' lock went away under a running sender (PostgreSQL restarted)."""


def _refusals(refused: dict[str, str]) -> str:
    return "；".join(f"{addr}：{why}" for addr, why in refused.items())


class Recorder:
    """Turns each delivery result into a row update and keeps the summary."""

    def __init__(
        self,
        db: Database,
        settings: NotifySettings,
        now: datetime,
        domain: str,
        summary: DeliverySummary,
        tick: Callable[[], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db, self.settings, self.now, self.domain = db, settings, now, domain
        self.writer = Writer(db)
        self.summary = summary
        self.tick = tick
        self.monotonic = monotonic
        self.started = monotonic()
        self.claimed: Claimed | None = None
        self.notes: dict[str, str] = {}  # key -> what was left out of the mail (fresh.py)
        self.robots: Any = None  # workflow.outbox.robots.RobotDelivery, set by deliver_pending
        self.stop: Callable[[], bool] = lambda: False  # set by deliver_pending (the daemon)
        self.lock_held: Callable[[], bool] = lambda: True  # set by deliver_pending
        self.sender: int | None = None  # this sender's number (workflow.outbox.senders)
        self.lock_checked = self.started
        self.releasing = False

    def hold(self, claimed: Claimed) -> None:
        """Work on a fresh claim; it is renewed every third of ``claim_minutes``."""
        claimed.renew_at = self.monotonic() + self.settings.claim_minutes * 60 / 3
        self.claimed = claimed
        self.notes = {}

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
        renew(self.db, claimed, claim_token(self.now + elapsed, self.settings, self.sender))
        claimed.renew_at = self.monotonic() + self.settings.claim_minutes * 60 / 3

    def _note(self, row: Notification, status: str, error: str | None) -> None:
        self.summary.errors.append(
            RowOutcome(row.id or 0, row.key, row.kind, row.recipient_name, status, error)
        )

    def failed(self, row: Notification, error: str, *, answered: bool = True) -> None:
        """Failed for good; ``answered``: the mail server's answer (counts as an attempt)."""
        values: dict[str, Any] = {"state": "failed", "last_error": error, "next_attempt_at": None}
        if answered:
            values["attempts"] = row.attempts + 1
        self._apply(row, values, "failed", error)

    def temporary(self, row: Notification, error: str) -> None:
        """A temporary answer (4xx, refused or dropped connection, timeout): one attempt."""
        attempts = row.attempts + 1
        if attempts >= self.settings.max_attempts:
            self.failed(row, f"{error}（已尝试 {attempts} 次，不再重试）")
            return
        wait = self.settings.backoff_minutes(attempts)
        retry_at = (self.now + timedelta(minutes=wait)).replace(microsecond=0)  # not a claim
        values = {"attempts": attempts, "last_error": error, "next_attempt_at": retry_at}
        self._apply(row, values, "retry", f"{error}（{wait} 分钟后重试）")

    def blocked(self, row: Notification, error: str) -> None:
        """The settings are wrong, not the row: keep it queued and due; no attempt used."""
        values = {
            "last_error": error,
            "next_attempt_at": self.now.replace(microsecond=0),  # due; a whole second: no claim
        }
        self.summary.blocked_error = self.summary.blocked_error or error
        self._apply(row, values, "blocked", error)

    def dropped(self, row: Notification, reason: str) -> None:
        """Stale before it went out (everything in it was reported, cancelled, moved)."""
        values = {"state": "dropped", "note": reason, "next_attempt_at": None}
        self._apply(row, values, "dropped", reason)

    def _apply(self, row: Notification, values: dict[str, Any], status: str, error) -> None:
        assert self.claimed is not None
        if not record(self.writer, self.claimed, row, values):
            self.summary.skipped += 1
            self._note(row, "skipped", "已由其他发送进程接手")
        else:
            if status == "failed":
                self.summary.failed += 1
            elif status == "retry":
                self.summary.retried += 1
            elif status == "blocked":
                self.summary.blocked += 1
            elif status == "dropped":
                self.summary.dropped += 1
            self._note(row, status, error)
        self.keep_claim()
        self.tick()

    def __call__(self, result: DeliveryResult) -> None:
        """The sink's ``on_result``: record one outcome at once."""
        assert self.claimed is not None
        row = self.claimed.rows[result.key]
        if result.status == "sent":
            self.sent(row, result)
        elif result.status == "temporary":
            self.temporary(row, result.error or "暂时无法发送")
        elif result.status == "blocked":
            self.blocked(row, result.error or "SMTP 设置有误")
        else:
            error = result.error or "发送失败"
            if result.refused and "收件人" not in error:
                error += "：" + _refusals(result.refused)
            self.failed(row, error)

    def sent(self, row: Notification, result: DeliveryResult) -> None:
        assert self.claimed is not None
        values: dict[str, Any] = {
            "state": "sent",
            "sent_at": self.now,
            "message_id": make_message_id(message_key(row), self.domain),
            "next_attempt_at": None,
            "attempts": row.attempts + 1,
            "last_error": None,
        }
        resend = None
        if result.refused:
            later = [a for a in result.refused if a in result.refused_temporarily]
            resend = self._resend(row, later, result.refused) if later else None
            refusals = "部分收件人被拒收：" + _refusals(result.refused)
            if resend:
                refusals += f"（暂时拒收的地址将另行重发：{resend['key']}）"
            values["last_error"] = refusals
        note = self.notes.get(row.key)
        if note:
            values["note"] = note
        if not record(self.writer, self.claimed, row, values, resend):
            self.summary.skipped += 1
            self._note(row, "skipped", "已由其他发送进程接手")
        else:
            self.summary.sent += 1
            if result.refused:
                self._note(row, "sent", values["last_error"])
        self.keep_claim()
        self.tick()

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
        """Stopping: rows not yet sent are due again at once (no attempt used: claims are not
        attempts)."""
        assert self.claimed is not None
        self.releasing = True
        for key, row in self.claimed.rows.items():
            if key in self.claimed.settled:
                continue
            values = {"next_attempt_at": self.now.replace(microsecond=0)}  # due; not a claim
            try:
                if record(self.writer, self.claimed, row, values):
                    self.summary.released += 1
            except Exception:  # noqa: BLE001 - best effort; the claim is released at next start
                return

    def release(self, error: str) -> None:
        """After the sending stopped early (our side broke off: the database, the lock, an
        interruption): rows not yet settled go back to the queue after a short back-off, with
        their attempts unchanged (the mail server did not answer for them)."""
        assert self.claimed is not None
        self.releasing = True  # giving the claim back: nothing to keep or check
        retry_at = (self.now + timedelta(minutes=self.settings.retry_minutes)).replace(
            microsecond=0
        )
        values = {"last_error": error, "next_attempt_at": retry_at}
        for key, row in self.claimed.rows.items():
            if key not in self.claimed.settled:
                try:
                    if record(self.writer, self.claimed, row, values):
                        self.summary.retried += 1
                        self._note(row, "retry", error)
                except Exception:  # noqa: BLE001 - best effort; the claim expires anyway
                    return

    def close(self) -> None:
        self.writer.close()

"""Email delivery over SMTP with aiosmtplib: pooled connections, bounded concurrency.

A batch is spread over ``settings.concurrency`` workers; each worker holds one SMTP
connection for as many messages as it takes from the shared queue, and reconnects when the
server drops it. ``on_result`` runs as soon as one message's outcome is known, so the
caller can mark that outbox row at once: a crash then repeats at most the message in flight
(with the same Message-ID).

Outcomes (see :func:`classify`):

* ``sent``: the server accepted the message for at least one recipient; addresses it
  refused (or that were malformed) are listed in ``refused``.
* ``temporary``: worth retrying later (4xx, connection refused, timeout, dropped
  connection). The caller keeps the row pending; nothing is lost.
* ``permanent``: retrying this message will not help (5xx, every recipient refused or
  malformed).
* ``blocked``: the *settings* are wrong, not the message (password rejected, 530 authentication
  required, the sender address refused, certificate not trusted, STARTTLS or AUTH not offered):
  every message would fail the same way, so the batch stops there and every remaining message
  is ``blocked`` too. The caller keeps them queued for when the settings are fixed.

When no worker can connect at all, every remaining message gets the connection error's
classification without further connection attempts (one failed connect per worker, not one
per message).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import aiosmtplib

from notifiers.failures import _refused_by, classify, describe, explain_reply
from notifiers.message import (
    SHANGHAI,
    LazyMessage,
    Message,
    MessageError,
    bare_address,
    message_bytes,
    resolve,
    split_recipients,
)

TlsMode = Literal["none", "starttls", "ssl"]
Status = Literal["sent", "temporary", "permanent", "blocked"]
TLS_MODES: tuple[str, ...] = ("none", "starttls", "ssl")

ResultCallback = Callable[["DeliveryResult"], None]
Clock = Callable[[], datetime]


class SettingsError(ValueError):
    """SMTP settings that cannot work (unknown TLS mode, bad port, concurrency < 1)."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the office's SMTP server. ``sender`` may carry a Chinese display name.

    ``ca_file`` trusts an extra CA bundle (an internal CA) while still validating.
    ``local_hostname`` is the EHLO name (default: the machine's FQDN).
    """

    host: str
    port: int
    user: str | None
    password: str | None = field(repr=False)
    tls: TlsMode
    sender: str
    timeout: float = 30
    concurrency: int = 4
    validate_certs: bool = True
    ca_file: str | None = None
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise SettingsError(f"SMTP tls 只能是 none、starttls 或 ssl，实际为 {self.tls!r}")
        if not 0 < int(self.port) < 65536:
            raise SettingsError(f"SMTP 端口无效：{self.port}")
        if self.concurrency < 1:
            raise SettingsError(f"SMTP 并发连接数至少为 1，实际为 {self.concurrency}")
        if not self.host:
            raise SettingsError("SMTP 服务器地址为空")


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one message. ``refused`` maps refused recipients to the reason (Chinese,
    with the server's code and words); ``refused_temporarily`` lists those refused with a 4xx
    (greylisting, a full mailbox), worth sending to again later."""

    key: str
    status: Status
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)
    refused_temporarily: tuple[str, ...] = ()


# ---------------------------------------------------------------- connections

# Failures meaning "the connection went away under us": reconnect and try once more.
_DROPPED = (aiosmtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError)


class _ConnectFailed(Exception):
    """A worker could not (re)connect; ``cause`` is the original error."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _where(settings: SmtpSettings) -> str:
    """``host:port`` as the office wrote it in [smtp] (IPv6 in brackets)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{host}:{settings.port}"


def _make_client(settings: SmtpSettings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        username=settings.user or None,
        password=settings.password if settings.user else None,
        use_tls=settings.tls == "ssl",
        start_tls=settings.tls == "starttls",
        validate_certs=settings.validate_certs,
        cert_bundle=settings.ca_file,
        timeout=settings.timeout,
        local_hostname=settings.local_hostname,
    )


class _Connection:
    """One worker's SMTP connection, opened lazily and reopened after a drop."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def ensure(self) -> aiosmtplib.SMTP:
        if self.client is not None and self.client.is_connected:
            return self.client
        await self.close()
        client = _make_client(self.settings)
        try:
            await client.connect()  # also STARTTLS and AUTH as configured
        except BaseException as exc:
            client.close()
            raise _ConnectFailed(exc) from exc
        self.client = client
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        else:
            client.close()


# ---------------------------------------------------------------- one mail transaction


async def _transaction(
    client: aiosmtplib.SMTP, sender: str, recipients: list[str], data: bytes
) -> dict[str, aiosmtplib.SMTPResponse]:
    """One mail on an open connection: what ``SMTP.sendmail`` puts on the wire (EHLO when none
    yet, ``MAIL FROM:<sender> size=N``, one RCPT per recipient, DATA, the message, ``.``; RSET
    after a refusal), with the same exceptions and the refused recipients returned, without
    its per-mail costs (~0.3 ms, a quarter of the outbox's CPU): ``sendmail`` parses every
    address four times with ``email.utils.parseaddr`` and runs three regex passes over the
    message to make its line ends CRLF and double its leading dots.

    Here ``sender`` and ``recipients`` are bare addresses ``is_valid_address`` accepted (plain
    ASCII, nothing to quote, nothing to inject) and ``data`` is in wire form as
    :func:`~notifiers.message.message_bytes` writes it: CRLF line ends, a final CRLF, and no
    line starting with a dot (its lines are headers, base64 and MIME boundaries).

    Each reply may take ``client.timeout``, as with aiosmtplib, watched by one deadline
    (``asyncio.timeout``) rather than aiosmtplib's ``wait_for`` around every read, which costs
    a future, a timer and an extra turn of the event loop per reply (~0.15 ms a mail). The
    deadline is moved only when a command would otherwise get less than ``timeout``, and then
    an eighth of it further (a second at most): a reply waits at least ``timeout``, at most
    that much longer, and the timer is set about once a second, not four times a mail. A reply
    too late raises the same SMTPReadTimeoutError and closes the connection, as aiosmtplib does.
    """
    loop = asyncio.get_running_loop()
    timeout = client.timeout
    slack = min(timeout / 8, 1.0) if timeout is not None else 0.0
    deadline = asyncio.timeout(None)

    def command() -> None:  # the reply to the command about to be sent is due by then
        if timeout is not None:
            due, now = deadline.when(), loop.time()
            if due is None or due < now + timeout:
                deadline.reschedule(now + timeout + slack)

    try:
        async with deadline:
            return await _envelope_and_data(client, sender, recipients, data, command)
    except TimeoutError:
        if not deadline.expired():
            raise  # aiosmtplib's own (EHLO): it has closed the connection
        client.close()  # out of step with the server, as aiosmtplib leaves it
        raise aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response") from None


async def _envelope_and_data(
    client: aiosmtplib.SMTP,
    sender: str,
    recipients: list[str],
    data: bytes,
    command: Callable[[], None],
) -> dict[str, aiosmtplib.SMTPResponse]:
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            if not client.is_connected:
                raise
            await client.helo()
    options = [f"size={len(data)}".encode("ascii")] if client.supports_extension("size") else []
    refused: list[aiosmtplib.SMTPRecipientRefused] = []
    try:
        command()
        response = await client.execute_command(
            b"MAIL", b"FROM:<" + sender.encode("ascii") + b">", *options, timeout=None
        )
        if response.code != aiosmtplib.SMTPStatus.completed:
            raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)
        for address in recipients:
            command()
            response = await client.execute_command(
                b"RCPT", b"TO:<" + address.encode("ascii") + b">", timeout=None
            )
            if response.code not in (
                aiosmtplib.SMTPStatus.completed,
                aiosmtplib.SMTPStatus.will_forward,
            ):
                refused.append(
                    aiosmtplib.SMTPRecipientRefused(response.code, response.message, address)
                )
        if len(refused) == len(recipients):
            raise aiosmtplib.SMTPRecipientsRefused(refused)
        await _data(client, data, command)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        # reset the envelope for the next message, as sendmail does
        command()
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.execute_command(b"RSET", timeout=None)
        raise
    return {r.recipient: aiosmtplib.SMTPResponse(r.code, r.message) for r in refused}


async def _data(client: aiosmtplib.SMTP, data: bytes, command: Callable[[], None]) -> None:
    """DATA, then the message (in wire form: nothing to dot-stuff) and the final ``.``."""
    command()
    response = await client.execute_command(b"DATA", timeout=None)
    if response.code != aiosmtplib.SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    command()
    try:
        protocol.write(data + b".\r\n")
        response = await protocol.read_response(timeout=None)
    except aiosmtplib.SMTPServerDisconnected:
        client.close()  # as aiosmtplib does
        raise
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)


# ---------------------------------------------------------------- the batch


@dataclass
class _Batch:
    pending: deque[tuple[int, Message | LazyMessage]]
    results: list[DeliveryResult | None]
    on_result: ResultCallback | None
    now: Clock
    live: int = 0  # workers connected or still trying to
    callback_error: BaseException | None = None

    def record(self, index: int, result: DeliveryResult) -> None:
        self.results[index] = result
        if self.on_result is None or self.callback_error is not None:
            return
        try:
            self.on_result(result)
        except BaseException as exc:  # stop sending: the caller cannot record outcomes
            self.callback_error = exc

    def drain(self, exc: BaseException, where: str) -> None:
        """No worker can connect: settle every remaining message with that error.

        A connection that fails for good before any message was offered (AUTH not offered,
        a protocol mismatch) is the settings' fault: ``blocked``, never ``permanent``.
        """
        status = classify(exc)
        self.settle_rest("blocked" if status == "permanent" else status, describe(exc, where))

    def settle_rest(self, status: Status, error: str) -> None:
        while self.pending and self.callback_error is None:
            index, item = self.pending.popleft()
            message = self.take(index, item)
            if message is not None:
                result = _unsendable(message) or DeliveryResult(message.key, status, error)
                self.record(index, result)

    def take(self, index: int, item: Message | LazyMessage) -> Message | None:
        """The message to send; None when it was settled without sending: the caller could
        not build it (recorded by the caller, no ``on_result``), or building it raised (the
        batch stops and the error is re-raised, like a failing ``on_result``)."""
        try:
            message = resolve(item)
        except BaseException as exc:  # noqa: BLE001 - re-raised by deliver_batch
            self.callback_error = exc
            self.results[index] = DeliveryResult(item.key, "temporary", "未发送")
            return None
        if message is None:
            self.results[index] = DeliveryResult(item.key, "permanent", "未生成邮件")
        return message


def _no_address(message: Message, bad: dict[str, str]) -> DeliveryResult:
    return DeliveryResult(message.key, "permanent", "没有可用的收件人地址", refused=bad)


def _unsendable(message: Message) -> DeliveryResult | None:
    """A permanent result when no recipient address is usable, else None."""
    good, bad = split_recipients(message)
    return None if good else _no_address(message, bad)


async def _send_one(
    conn: _Connection, message: Message, now: datetime, good: list[str], bad: dict[str, str]
) -> DeliveryResult:
    """Send one message to ``good`` on the worker's connection, reconnecting once if it was
    dropped. Raises :class:`_ConnectFailed` when (re)connecting fails: the message was not sent.
    """
    try:
        # Built once here (CRLF, 7-bit: RFC 2047 headers, base64 bodies), so a retry after a
        # reconnect sends the very same bytes.
        data = message_bytes(message, now=now)
    except MessageError as exc:  # a malformed sender: no server will take it
        return DeliveryResult(message.key, "permanent", str(exc), refused=bad)
    envelope_from = bare_address(message.sender)
    where = _where(conn.settings)
    for attempt in range(2):
        client = await conn.ensure()
        try:
            errors = await _transaction(client, envelope_from, good, data)
        except _DROPPED as exc:
            await conn.close()
            if attempt == 0:
                continue
            return DeliveryResult(message.key, classify(exc), describe(exc, where), refused=bad)
        except Exception as exc:
            if not client.is_connected:
                await conn.close()
            why, later = _refused_by(exc)
            return DeliveryResult(
                message.key, classify(exc), describe(exc, where), {**bad, **why}, later
            )
        if not errors and not bad:
            return DeliveryResult(message.key, "sent")
        refused = {**bad, **{a: explain_reply(r.code, r.message) for a, r in errors.items()}}
        later = tuple(a for a, r in errors.items() if 400 <= r.code < 500)
        return DeliveryResult(message.key, "sent", None, refused, later)
    raise AssertionError("unreachable")  # pragma: no cover


async def _worker(batch: _Batch, settings: SmtpSettings) -> None:
    conn = _Connection(settings)
    try:
        while batch.pending and batch.callback_error is None:
            index, item = batch.pending.popleft()
            message = batch.take(index, item)
            if message is None:
                continue
            good, bad = split_recipients(message)
            if not good:
                batch.record(index, _no_address(message, bad))
                continue
            try:
                result = await _send_one(conn, message, batch.now(), good, bad)
            except _ConnectFailed as failed:
                batch.pending.appendleft((index, message))  # built: not built twice
                batch.live -= 1
                if batch.live == 0:
                    batch.drain(failed.cause, _where(settings))
                return
            batch.record(index, result)
            if result.status == "blocked":  # the settings are wrong: the rest would fail too
                batch.settle_rest("blocked", result.error or "")
        batch.live -= 1
    finally:
        await conn.close()


def _default_clock() -> datetime:
    return datetime.now(SHANGHAI)


async def deliver_batch(
    messages: Iterable[Message | LazyMessage],
    settings: SmtpSettings,
    on_result: ResultCallback | None = None,
    *,
    now: Clock | None = None,
) -> list[DeliveryResult]:
    """Deliver ``messages``; return one result per message, in input order.

    ``on_result`` is called once per message right after its outcome is known. If it
    raises, no further message is sent and the exception is re-raised after the open
    connections are closed. ``now`` supplies the Date header (default: current time in
    Asia/Shanghai).
    """
    items = list(messages)
    batch = _Batch(
        pending=deque(enumerate(items)),
        results=[None] * len(items),
        on_result=on_result,
        now=now or _default_clock,
    )
    workers = min(settings.concurrency, len(items))
    batch.live = workers
    await asyncio.gather(*(_worker(batch, settings) for _ in range(workers)))
    if batch.callback_error is not None:
        raise batch.callback_error
    missing = [i for i, r in enumerate(batch.results) if r is None]
    if missing:  # pragma: no cover - a logic error, never a delivery outcome
        raise RuntimeError(f"messages without a delivery result: {missing[:5]}")
    return [r for r in batch.results if r is not None]


def deliver(
    messages: Iterable[Message | LazyMessage],
    settings: SmtpSettings,
    on_result: ResultCallback | None = None,
    *,
    now: Clock | None = None,
) -> list[DeliveryResult]:
    """Synchronous :func:`deliver_batch` for callers outside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(deliver_batch(messages, settings, on_result, now=now))
    raise RuntimeError("deliver() cannot run inside an event loop; await deliver_batch()")


class SmtpSink:
    """SMTP delivery behind the same ``deliver(messages, on_result)`` contract as the sinks."""

    def __init__(self, settings: SmtpSettings, *, now: Clock | None = None) -> None:
        self.settings = settings
        self.now = now

    def deliver(
        self, messages: Iterable[Message | LazyMessage], on_result: ResultCallback | None = None
    ) -> list[DeliveryResult]:
        return deliver(messages, self.settings, on_result, now=self.now)

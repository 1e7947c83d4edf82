"""SMTP delivery against a real aiosmtpd server on a loopback port."""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import ssl
from collections import Counter
from datetime import datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import aiosmtplib
import pytest
from smtp_server import SmtpServer, TlsFiles, free_port, make_tls_files

from notifiers.email import (
    DeliveryResult,
    SettingsError,
    SmtpSettings,
    SmtpSink,
    classify,
    deliver,
    deliver_batch,
)
from notifiers.failures import describe
from notifiers.message import Message, make_message_id

# Implicit TLS: aiosmtpd cannot see the TLS layer, so AUTH is allowed "without TLS" there.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
DOMAIN = "office.example.cn"
SENDER = "江门市政务公开办公室 <duban@office.example.cn>"
BODY = "请于2026年3月5日前报送《关于推进政务公开标准化规范化工作》的进展落实情况。" * 8  # ~1 KB


def clock() -> datetime:
    return NOW


def make_message(i: int, *, to: tuple[str, ...] | None = None, cc: tuple[str, ...] = ()) -> Message:
    key = f"reminder:{i}:2026-03-05:1"
    return Message(
        key=key,
        message_id=make_message_id(key, DOMAIN),
        sender=SENDER,
        to=to or (f"政法科{i} <unit{i}@units.example.cn>",),
        cc=cc,
        subject=f"【督办提醒】第{i}项任务即将到期",
        text=f"第{i}项：{BODY}",
        html=f"<p>第{i}项：{BODY}</p>",
    )


@pytest.fixture
def server():
    with SmtpServer() as s:
        yield s


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def send(messages, settings, on_result=None) -> list[DeliveryResult]:
    return deliver(messages, settings, on_result, now=clock)


# ---------------------------------------------------------------- the happy path


def test_500_messages_delivered_exactly_once_over_reused_connections(server):
    messages = [make_message(i) for i in range(500)]
    reported: list[str] = []
    results = send(messages, server.settings(concurrency=4), lambda r: reported.append(r.key))

    assert [r.key for r in results] == [m.key for m in messages]
    assert {r.status for r in results} == {"sent"}
    assert sorted(reported) == sorted(m.key for m in messages)
    received = server.received
    assert len(received) == 500
    counts = Counter(r.message_id for r in received)
    assert set(counts) == {m.message_id for m in messages}
    assert max(counts.values()) == 1
    assert 1 <= server.connections <= 4  # one connection per worker, not per message
    by_id = {r.message_id: r for r in received}
    for m in messages[:20]:
        got = by_id[m.message_id]
        assert got.rcpt_tos == (m.to[0].split("<")[1].rstrip(">"),)
        assert got.subject == m.subject


def test_headers_and_both_parts(server):
    message = make_message(
        7,
        to=("王科长 <wang@units.example.cn>", "li@units.example.cn"),
        cc=("办公室 <bgs@office.example.cn>",),
    )
    [result] = send([message], server.settings())
    assert result == DeliveryResult(message.key, "sent")

    [got] = server.received
    assert got.mail_from == "duban@office.example.cn"
    assert set(got.rcpt_tos) == {
        "wang@units.example.cn",
        "li@units.example.cn",
        "bgs@office.example.cn",
    }
    msg = got.message
    assert msg["Message-ID"] == make_message_id(message.key, DOMAIN)
    assert msg["From"].addresses[0].display_name == "江门市政务公开办公室"
    assert msg["From"].addresses[0].addr_spec == "duban@office.example.cn"
    assert [a.display_name for a in msg["To"].addresses] == ["王科长", ""]
    assert msg["Cc"].addresses[0].addr_spec == "bgs@office.example.cn"
    assert msg["Subject"] == "【督办提醒】第7项任务即将到期"
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Duban-Key"] == message.key
    assert msg.get_content_type() == "multipart/alternative"
    assert got.text.strip() == message.text
    assert got.html.strip() == message.html
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8"
    # Headers travel RFC 2047 encoded: nothing but ASCII on the wire.
    head = got.raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    assert b"=?utf-8?" in head


def test_text_only_message_is_not_multipart(server):
    message = Message(
        key="test:1",
        message_id=make_message_id("test:1", DOMAIN),
        sender=SENDER,
        to=("a@units.example.cn",),
        subject="【督办】邮件发送测试",
        text="测试",
    )
    send([message], server.settings())
    [got] = server.received
    assert got.message.get_content_type() == "text/plain"
    assert got.message.get_content().strip() == "测试"


def test_same_key_always_gives_the_same_message_id(server):
    assert make_message_id("digest:李局长:2026-03-02", DOMAIN) == make_message_id(
        "digest:李局长:2026-03-02", DOMAIN
    )
    assert make_message_id("a", DOMAIN) != make_message_id("b", DOMAIN)
    assert make_message_id("a", DOMAIN).startswith("<duban.")
    assert make_message_id("a", DOMAIN).endswith("@office.example.cn>")
    # A resend (e.g. after a crash before mark-sent) carries the same Message-ID.
    message = make_message(1)
    send([message], server.settings())
    send([message], server.settings())
    assert server.message_ids() == [message.message_id, message.message_id]


def test_on_result_runs_before_the_next_message_is_sent(server):
    """The caller can mark each row sent at once: a crash repeats at most one message."""
    seen: list[int] = []
    messages = [make_message(i) for i in range(10)]
    send(messages, server.settings(concurrency=1), lambda r: seen.append(len(server.received)))
    assert seen == list(range(1, 11))


def test_a_failing_callback_stops_the_batch(server):
    calls = 0

    def on_result(result: DeliveryResult) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("database is gone")

    with pytest.raises(RuntimeError, match="database is gone"):
        send([make_message(i) for i in range(10)], server.settings(concurrency=1), on_result)
    assert len(server.received) == 3


def test_reconnects_when_the_server_drops_the_connection(server):
    server.close_after(3)
    messages = [make_message(i) for i in range(20)]
    results = send(messages, server.settings(concurrency=2))
    assert {r.status for r in results} == {"sent"}
    assert Counter(server.message_ids()) == Counter(m.message_id for m in messages)
    assert server.connections >= 7  # 20 messages, at most 3 per connection


def test_sink_wrapper_and_async_entry_point(server):
    results = SmtpSink(server.settings(), now=clock).deliver([make_message(1)])
    assert results[0].status == "sent"
    results = asyncio.run(deliver_batch([make_message(2)], server.settings(), now=clock))
    assert results[0].status == "sent"
    assert len(server.received) == 2


def test_empty_batch_connects_nowhere(server):
    assert send([], server.settings()) == []
    assert server.connections == 0


def test_deliver_refuses_to_run_inside_an_event_loop(server):
    async def inside() -> None:
        deliver([make_message(1)], server.settings())

    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(inside())


# ---------------------------------------------------------------- failures


def test_server_down_keeps_everything_temporary_then_delivers(server):
    messages = [make_message(i) for i in range(30)]
    server.down()
    results = send(messages, server.settings(concurrency=4))
    assert [r.status for r in results] == ["temporary"] * 30
    assert all("无法连接" in (r.error or "") for r in results)

    server.up()
    results = send(messages, server.settings(concurrency=4))
    assert {r.status for r in results} == {"sent"}
    assert Counter(server.message_ids()) == Counter(m.message_id for m in messages)


def test_server_dying_mid_batch_loses_nothing(server):
    """Sent ones are reported sent, the rest temporary; the retry delivers each exactly once."""
    messages = [make_message(i) for i in range(10)]
    done: list[DeliveryResult] = []

    def on_result(result: DeliveryResult) -> None:
        done.append(result)
        if len(done) == 3:
            server.down()

    first = send(messages, server.settings(concurrency=1), on_result)
    assert [r.status for r in first] == ["sent"] * 3 + ["temporary"] * 7
    assert server.message_ids() == [m.message_id for m in messages[:3]]

    server.up()
    retry = [m for m, r in zip(messages, first, strict=True) if r.status == "temporary"]
    assert {r.status for r in send(retry, server.settings())} == {"sent"}
    assert Counter(server.message_ids()) == Counter(m.message_id for m in messages)


def test_a_server_that_never_answers_times_out_as_temporary():
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings = SmtpSettings("127.0.0.1", port, None, None, "none", SENDER, timeout=0.3)
        results = send([make_message(i) for i in range(3)], settings)
    assert [r.status for r in results] == ["temporary"] * 3
    assert all("超时" in (r.error or "") for r in results)


class _SlowReplies:
    """aiosmtpd hooks that answer MAIL, RCPT or DATA only after ``delay`` seconds."""

    def __init__(self, slow: str, delay: float) -> None:
        self.slow, self.delay = slow, delay
        self.accepted = 0

    async def _wait(self, command: str) -> None:
        if command == self.slow:
            await asyncio.sleep(self.delay)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self._wait("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._wait("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._wait("DATA")
        self.accepted += 1
        return "250 OK"


@pytest.mark.parametrize("slow", ["MAIL", "RCPT", "DATA"])
def test_a_reply_slower_than_the_timeout_is_temporary_and_drops_the_connection(slow):
    """Each reply of a mail waits at most ``timeout``: past it the mail is temporary (the
    server may still take it: the outbox retries it with the same Message-ID), the connection
    is dropped (out of step) and the next mail goes on a new one; replies that come in time,
    however many in a row, never add up to a timeout."""
    from aiosmtpd.controller import Controller

    handler = _SlowReplies(slow, 1.0)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = SmtpSettings(
            "127.0.0.1", controller.port, None, None, "none", SENDER, timeout=0.4,
            concurrency=1, local_hostname="duban.test",
        )  # fmt: skip
        results = send([make_message(1)], settings)
        assert [r.status for r in results] == ["temporary"]
        assert results[0].error == f"SMTP 服务器 127.0.0.1:{controller.port} 响应超时"
        handler.delay = 0.25  # each reply in time; together longer than the timeout
        results = send([make_message(2), make_message(3)], settings)
        assert [r.status for r in results] == ["sent", "sent"]
    finally:
        controller.stop()


def test_451_for_a_while_is_temporary_then_delivered_once(server):
    messages = [make_message(i) for i in range(12)]
    server.fail_next(5)
    first = send(messages, server.settings(concurrency=1))
    assert [r.status for r in first] == ["temporary"] * 5 + ["sent"] * 7
    assert "451" in (first[0].error or "")
    assert server.failed_data == 5

    retry = [m for m, r in zip(messages, first, strict=True) if r.status == "temporary"]
    second = send(retry, server.settings(concurrency=1))
    assert {r.status for r in second} == {"sent"}
    counts = Counter(server.message_ids())
    assert set(counts) == {m.message_id for m in messages}
    assert max(counts.values()) == 1


def test_550_for_one_address_fails_that_one_and_delivers_the_rest(server):
    server.refuse("gone@units.example.cn")
    lost = make_message(1, to=("gone@units.example.cn",))
    partly = make_message(2, to=("gone@units.example.cn", "ok@units.example.cn"))
    others = [make_message(i) for i in range(3, 8)]
    results = send([lost, partly, *others], server.settings(concurrency=2))

    assert results[0].status == "permanent"
    assert results[0].refused["gone@units.example.cn"].startswith("收件人邮箱不存在（550 5.1.1")
    assert "550" in (results[0].error or "")
    assert results[1].status == "sent"
    assert set(results[1].refused) == {"gone@units.example.cn"}
    assert [r.status for r in results[2:]] == ["sent"] * 5
    ids = server.message_ids()
    assert lost.message_id not in ids
    assert Counter(ids) == Counter([partly.message_id, *(m.message_id for m in others)])
    [got] = [r for r in server.received if r.message_id == partly.message_id]
    assert got.rcpt_tos == ("ok@units.example.cn",)


def test_greylisting_on_every_recipient_is_temporary(server):
    server.refuse("slow@units.example.cn", "450 4.2.0 Greylisted, try later")
    [result] = send([make_message(1, to=("slow@units.example.cn",))], server.settings())
    assert result.status == "temporary"
    assert "（450 4.2.0，" in result.refused["slow@units.example.cn"]
    assert result.refused_temporarily == ("slow@units.example.cn",)


def test_malformed_addresses_are_permanent_without_connecting(server):
    bad = make_message(1, to=("不是地址",))
    mixed = make_message(2, to=("not an address", "ok@units.example.cn"))
    results = send([bad, mixed], server.settings(concurrency=1))
    assert results[0].status == "permanent"
    assert results[0].refused == {"不是地址": "邮件地址格式无效"}
    assert results[1].status == "sent"
    assert set(results[1].refused) == {"not an address"}
    assert [r.rcpt_tos for r in server.received] == [("ok@units.example.cn",)]


# ---------------------------------------------------------------- TLS and AUTH


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login(mode, tls_files):
    with SmtpServer(tls=mode, user="duban", password="口令-s3cret", tls_files=tls_files) as server:
        messages = [make_message(i) for i in range(6)]
        results = send(messages, server.settings(concurrency=2))  # trusts the test CA
        assert {r.status for r in results} == {"sent"}
        assert len(server.received) == 6

        relaxed = server.settings(ca_file=None, validate_certs=False)
        assert send([make_message(9)], relaxed)[0].status == "sent"

        [untrusted] = send([make_message(10)], server.settings(ca_file=None))
        assert untrusted.status == "blocked"
        assert "证书校验失败" in (untrusted.error or "")


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_wrong_password_blocks_the_batch_and_is_tried_once_per_worker(mode, tls_files):
    with SmtpServer(tls=mode, user="duban", password="right", tls_files=tls_files) as server:
        results = send(
            [make_message(i) for i in range(5)], server.settings(password="wrong", concurrency=1)
        )
        assert [r.status for r in results] == ["blocked"] * 5
        assert all("认证失败：用户名或密码错误" in (r.error or "") for r in results)
        assert all("（535 5.7.8，服务器原文：" in (r.error or "") for r in results)
        # One connection: aiosmtplib tries each advertised mechanism (PLAIN, LOGIN) once.
        assert 1 <= server.auth_failures <= 2
        assert server.received == []


def test_starttls_required_but_client_plain_blocks_the_batch(tls_files):
    with SmtpServer(tls="starttls", user="duban", password="x", tls_files=tls_files) as server:
        results = send([make_message(i) for i in range(3)], server.settings(tls="none"))
        assert [r.status for r in results] == ["blocked"] * 3
        assert server.received == []


# ---------------------------------------------------------------- classification


def _refused(code: int) -> aiosmtplib.SMTPRecipientsRefused:
    return aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(code, "no", "a@b.cn")])


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (aiosmtplib.SMTPResponseException(451, "try later"), "temporary"),
        (aiosmtplib.SMTPDataError(452, "full"), "temporary"),
        (aiosmtplib.SMTPResponseException(421, "closing"), "temporary"),
        (aiosmtplib.SMTPResponseException(550, "no"), "permanent"),
        (aiosmtplib.SMTPSenderRefused(553, "no", "x@y.cn"), "blocked"),
        (aiosmtplib.SMTPSenderRefused(451, "later", "x@y.cn"), "temporary"),
        (aiosmtplib.SMTPResponseException(530, "authentication required"), "blocked"),
        (aiosmtplib.SMTPAuthenticationError(535, "bad"), "blocked"),
        (aiosmtplib.SMTPAuthenticationError(454, "temporary auth failure"), "temporary"),
        (aiosmtplib.SMTPConnectError("refused"), "temporary"),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), "temporary"),
        (aiosmtplib.SMTPReadTimeoutError("slow"), "temporary"),
        (aiosmtplib.SMTPServerDisconnected("gone"), "temporary"),
        (ConnectionRefusedError(111, "refused"), "temporary"),
        (TimeoutError(), "temporary"),
        (_refused(550), "permanent"),
        (_refused(450), "temporary"),
        (ssl.SSLCertVerificationError("bad cert"), "blocked"),
        (aiosmtplib.SMTPNotSupported("no STARTTLS"), "blocked"),
        (ValueError("bad address"), "permanent"),
    ],
)
def test_classify(exc, expected):
    assert classify(exc) == expected


def test_settings_validate_and_hide_the_password():
    with pytest.raises(SettingsError):
        SmtpSettings("h", 25, None, None, "tls", SENDER)  # type: ignore[arg-type]
    with pytest.raises(SettingsError):
        SmtpSettings("h", 0, None, None, "none", SENDER)
    with pytest.raises(SettingsError):
        SmtpSettings("h", 25, None, None, "none", SENDER, concurrency=0)
    assert "secret" not in repr(SmtpSettings("h", 25, "u", "secret", "starttls", SENDER))


def test_a_rendered_digest_arrives_intact(server):
    from datetime import date

    from notifiers.render import Renderer

    item = {
        "assignment_id": "A-1",
        "task_title": "及时发布政策解读<script>",
        "section": "一、深化重点领域信息公开",
        "due": date(2026, 2, 26),
        "working_days": -3,
        "state_label": "已逾期",
        "last_report": "已起草，待局长审签",
        "last_report_at": date(2026, 2, 25),
    }
    mail = Renderer().render(
        "digest",
        {
            "office": "江门市政务公开办公室",
            "leader": "李副局长",
            "as_of": date(2026, 3, 2),
            "period_label": "2026年第10周",
            "units": [{"unit": "政法科", "items": [item]}],
        },
    )
    key = "digest:李副局长:2026-03-02"
    message = Message(
        key=key,
        message_id=make_message_id(key, DOMAIN),
        sender=SENDER,
        to=("李副局长 <li@office.example.cn>",),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
    )
    assert send([message], server.settings())[0].status == "sent"
    [got] = server.received
    assert got.subject == mail.subject
    assert got.text.replace("\r\n", "\n") == mail.text
    assert got.html.replace("\r\n", "\n") == mail.html
    assert "&lt;script&gt;" in got.html


# ---------------------------------------------------------------- descriptions, in Chinese

# Words allowed outside the labelled originals: settings, protocol and standard names.
ALLOWED_WORDS = {
    "SMTP", "STARTTLS", "TLS", "AUTH", "EHLO", "HELO", "DNS", "CA", "IP", "SPF", "DKIM",
    "DMARC", "ASCII", "SMTPUTF8", "smtp", "tls", "ssl", "starttls", "none", "user", "ca_file",
}  # fmt: skip


def english_outside_originals(text: str) -> set[str]:
    """English words of ``text`` outside the ``服务器原文：…`` / ``系统原文：…`` brackets, mail
    addresses and host names."""
    bare = re.sub(r"(?:服务器|系统|平台)?原文：[^）]*）", "）", text)
    bare = re.sub(r"[\w.+-]+@[\w.-]+|[\w-]+(?:\.[\w-]+)+(?::\d+)?", "", bare)
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z_0-9]+", bare) if w not in ALLOWED_WORDS}


def _with_cause(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


def _cert(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code, error.verify_message = code, message
    return error


_CONNECT = "Error connecting to mail.example.cn on port 25: boom"
_R = aiosmtplib.SMTPResponseException

DESCRIPTIONS = [
    # the brief's own example: meaning first, then code, enhanced status and the server's words
    (
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(550, "5.1.1 Mailbox unavailable", "gone@units.cn")]
        ),
        "全部收件人被拒收：gone@units.cn：收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）",
    ),
    # plain reply codes (RFC 5321 / RFC 4954)
    (_R(421, "Service not available, closing channel"), "服务器暂不可用，已关闭连接"),
    (_R(450, "Requested mail action not taken"), "收件人邮箱暂时不可用"),
    (_R(451, "Local error in processing"), "服务器处理出错"),
    (_R(452, "Insufficient system storage"), "存储空间不足"),
    (_R(454, "TLS not available due to temporary reason"), "暂时无法完成登录或加密"),
    (_R(500, "Syntax error, command unrecognized"), "无法识别命令"),
    (_R(501, "Syntax error in parameters"), "参数语法错误"),
    (_R(502, "Command not implemented"), "未实现该命令"),
    (_R(503, "Bad sequence of commands"), "命令顺序错误"),
    (_R(504, "Command parameter not implemented"), "未实现该命令参数"),
    (_R(530, "Authentication required"), "要求先登录才能发信（530，服务器原文：Authentication required）"),
    (_R(534, "Authentication mechanism is too weak"), "登录方式不够安全"),
    (_R(535, "Authentication credentials invalid"), "用户名或密码错误"),
    (_R(538, "Encryption required"), "要求先加密连接才能登录"),
    (_R(550, "Requested action not taken: mailbox unavailable"), "邮箱不可用：不存在或拒绝接收"),
    (_R(551, "User not local"), "收件人不在该服务器上"),
    (_R(552, "Exceeded storage allocation"), "超出存储限制"),
    (_R(553, "Mailbox name not allowed"), "邮箱地址不被接受"),
    (_R(554, "Transaction failed"), "服务器拒绝处理该邮件"),
    (_R(555, "MAIL FROM/RCPT TO parameters not recognized"), "无法识别发件或收件参数"),
    (_R(559, "Something new"), "服务器拒绝了请求（559，服务器原文：Something new）"),
    (_R(459, ""), "服务器暂时无法处理，稍后重试（459）"),
    # enhanced status codes (RFC 3463) are more precise than the reply code
    (_R(550, "5.1.2 Host unknown"), "收件人域名不存在或不接收邮件（550 5.1.2，服务器原文：Host unknown）"),
    (_R(552, "5.2.2 Mailbox full"), "收件人邮箱已满（552 5.2.2，服务器原文：Mailbox full）"),
    (_R(550, "5.7.1 Relaying denied"), "被服务器的安全策略拒绝"),
    (_R(550, "5.7.26 Unauthenticated email"), "SPF / DKIM / DMARC 校验未通过"),
    (_R(421, "4.7.0 Too many connections"), "发送过于频繁（421 4.7.0，服务器原文：Too many connections）"),
    (aiosmtplib.SMTPAuthenticationError(535, "5.7.8 Authentication credentials invalid"),
     "SMTP 认证失败：用户名或密码错误，登录被拒绝（535 5.7.8，服务器原文：Authentication credentials invalid）"),
    (aiosmtplib.SMTPAuthenticationError(534, "5.7.9 Please log in with your web browser"),
     "SMTP 认证失败：登录方式不够安全"),
    (aiosmtplib.SMTPAuthenticationError(454, "4.7.0 Temporary authentication failure"),
     "SMTP 认证失败：服务器暂时无法完成登录或加密"),
    (aiosmtplib.SMTPSenderRefused(553, "5.1.8 Sender domain invalid", "duban@office.cn"),
     "发件人地址 duban@office.cn 被拒绝：发件人域名无效（553 5.1.8"),
    (aiosmtplib.SMTPDataError(554, "5.6.0 Message content rejected"),
     "邮件未被接收：服务器拒绝处理该邮件（554 5.6.0，服务器原文：Message content rejected）"),
    (aiosmtplib.SMTPConnectResponseError(554, "No SMTP service here"),
     "SMTP 服务器 mail.example.cn:25 拒绝连接：服务器拒绝处理该邮件"),
    # the network: always with host:port
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT), ConnectionRefusedError(111, "x")),
     "无法连接 SMTP 服务器 mail.example.cn:25：连接被拒绝，该端口没有服务在监听"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT),
                 socket.gaierror(socket.EAI_NONAME, "Name or service not known")),
     "无法连接 SMTP 服务器 mail.example.cn:25：域名不存在或无法解析，请检查服务器地址和 DNS 设置"
     "（系统原文：Name or service not known）"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT), OSError(errno.EHOSTUNREACH, "x")),
     "无法连接 SMTP 服务器 mail.example.cn:25：主机不可达"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT), OSError(errno.ENETUNREACH, "x")),
     "无法连接 SMTP 服务器 mail.example.cn:25：网络不可达"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT), ConnectionResetError(104, "x")),
     "无法连接 SMTP 服务器 mail.example.cn:25：连接被对方重置"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT),
                 aiosmtplib.SMTPServerDisconnected("Unexpected EOF received")),
     "SMTP 服务器 mail.example.cn:25 接受连接后立即断开"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT),
                 ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")),
     "与 SMTP 服务器 mail.example.cn:25 建立加密连接失败：对方在该端口不使用这种加密方式"),
    (_with_cause(aiosmtplib.SMTPConnectTimeoutError("Timed out connecting"), TimeoutError()),
     "连接 SMTP 服务器 mail.example.cn:25 超时：服务器无应答"),
    (_with_cause(aiosmtplib.SMTPConnectTimeoutError("Timed out waiting for server ready message"),
                 aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response")),
     "已连上 SMTP 服务器 mail.example.cn:25，但等待服务器问候超时"),
    (aiosmtplib.SMTPReadTimeoutError("Timed out waiting for server response"),
     "SMTP 服务器 mail.example.cn:25 响应超时"),
    (TimeoutError(), "SMTP 服务器 mail.example.cn:25 响应超时"),
    (aiosmtplib.SMTPServerDisconnected("Connection lost"),
     "与 SMTP 服务器 mail.example.cn:25 的连接意外断开"),
    (ConnectionResetError(104, "Connection reset by peer"),
     "与 SMTP 服务器 mail.example.cn:25 通信时出错：连接被对方重置（系统原文：Connection reset by peer）"),
    # TLS and certificates
    (_cert(10, "certificate has expired"),
     "SMTP 服务器 mail.example.cn:25 的证书校验失败：服务器证书已过期"),
    (_with_cause(aiosmtplib.SMTPConnectError(_CONNECT), _cert(18, "self-signed certificate")),
     "的证书校验失败：服务器使用自签名证书，不受信任（可在 [smtp] ca_file 指定单位的 CA 证书；"
     "系统原文：self-signed certificate）"),
    (_cert(62, "Hostname mismatch, certificate is not valid for 'mail.example.cn'."),
     "服务器证书上的域名与所连接的地址不符"),
    (ssl.SSLError(1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"),
     "建立加密连接失败：双方支持的 TLS 版本不一致"),
    # what the server does not offer
    (aiosmtplib.SMTPException("SMTP STARTTLS extension not supported by server."),
     "SMTP 服务器 mail.example.cn:25 不支持 STARTTLS 加密：请把 [smtp] tls 改为 ssl"),
    (aiosmtplib.SMTPException(
        "The SMTP AUTH extension is not supported by this server. Try connecting via TLS."),
     "SMTP 服务器 mail.example.cn:25 没有提供登录（AUTH）功能"),
    (aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server"),
     "服务器不支持 SMTPUTF8"),
    # not the network at all
    (ValueError("address contains a line break"), "邮件地址含有不允许的字符"),
    (RuntimeError("boom"), "发送失败，出现未预料的错误"),
]  # fmt: skip


@pytest.mark.parametrize(("exc", "expected"), DESCRIPTIONS)
def test_describe_leads_with_chinese_and_keeps_the_originals_labelled(exc, expected):
    text = describe(exc, "mail.example.cn:25")
    assert expected in text
    assert re.match(r"[\u4e00-\u9fff]|SMTP 服务器|SMTP 认证|与 SMTP", text), text
    assert english_outside_originals(text) == set(), text
    assert "\n" not in text


def test_a_reply_keeps_its_code_and_words_even_without_a_server():
    assert describe(_R(550, "5.1.1 <gone@units.cn>: Recipient\n address rejected")) == (
        "SMTP 服务器返回错误：收件人邮箱不存在"
        "（550 5.1.1，服务器原文：<gone@units.cn>: Recipient address rejected）"
    )


def test_real_failures_read_in_chinese(server, tls_files):
    """Through aiosmtpd: a refused recipient, a greylisted one, TLS on a plain port."""
    server.refuse("gone@units.example.cn")
    server.refuse("slow@units.example.cn", "450 4.2.0 Greylisted, try later")
    where = f"SMTP 服务器 {server.host}:{server.port}"
    both = make_message(1, to=("gone@units.example.cn", "slow@units.example.cn"))
    partly = make_message(2, to=("gone@units.example.cn", "ok@units.example.cn"))
    first, second = send([both, partly], server.settings(concurrency=1))
    assert first.status == "temporary" and first.refused_temporarily == ("slow@units.example.cn",)
    assert first.error == (
        "全部收件人被拒收："
        "gone@units.example.cn：收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）；"
        "slow@units.example.cn：收件人邮箱暂时不可用，可能是灰名单或邮箱繁忙，稍后重试"
        "（450 4.2.0，服务器原文：Greylisted, try later）"
    )
    assert second.status == "sent" and second.refused_temporarily == ()
    assert second.refused == {
        "gone@units.example.cn": "收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）"
    }
    [tls] = send([make_message(3)], server.settings(tls="ssl", ca_file=str(tls_files.ca_cert)))
    assert tls.status == "temporary"
    assert tls.error.startswith(f"与 {where} 建立加密连接失败：对方在该端口不使用这种加密方式")
    assert english_outside_originals(tls.error) == set()
    server.down()
    [down] = send([make_message(4)], server.settings())
    assert down.error == (
        f"无法连接 {where}：连接被拒绝，该端口没有服务在监听，请检查地址和端口"
        "（系统原文：Connection refused）"
    )


# ---------------------------------------------------------------- the wire


@pytest.mark.parametrize("html", [True, False])
def test_a_mail_goes_on_the_wire_as_aiosmtplib_sendmail_sends_it(server, html):
    """The lean transaction puts on the wire what ``SMTP.sendmail`` does with the same bytes:
    SIZE, envelope, message; the server reads back the very same mail."""
    from dataclasses import replace

    from notifiers.email import _transaction
    from notifiers.message import message_bytes

    message = make_message(3)
    data = message_bytes(message if html else replace(message, html=None), now=NOW)
    recipients = ["unit3@units.example.cn", "li@units.example.cn"]

    async def both() -> None:
        client = aiosmtplib.SMTP(hostname=server.host, port=server.port, local_hostname="t")
        await client.connect()
        try:
            old, _ = await client.sendmail("duban@office.example.cn", recipients, data)
            new = await _transaction(client, "duban@office.example.cn", recipients, data)
            assert old == new == {}
        finally:
            await client.quit()

    asyncio.run(both())
    first, second = server.received
    assert second.raw == first.raw == data
    assert second.mail_options == first.mail_options
    assert first.mail_options == (f"SIZE={len(data)}",)  # aiosmtpd upper-cases the keyword
    assert (second.mail_from, second.rcpt_tos) == (first.mail_from, first.rcpt_tos)
    assert second.session == first.session  # the same connection, no RSET trouble between


def test_refusals_on_the_wire_match_sendmail(server):
    """A partly refused envelope returns the same refusals; a wholly refused one raises the
    same error; a refused DATA raises SMTPDataError: and the next mail on the connection goes
    through after each (the envelope was reset)."""
    from notifiers.email import _transaction

    server.refuse("bad@units.example.cn")
    data = b"Subject: x\r\n\r\nbody\r\n"  # wire form (see _transaction)
    sender = "duban@office.example.cn"

    async def run(send) -> list:
        client = aiosmtplib.SMTP(hostname=server.host, port=server.port, local_hostname="t")
        await client.connect()
        out: list = []
        try:
            out.append(await send(client, ["ok@units.example.cn", "bad@units.example.cn"]))
            try:
                await send(client, ["bad@units.example.cn"])
            except aiosmtplib.SMTPRecipientsRefused as exc:
                out.append([(r.code, r.recipient) for r in exc.recipients])
            server.fail_next(1)
            try:
                await send(client, ["ok@units.example.cn"])
            except aiosmtplib.SMTPDataError as exc:
                out.append((exc.code, exc.message))
            out.append(await send(client, ["ok@units.example.cn"]))
        finally:
            await client.quit()
        return out

    async def old(client, to):
        return (await client.sendmail(sender, to, data))[0]

    async def new(client, to):
        return await _transaction(client, sender, to, data)

    expected = asyncio.run(run(old))
    assert asyncio.run(run(new)) == expected
    assert expected[0] == {"bad@units.example.cn": (550, "5.1.1 Mailbox unavailable")}
    assert expected[-1] == {}
    assert len(server.received) == 4

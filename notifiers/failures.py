"""SMTP failures: whether one is worth retrying, whose fault it is, and how to say it in Chinese.

See :mod:`notifiers.email` for the outcomes (``temporary``, ``permanent``, ``blocked``).
"""

from __future__ import annotations

import ssl
from typing import Literal

import aiosmtplib

from notifiers.message import MessageError


def classify(exc: BaseException) -> Literal["temporary", "permanent", "blocked"]:
    """Whether a failure is worth retrying, and whose fault it is.

    4xx replies, connection failures, timeouts and dropped connections are temporary; 5xx
    replies and malformed addresses are permanent. Failures of the settings rather than the
    message are ``blocked``: authentication rejected with a 5xx (454, "temporary
    authentication failure", is temporary), 530 (authentication required), a 5xx to MAIL FROM
    (the sender address), an untrusted certificate and protocol mismatches (STARTTLS or AUTH
    not offered). When every recipient is refused, any 4xx among them makes the whole message
    temporary.
    """
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPSenderRefused):
        return "temporary" if exc.code < 500 else "blocked"
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 530:
        return "blocked"
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or _cert_error(exc) is not None:
        return "blocked"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return "temporary" if any(400 <= c < 500 for c in codes) else "permanent"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return "temporary" if exc.code < 500 else "permanent"
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | aiosmtplib.SMTPConnectError):
        return "temporary"
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return "temporary"
    if isinstance(exc, aiosmtplib.SMTPException | MessageError | UnicodeError):
        return "permanent"
    if isinstance(exc, ValueError):  # aiosmtplib rejects unsafe addresses with ValueError
        return "permanent"
    # OSError (refused, reset, unreachable, other TLS errors), TimeoutError, anything else:
    # keep the message pending; the outbox's retry limit bounds the cost of being wrong.
    return "temporary"


def _cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure behind ``exc``: implicit TLS wraps it in SMTPConnectError."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def describe(exc: BaseException) -> str:
    """A one-line Chinese description of a delivery failure, keeping the server's words."""
    text = " ".join(str(exc).split())
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        parts = [f"{r.recipient}（{r.code} {' '.join(r.message.split())}）" for r in exc.recipients]
        return "全部收件人被拒收：" + "；".join(parts)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"SMTP 认证失败（{exc.code}）：{' '.join(exc.message.split())}"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"发件人地址 {exc.sender} 被拒绝（{exc.code}）：{' '.join(exc.message.split())}"
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 530:
        return f"SMTP 服务器要求先登录或加密（530）：{' '.join(exc.message.split())}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"SMTP 服务器返回 {exc.code}：{' '.join(exc.message.split())}"
    cert_error = _cert_error(exc)
    if cert_error is not None:
        return f"SMTP 服务器证书校验失败：{cert_error.verify_message or text}"
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return f"SMTP 服务器响应超时：{text or type(exc).__name__}"
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        return f"无法连接 SMTP 服务器：{text}"
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return f"SMTP 连接意外断开：{text}"
    if isinstance(exc, aiosmtplib.SMTPException):
        return f"SMTP 服务器不支持所需功能：{text}"
    if isinstance(exc, OSError):
        return f"SMTP 网络错误：{text or type(exc).__name__}"
    return f"发送失败（{type(exc).__name__}）：{text}"


def _refused_by(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return {r.recipient: f"{r.code} {' '.join(r.message.split())}" for r in exc.recipients}
    return {}

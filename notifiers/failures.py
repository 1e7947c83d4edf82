"""SMTP failures: whether one is worth retrying, whose fault it is, and how to say it in Chinese.

See :mod:`notifiers.email` for the outcomes (``temporary``, ``permanent``, ``blocked``).
"""

from __future__ import annotations

import re
import ssl
from typing import Literal

import aiosmtplib

from notifiers import network
from notifiers.message import MessageError
from notifiers.network import cert_meaning, cert_original, with_original


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


# ---------------------------------------------------------------- describing, in Chinese

# RFC 5321 / RFC 4954 reply codes: what they mean to the office.
REPLY_MEANINGS: dict[int, str] = {
    421: "服务器暂不可用，已关闭连接，常见于繁忙、连接数过多或发送过于频繁",
    432: "需要先更换密码才能登录",
    450: "收件人邮箱暂时不可用，可能是灰名单或邮箱繁忙，稍后重试",
    451: "服务器处理出错，本次请求中止，稍后重试",
    452: "服务器存储空间不足或收件人过多，暂时无法接收",
    454: "服务器暂时无法完成登录或加密，稍后重试",
    455: "服务器暂时无法接受所给参数",
    500: "服务器无法识别命令，语法错误",
    501: "命令参数语法错误",
    502: "服务器未实现该命令",
    503: "命令顺序错误",
    504: "服务器未实现该命令参数",
    521: "收件域名不接收邮件",
    530: "服务器要求先登录才能发信",
    534: "登录方式不够安全，服务器要求更安全的认证方式",
    535: "用户名或密码错误，登录被拒绝",
    538: "服务器要求先加密连接才能登录",
    550: "邮箱不可用：不存在或拒绝接收",
    551: "收件人不在该服务器上",
    552: "超出存储限制：邮件过大或邮箱已满",
    553: "邮箱地址不被接受：格式错误或不允许使用",
    554: "服务器拒绝处理该邮件",
    555: "服务器无法识别发件或收件参数",
    556: "收件域名不接收邮件",
}

# RFC 3463 (and RFC 4954, 7372) enhanced status codes, by subject.detail: more precise than the
# reply code when present. The generic X.0.0 and X.7.0 are left to the reply code.
ENHANCED_MEANINGS: dict[str, str] = {
    "1.1": "收件人邮箱不存在",
    "1.2": "收件人域名不存在或不接收邮件",
    "1.3": "收件人地址格式错误",
    "1.4": "收件人地址对应多个邮箱，无法确定",
    "1.6": "收件人邮箱已迁移，不再使用",
    "1.7": "发件人地址格式错误",
    "1.8": "发件人域名无效",
    "1.10": "收件人域名不接收邮件",
    "2.1": "收件人邮箱已停用",
    "2.2": "收件人邮箱已满",
    "2.3": "邮件超过收件人邮箱允许的大小",
    "3.1": "收件服务器存储空间不足",
    "3.2": "服务器暂不接收邮件",
    "3.4": "邮件超过服务器允许的大小",
    "4.1": "收件服务器无应答",
    "4.2": "与收件服务器的连接中断",
    "4.3": "路由或域名解析故障",
    "4.4": "路由失败，无法投递到收件服务器",
    "4.5": "邮件系统拥塞",
    "4.6": "邮件路由循环",
    "4.7": "投递超时，已放弃",
    "5.1": "服务器无法识别命令",
    "5.2": "命令语法错误",
    "5.3": "收件人过多",
    "5.4": "命令参数无效",
    "5.6": "认证数据过长",
    "6.3": "服务器不支持邮件内容所需的转换",
    "7.1": "被服务器的安全策略拒绝：可能是未登录时不允许发往外部地址、发件人未获授权或被判为垃圾邮件",
    "7.2": "邮件列表不允许该发件人",
    "7.8": "用户名或密码错误，登录被拒绝",
    "7.9": "登录方式不够安全，服务器要求更安全的认证方式",
    "7.10": "该登录方式要求先加密连接",
    "7.11": "服务器要求先加密连接",
    "7.12": "需要先更换密码才能登录",
    "7.13": "该邮箱账户已被停用",
    "7.23": "SPF 校验未通过：发件服务器未获发件域名授权",
    "7.25": "发件服务器的反向域名解析校验未通过",
    "7.26": "发件域名的 SPF / DKIM / DMARC 校验未通过",
    "7.27": "发件域名不接收邮件，退信地址无效",
}

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)\s*")


def explain_reply(code: int, message: str) -> str:
    """``收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）``: the meaning of an SMTP
    reply in Chinese, then the code, the enhanced status and the server's own words."""
    text = " ".join(str(message).split())
    found = _ENHANCED.match(text)
    status = ""
    meaning = None
    if found:
        status = ".".join(found.groups())
        meaning = ENHANCED_MEANINGS.get(f"{found.group(2)}.{found.group(3)}")
        text = text[found.end() :]
    if meaning is None:
        meaning = REPLY_MEANINGS.get(code)
    if meaning is None:
        meaning = {
            4: "服务器暂时无法处理，稍后重试",
            5: "服务器拒绝了请求",
        }.get(code // 100, "服务器返回了意外的应答")
    codes = f"{code} {status}".strip()
    if len(text) > 200:
        text = text[:199] + "…"
    return f"{meaning}（{codes}，服务器原文：{text}）" if text else f"{meaning}（{codes}）"


def _server(where: str | None) -> str:
    return f"SMTP 服务器 {where}" if where else "SMTP 服务器"


def _protocol(exc: aiosmtplib.SMTPException, server: str) -> str:
    """aiosmtplib's own (English) protocol complaints, said in Chinese."""
    text = exc.message.lower() if isinstance(exc.message, str) else ""
    if "auth extension" in text or "xoauth2" in text:
        meaning = (
            f"{server} 没有提供登录（AUTH）功能：可能需要先加密连接（[smtp] tls 设为 "
            "starttls 或 ssl），或该服务器不需要登录（去掉 [smtp] user）"
        )
    elif "starttls" in text and "not supported" in text:
        meaning = f"{server} 不支持 STARTTLS 加密：请把 [smtp] tls 改为 ssl（通常 465 端口）或 none"
    elif "smtputf8" in text:
        meaning = "地址中含有非 ASCII 字符，但该服务器不支持 SMTPUTF8，无法发送"
    elif "already using tls" in text:
        meaning = f"{server} 的连接已经加密，不能再次 STARTTLS：请把 [smtp] tls 改为 ssl"
    elif "already connected" in text or "not connected" in text:
        meaning = f"与 {server} 的连接状态异常"
    else:
        return with_original(f"{server} 不支持所需的功能", exc, "原文")
    return meaning


def describe(exc: BaseException, where: str | None = None) -> str:
    """A one-line Chinese description of a delivery failure that leads with what it means.

    ``where`` is the server as ``host:port``. A server's reply keeps its code and its own words
    as ``（550 5.1.1，服务器原文：…）``; an OS or TLS error keeps its words as ``（系统原文：…）``.
    """
    text = _describe(exc, _server(where))
    return text if where else text.replace("SMTP 服务器 ", "SMTP 服务器")


def _describe(exc: BaseException, server: str) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        parts = [f"{r.recipient}：{explain_reply(r.code, r.message)}" for r in exc.recipients]
        return "全部收件人被拒收：" + "；".join(parts)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"SMTP 认证失败：{explain_reply(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"发件人地址 {exc.sender} 被拒绝：{explain_reply(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError):
        return f"{server} 拒绝连接：{explain_reply(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return f"收件人 {exc.recipient} 被拒收：{explain_reply(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return f"邮件未被接收：{explain_reply(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPHeloError):
        return f"{server} 拒绝了问候（EHLO/HELO）：{explain_reply(exc.code, exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{server} 返回错误：{explain_reply(exc.code, exc.message)}"
    cert_error = _cert_error(exc)
    if cert_error is not None:
        return (
            f"{server} 的证书校验失败：{cert_meaning(cert_error)}（可在 [smtp] ca_file 指定"
            f"单位的 CA 证书；系统原文：{cert_original(cert_error)}）"
        )
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError):
        if isinstance(exc.__cause__, aiosmtplib.SMTPTimeoutError):  # connected, never greeted
            return (
                f"已连上 {server}，但等待服务器问候超时：该端口可能不是 SMTP 服务，"
                "或应使用 ssl 加密方式"
            )
        return f"连接 {server} 超时：服务器无应答，请检查地址、端口和防火墙"
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return f"{server} 响应超时"
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        return _connect_failed(exc, server)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return f"与 {server} 的连接意外断开"
    if isinstance(exc, aiosmtplib.SMTPException):
        return _protocol(exc, server)
    if isinstance(exc, ssl.SSLError):
        return with_original(f"与 {server} 建立加密连接失败：{network.tls_meaning(exc)}", exc)
    if isinstance(exc, OSError):
        return f"与 {server} 通信时出错：{network.explain(exc)}"
    if isinstance(exc, MessageError):
        return str(exc)
    if isinstance(exc, UnicodeError):
        return with_original("邮件内容或地址无法编码", exc, "原文")
    if isinstance(exc, ValueError):  # aiosmtplib refuses unsafe addresses with ValueError
        return with_original("邮件地址含有不允许的字符", exc, "原文")
    detail = " ".join(str(exc).split())[:200]
    return (
        f"发送失败，出现未预料的错误（原文：{type(exc).__name__}{': ' + detail if detail else ''}）"
    )


def _connect_failed(exc: aiosmtplib.SMTPConnectError, server: str) -> str:
    cause = exc.__cause__
    if isinstance(cause, aiosmtplib.SMTPServerDisconnected):  # accepted, then hung up
        return f"{server} 接受连接后立即断开：可能不允许本机连接，或加密方式不匹配"
    os_error = network.os_cause(exc)
    if isinstance(os_error, ssl.SSLError):
        return (
            f"与 {server} 建立加密连接失败：{network.tls_meaning(os_error)}（请核对 [smtp] tls，"
            f"465 端口一般用 ssl，587 或 25 端口一般用 starttls；系统原文："
            f"{network.original(os_error)}）"
        )
    if os_error is not None:
        return f"无法连接 {server}：{network.explain(os_error)}"
    return with_original(f"无法连接 {server}", exc, "原文")


def _refused_by(exc: BaseException) -> tuple[dict[str, str], tuple[str, ...]]:
    """The recipients ``exc`` refused, with why, and those refused with a 4xx (worth a retry)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        why = {r.recipient: explain_reply(r.code, r.message) for r in exc.recipients}
        return why, tuple(r.recipient for r in exc.recipients if 400 <= r.code < 500)
    return {}, ()

"""Network failures (refused, unreachable, DNS, reset, TLS) said in Chinese.

Shared by the SMTP sink (:mod:`notifiers.failures`), the robots (:mod:`notifiers.robots`) and the
CLI's client mode. Standard library only: the client imports it without any delivery code.
The operating system's own words are kept as a trailing ``（系统原文：…）`` for the IT staff.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import ssl

# errno -> what it means for someone trying to reach a server
_ERRNO: dict[int, str] = {
    errno.ECONNREFUSED: "连接被拒绝，该端口没有服务在监听，请检查地址和端口",
    errno.EHOSTUNREACH: "主机不可达，请检查网络、路由和防火墙",
    errno.ENETUNREACH: "网络不可达，请检查本机网络和路由",
    errno.ETIMEDOUT: "连接超时，服务器无应答，请检查地址、端口和防火墙",
    errno.ECONNRESET: "连接被对方重置",
    errno.ECONNABORTED: "连接被中止",
    errno.EPIPE: "连接已被对方关闭",
    errno.ENOTCONN: "连接已断开",
    errno.EADDRNOTAVAIL: "本机无法使用该地址发起连接",
    errno.EACCES: "没有权限建立连接，可能被本机防火墙或安全策略阻止",
    errno.EPERM: "没有权限建立连接，可能被本机防火墙或安全策略阻止",
    errno.EHOSTDOWN: "主机未开机或不可达",
    errno.ENETDOWN: "本机网络不可用",
}

# getaddrinfo's error codes (socket.gaierror.errno)
_GAI: dict[int, str] = {
    getattr(socket, "EAI_NONAME", -2): "域名不存在或无法解析，请检查服务器地址和 DNS 设置",
    getattr(socket, "EAI_AGAIN", -3): "域名暂时无法解析，DNS 服务器无应答，请检查 DNS 设置",
    getattr(socket, "EAI_FAIL", -4): "域名解析失败，DNS 服务器出错",
    getattr(socket, "EAI_NODATA", -5): "该域名没有可用的地址记录",
}


def original(exc: BaseException) -> str:
    """The exception's own words on one line (``strerror`` for OS errors), or its type name."""
    if isinstance(exc, socket.gaierror) and exc.strerror:
        text = exc.strerror
    elif isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError) and exc.errno:
        text = os.strerror(exc.errno)  # asyncio's "Connect call failed (…)" says less
    else:
        text = str(exc)
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", " ".join(text.split()))
    return text[:200] if text else type(exc).__name__


def with_original(meaning: str, exc: BaseException | None, label: str = "系统原文") -> str:
    """``meaning（系统原文：…）``: the Chinese first, the original words in a labelled bracket."""
    if exc is None:
        return meaning
    return f"{meaning}（{label}：{original(exc)}）"


def os_cause(exc: BaseException | None) -> BaseException | None:
    """The operating-system or TLS error behind ``exc`` (itself, or in its cause chain)."""
    seen = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, OSError | TimeoutError) and type(seen).__module__ in (
            "builtins",
            "socket",
            "ssl",
        ):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def tls_meaning(exc: ssl.SSLError) -> str:
    """Why a TLS handshake failed (the certificate: see :func:`cert_meaning`)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return cert_meaning(exc)
    found = re.search(r"\[SSL: (\w+)\]", str(exc))
    reason = (getattr(exc, "reason", None) or (found.group(1) if found else "")).upper()
    if "WRONG_VERSION_NUMBER" in reason or "UNKNOWN_PROTOCOL" in reason or "RECORD" in reason:
        return "对方在该端口不使用这种加密方式"
    if "UNSUPPORTED_PROTOCOL" in reason or "NO_PROTOCOLS" in reason or "VERSION" in reason:
        return "双方支持的 TLS 版本不一致，对方的 TLS 版本可能过旧"
    if "HANDSHAKE_FAILURE" in reason or "NO_SHARED_CIPHER" in reason or "CIPHER" in reason:
        return "双方没有共同支持的加密算法"
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return "加密握手时连接被对方关闭"
    return "加密握手未完成"


_CERT: dict[int, str] = {  # OpenSSL X509_V_ERR_* codes
    9: "服务器证书尚未生效，请检查本机和服务器的时间",
    10: "服务器证书已过期",
    18: "服务器使用自签名证书，不受信任",
    19: "服务器证书链中有自签名证书，不受信任",
    20: "找不到签发服务器证书的机构，证书不受信任",
    21: "无法验证服务器证书的签发机构，证书不受信任",
    23: "服务器证书已被吊销",
    62: "服务器证书上的域名与所连接的地址不符，请使用证书上的域名作为服务器地址",
    64: "服务器证书上的 IP 与所连接的地址不符，请使用证书上的域名作为服务器地址",
}


def cert_meaning(exc: ssl.SSLCertVerificationError) -> str:
    return _CERT.get(exc.verify_code or 0, "服务器证书校验未通过，证书不受信任")


def cert_original(exc: ssl.SSLCertVerificationError) -> str:
    return " ".join(str(exc.verify_message or exc).split()).rstrip(". ")


def meaning(exc: BaseException) -> str:
    """What an OS / network / TLS error means, in Chinese, without its original words."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return cert_meaning(exc)
    if isinstance(exc, ssl.SSLError):
        return f"加密连接失败：{tls_meaning(exc)}"
    if isinstance(exc, socket.gaierror):
        return _GAI.get(exc.errno or 0, "域名无法解析，请检查服务器地址和 DNS 设置")
    if isinstance(exc, ConnectionRefusedError):
        return _ERRNO[errno.ECONNREFUSED]
    if isinstance(exc, ConnectionResetError):
        return _ERRNO[errno.ECONNRESET]
    if isinstance(exc, BrokenPipeError):
        return _ERRNO[errno.EPIPE]
    if isinstance(exc, ConnectionAbortedError):
        return _ERRNO[errno.ECONNABORTED]
    if isinstance(exc, TimeoutError):
        return _ERRNO[errno.ETIMEDOUT]
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if isinstance(exc, OSError) and exc.errno:
        return f"网络错误（错误码 {exc.errno}）"
    return "网络错误"


def explain(exc: BaseException) -> str:
    """``meaning（系统原文：…）`` for the OS / TLS error behind ``exc``."""
    cause = os_cause(exc) or exc
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"{cert_meaning(cause)}（系统原文：{cert_original(cause)}）"
    return with_original(meaning(cause), cause)

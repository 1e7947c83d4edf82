"""Opening one evidence link safely (issue 31): which URLs may be fetched, and what a page shows.

Only http(s) on ports 80/443, no user info in the URL, and no host that resolves (any of its
addresses) to a loopback, private, link-local, multicast or reserved address — unless the office
lists the host in ``[evidence] allow_hosts`` (its intranet portal; extra ports in
``allow_ports``). The request goes to the address that was checked (pinned: no second DNS
lookup, so no DNS rebinding). Redirects are followed by hand (at most 5) and every hop is
checked again.
The body is read up to a cap and hashed (SHA-256); the title and, where the page shows one,
the publication date are taken from it. No database here.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from workflow.config import Config
from workflow.errors import ConfigError

Resolver = Callable[[str], Sequence[str]]
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class EvidenceSettings:
    """``[evidence]`` in duban.toml."""

    allow_hosts: frozenset[str] = frozenset()
    allow_ports: frozenset[int] = frozenset()
    timeout: float = 10.0  # seconds, per request
    max_bytes: int = 2 * 1024 * 1024  # body read at most
    max_per_run: int = 50  # links checked per run
    per_host_per_run: int = 10  # runs are a minute apart at least: the rate per host
    recheck_days: int = 1  # while awaiting verification, check again after this many days
    year_end: str = "12-20"  # the year-end check from this day (MM-DD)


def evidence_settings(config: Config) -> EvidenceSettings:
    raw = config.section("evidence")
    where = f"配置文件 {config.config_file} 的 [evidence]"
    for key in ("allow_hosts", "allow_ports"):
        if not isinstance(raw.get(key, []), list):
            raise ConfigError(f'{where} 中 {key} 应为列表，如 {key} = ["intranet.example.gov.cn"]')
    try:
        hosts = frozenset(str(h).strip().lower() for h in raw.get("allow_hosts", []))
        ports = frozenset(int(p) for p in raw.get("allow_ports", []))
        settings = EvidenceSettings(
            allow_hosts=hosts,
            allow_ports=ports,
            timeout=float(raw.get("timeout", 10.0)),
            max_bytes=int(raw.get("max_bytes", 2 * 1024 * 1024)),
            max_per_run=int(raw.get("max_per_run", 50)),
            per_host_per_run=int(raw.get("per_host_per_minute", 10)),
            recheck_days=int(raw.get("recheck_days", 1)),
            year_end=str(raw.get("year_end", "12-20")),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where} 设置有误：{exc}") from exc
    if not re.fullmatch(r"\d{2}-\d{2}", settings.year_end):
        raise ConfigError(f"{where} 中 year_end 应为 MM-DD，如 12-20")
    if settings.timeout <= 0 or settings.max_per_run < 1 or settings.per_host_per_run < 1:
        raise ConfigError(f"{where} 中 timeout、max_per_run、per_host_per_minute 应为正数")
    return settings


def system_resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def url_refusal(
    url: str, settings: EvidenceSettings, resolve: Resolver = system_resolver
) -> str | None:
    """Why ``url`` may not be fetched (a Chinese phrase), or None when it may."""
    return vet_url(url, settings, resolve)[0]


def vet_url(
    url: str, settings: EvidenceSettings, resolve: Resolver = system_resolver
) -> tuple[str | None, str | None]:
    """(why ``url`` may not be fetched, or None; the vetted address to connect to, or None
    when the URL's own host is used: an IP literal or a host the office allows).

    The address is pinned: the fetch connects to the very address checked here, so a name that
    resolves to a public address now and to 127.0.0.1 a moment later (DNS rebinding) cannot
    lead the request inside the office's network."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "网址格式不正确", None
    if parts.scheme not in ("http", "https"):
        return "只检查 http/https 网址", None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "网址中含用户名或密码，不检查", None
    host = (parts.hostname or "").lower()
    if not host:
        return "网址缺少主机名", None
    allowed_host = host in settings.allow_hosts
    if port is not None and port not in (80, 443) and port not in settings.allow_ports:
        return f"端口 {port} 不检查（只检查 80/443）", None
    if allowed_host:
        return None, None
    literal = _is_ip(host)
    try:
        addresses = [host] if literal else list(resolve(host))
    except (OSError, UnicodeError):
        return "无法解析主机名", None
    if not addresses:
        return "无法解析主机名", None
    for address in addresses:
        if not _public(address):
            return f"主机 {host} 指向内网或本机地址，不检查", None
    return None, (None if literal else addresses[0])


def pinned_request(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(the URL to connect to, extra headers, httpx extensions) for ``url`` fetched from the
    vetted ``address``: the IP in the URL, the name in ``Host`` and in TLS (SNI and the
    certificate's check)."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc += f":{parts.port}"
    host_header = host + (f":{parts.port}" if parts.port is not None else "")
    extensions: dict[str, Any] = {"sni_hostname": host} if parts.scheme == "https" else {}
    return parts._replace(netloc=netloc).geturl(), {"Host": host_header}, extensions


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class PageCheck:
    """What opening one link showed. ``error`` set: it did not open (or was not fetched)."""

    url: str
    status: int | None = None
    final_url: str | None = None
    title: str | None = None
    sha256: str | None = None
    pub_date: str | None = None
    error: str | None = None

    @property
    def opens(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"opens": self.opens}


_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)
_DATE = r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
_META_DATE = re.compile(
    r"""<meta[^>]+name\s*=\s*["']?(?:PubDate|pubdate|publishdate|firstpublishedtime)["']?"""
    r"""[^>]*content\s*=\s*["']?\s*""" + _DATE,
    re.I,
)
_TEXT_DATE = re.compile(r"(?:发布时间|发布日期|发文日期|成文日期|日期)\s*[:：]?\s*" + _DATE)


def _decode(body: bytes, header_charset: str | None) -> str:
    found = _CHARSET.search(body[:4096])
    for name in (header_charset, found.group(1).decode("ascii") if found else None, "utf-8"):
        if not name:
            continue
        name = "gb18030" if name.lower() in ("gb2312", "gbk") else name
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def inspect_page(body: bytes, header_charset: str | None = None) -> tuple[str | None, str | None]:
    """The page's title and publication date (YYYY-MM-DD), where it shows them."""
    text = _decode(body, header_charset)
    match = _TITLE.search(text)
    title = None
    if match:
        title = " ".join(html.unescape(match.group(1)).split())[:300] or None
    pub = None
    date_match = _META_DATE.search(text) or _TEXT_DATE.search(re.sub(r"<[^>]+>", "", text))
    if date_match:
        y, m, d = (int(g) for g in date_match.groups())
        if 1 <= m <= 12 and 1 <= d <= 31:
            pub = f"{y:04d}-{m:02d}-{d:02d}"
    return title, pub


def check_link(
    url: str,
    settings: EvidenceSettings,
    client: Any = None,
    resolve: Resolver = system_resolver,
) -> PageCheck:
    """Open ``url`` (redirects by hand, each hop checked), hash and inspect the page."""
    import httpx

    result = PageCheck(url=url)
    own = client is None
    if own:
        client = httpx.Client(timeout=settings.timeout, follow_redirects=False, trust_env=False)
    try:
        current = url.strip()
        for _hop in range(MAX_REDIRECTS + 1):
            refusal, address = vet_url(current, settings, resolve)
            if refusal:
                result.error = refusal if current == url.strip() else f"跳转后{refusal}"
                return result
            target, headers, extensions = pinned_request(current, address)
            headers["User-Agent"] = "duban-evidence"
            with client.stream("GET", target, headers=headers, extensions=extensions) as resp:
                if resp.is_redirect and resp.headers.get("location"):
                    current = urljoin(current, resp.headers["location"])
                    continue
                body = bytearray()
                give_up = time.monotonic() + 3 * settings.timeout  # a page that trickles
                for chunk in resp.iter_bytes():
                    body.extend(chunk)
                    if time.monotonic() > give_up:
                        raise httpx.ReadTimeout("the body took too long")
                    if len(body) >= settings.max_bytes:
                        del body[settings.max_bytes :]
                        break
                result.status = resp.status_code
                result.final_url = current
                result.sha256 = hashlib.sha256(bytes(body)).hexdigest()
                result.title, result.pub_date = inspect_page(bytes(body), resp.charset_encoding)
                if not result.opens:
                    result.error = f"打不开（HTTP {resp.status_code}）"
                return result
        result.error = f"跳转超过 {MAX_REDIRECTS} 次"
    except httpx.TimeoutException:
        result.error = f"打不开（超过 {settings.timeout:g} 秒无响应）"
    except httpx.HTTPError as exc:
        result.error = f"打不开（{type(exc).__name__}）"
    finally:
        if own:
            client.close()
    return result

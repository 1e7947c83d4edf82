"""Group robots beside email: 企业微信 (WeCom), 钉钉 (DingTalk) and 飞书 (Feishu/Lark) webhooks.

Pure delivery, no database: the outbox hands :class:`RobotMessage` values to
:class:`RobotSink`, which posts them one by one over HTTP (httpx, synchronous, with a timeout) and
reports a :class:`~notifiers.email.DeliveryResult` per message, through ``on_result`` as soon as
it is known, with the same statuses as the SMTP sink:

* ``sent``: the robot API answered errcode 0.
* ``temporary``: worth retrying later: HTTP 5xx or 429, connection refused, timeout, an
  unreadable answer, and the rate-limit codes (WeCom 45009, DingTalk 130101/410100/90030,
  Feishu 11232 and 9499 "too many request"). After a rate limit or a connection failure the
  remaining messages for the *same* robot in this batch are settled ``temporary`` without
  another request (sending more would only hit the same limit).
* ``permanent``: this message will never be accepted (content empty or too big, bad JSON).
* ``blocked``: the robot's *settings* are wrong (unknown key/token, robot removed or disabled,
  signature mismatch, keyword or IP allow-list not satisfied, a wrong base URL): every message
  to that robot would fail alike, so the rest of the batch for that robot is ``blocked`` too,
  without sending. Nothing should be marked failed; the text says in Chinese what to fix.

Error texts are one line of Chinese and never contain the key/token/secret, a signature or a URL
with its query (they are scrubbed even from the server's own ``errmsg``).

Base URLs (:class:`RobotEndpoints`) are configurable per kind, so an intranet relay can stand in
for the public APIs; :func:`endpoints_from` reads ``DUBAN_ROBOT_*_URL`` and ``[robots]``.

Signing (both with an injected clock, see :func:`dingtalk_sign` and :func:`feishu_sign`):

* DingTalk: query ``timestamp`` (ms) and ``sign`` = urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}"))).
* Feishu: body fields ``timestamp`` (seconds, as a string) and ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")).

@mentions (:attr:`RobotTarget.mention_mobiles`, :attr:`RobotTarget.mention_userids`):

* DingTalk: mobiles go into ``at.atMobiles`` and, as DingTalk requires for the highlight,
  ``@mobile`` is appended to the markdown text. Userids go into ``at.atUserIds``.
* WeCom: markdown messages can only mention *userids* (``<@userid>`` in the content);
  ``mentioned_mobile_list`` exists only for ``text`` messages. We keep markdown (the notice
  stays readable) and mention userids only; mobiles are ignored for WeCom. Configure the
  leaders' WeCom userids instead. (A second ``text`` message just for the @ would double the
  requests and could be sent twice after a crash.)
* Feishu: a custom bot can mention by open_id/user_id (``<at id=…></at>`` in the card's
  markdown) but not by mobile: userids are used, mobiles ignored.

Size limits: a too-long message is cut at a line boundary and ends with
"……（内容过长，已截断，共N项）", never refused (see :func:`build_request`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from notifiers import network
from notifiers.email import Clock, DeliveryResult, ResultCallback, Status

RobotKind = Literal["wecom", "dingtalk", "feishu"]
ROBOT_KINDS: tuple[str, ...] = ("wecom", "dingtalk", "feishu")
KIND_LABELS = {"wecom": "企业微信机器人", "dingtalk": "钉钉机器人", "feishu": "飞书机器人"}

DEFAULT_URLS: dict[str, str] = {
    "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
    "dingtalk": "https://oapi.dingtalk.com/robot/send",
    "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook",
}
ENV_VARS = {
    "wecom": "DUBAN_ROBOT_WECOM_URL",
    "dingtalk": "DUBAN_ROBOT_DINGTALK_URL",
    "feishu": "DUBAN_ROBOT_FEISHU_URL",
}

# Byte limits. WeCom: markdown.content at most 4096 bytes (UTF-8). DingTalk documents about
# 20000 bytes for a message; we keep the whole JSON body under 18000. Feishu documents 30 KB
# for a card request (and 20 KB in older pages for the request body): we keep the whole body
# under 20000 bytes so either reading holds.
WECOM_CONTENT_LIMIT = 4096
DINGTALK_BODY_LIMIT = 18000
FEISHU_BODY_LIMIT = 20000

TRUNCATION_NOTE = "……（内容过长，已截断，共{total}项）"
TRUNCATION_NOTE_NO_TOTAL = "……（内容过长，已截断）"


class RobotSettingsError(ValueError):
    """A robot target or endpoint that cannot work (unknown kind, empty token, bad URL)."""


# ---------------------------------------------------------------- targets and endpoints


def fingerprint(secret: str) -> str:
    """A short, non-reversible tag for a key, so two robots can be told apart in logs."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class RobotTarget:
    """One group robot.

    ``token`` is the secret part of the webhook: the WeCom ``key``, the DingTalk
    ``access_token`` or the Feishu hook id (the last path segment). ``secret`` is the optional
    signing secret (DingTalk "加签" ``SEC…``, Feishu "签名校验"); WeCom has none. ``name`` is a
    human label ("办公室工作群") used in error texts. ``repr``/``str`` never show the token or
    secret, only a fingerprint.
    """

    kind: RobotKind
    token: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    mention_mobiles: tuple[str, ...] = ()
    mention_userids: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ROBOT_KINDS:
            raise RobotSettingsError(
                f"机器人类型只能是 wecom、dingtalk 或 feishu，实际为 {self.kind!r}"
            )
        token = (self.token or "").strip()
        if not token:
            raise RobotSettingsError(f"{KIND_LABELS[self.kind]}的 key/token 为空")
        if any(c in token for c in "/?&#= \t\r\n"):
            raise RobotSettingsError(
                f"{KIND_LABELS[self.kind]}的 key/token 含有非法字符："
                "请只填写 webhook 地址中 key=、access_token= 之后或 hook/ 之后的那一段"
            )
        object.__setattr__(self, "token", token)
        if self.secret is not None:
            secret = self.secret.strip()
            if self.kind == "wecom" and secret:
                raise RobotSettingsError("企业微信机器人没有签名密钥，请不要填写 secret")
            object.__setattr__(self, "secret", secret or None)
        object.__setattr__(self, "mention_mobiles", tuple(self.mention_mobiles))
        object.__setattr__(self, "mention_userids", tuple(self.mention_userids))

    @classmethod
    def wecom(cls, key: str, *, userids: Iterable[str] = (), name: str = "") -> RobotTarget:
        return cls("wecom", key, None, (), tuple(userids), name)

    @classmethod
    def dingtalk(
        cls,
        access_token: str,
        secret: str | None = None,
        *,
        mobiles: Iterable[str] = (),
        userids: Iterable[str] = (),
        name: str = "",
    ) -> RobotTarget:
        return cls("dingtalk", access_token, secret, tuple(mobiles), tuple(userids), name)

    @classmethod
    def feishu(
        cls, hook: str, secret: str | None = None, *, userids: Iterable[str] = (), name: str = ""
    ) -> RobotTarget:
        return cls("feishu", hook, secret, (), tuple(userids), name)

    @property
    def label(self) -> str:
        """ "企业微信机器人「办公室群」" or "钉钉机器人（#1a2b3c4d）": safe to show."""
        if self.name:
            return f"{KIND_LABELS[self.kind]}「{self.name}」"
        return f"{KIND_LABELS[self.kind]}（#{fingerprint(self.token)}）"

    def __repr__(self) -> str:
        signed = "，已配置签名密钥" if self.secret else ""
        return (
            f"RobotTarget(kind={self.kind!r}, token=<已隐藏 #{fingerprint(self.token)}>{signed}, "
            f"mention_mobiles={self.mention_mobiles!r}, mention_userids={self.mention_userids!r}, "
            f"name={self.name!r})"
        )

    __str__ = __repr__


def _check_url(kind: str, url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RobotSettingsError(
            f"{KIND_LABELS[kind]}的接口地址无效：应以 http:// 或 https:// 开头"
        )
    if parts.query:
        raise RobotSettingsError(
            f"{KIND_LABELS[kind]}的接口地址不应带查询参数（key/token 请单独配置）"
        )
    return url.rstrip("/") if kind == "feishu" else url


@dataclass(frozen=True)
class RobotEndpoints:
    """Base URL per kind. WeCom and DingTalk get the key/token as a query parameter; Feishu
    gets ``/{token}`` appended (or substituted for ``{token}`` when the URL contains it)."""

    wecom: str = DEFAULT_URLS["wecom"]
    dingtalk: str = DEFAULT_URLS["dingtalk"]
    feishu: str = DEFAULT_URLS["feishu"]

    def __post_init__(self) -> None:
        for kind in ROBOT_KINDS:
            object.__setattr__(self, kind, _check_url(kind, getattr(self, kind)))

    def base(self, kind: str) -> str:
        return getattr(self, kind)


def endpoints_from(
    environ: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None
) -> RobotEndpoints:
    """Endpoints from ``[robots]`` (``wecom_url``, ``dingtalk_url``, ``feishu_url``) and the
    environment (``DUBAN_ROBOT_WECOM_URL`` …); the environment wins, empty values are ignored.

    ``config`` may be the whole config (with a ``robots`` table) or the ``[robots]`` table."""
    environ = environ or {}
    section: Mapping[str, Any] = config or {}
    if isinstance(section.get("robots"), Mapping):
        section = section["robots"]
    urls: dict[str, str] = {}
    for kind in ROBOT_KINDS:
        value = environ.get(ENV_VARS[kind]) or section.get(f"{kind}_url") or DEFAULT_URLS[kind]
        urls[kind] = str(value)
    return RobotEndpoints(**urls)


# ---------------------------------------------------------------- messages and signing


@dataclass(frozen=True)
class RobotMessage:
    """One notification for one robot. ``text`` is markdown (see ``notifiers.robot_render``);
    ``total`` is the number of items it stands for, quoted in the truncation note;
    ``grade`` ("red"/"yellow"/"blue") colours the Feishu card header."""

    key: str
    target: RobotTarget
    title: str
    text: str
    total: int | None = None
    grade: str | None = None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), *before* URL encoding."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RobotRequest:
    """What goes on the wire: ``url`` has no query; ``params`` carries the secrets' query
    part (never log it); ``body`` is the UTF-8 JSON."""

    url: str
    params: dict[str, str]
    body: bytes
    truncated: bool


def _note(total: int | None) -> str:
    return TRUNCATION_NOTE.format(total=total) if total is not None else TRUNCATION_NOTE_NO_TOTAL


def _cut(text: str, keep: int, total: int | None) -> str:
    """The first ``keep`` characters, backed off to a line boundary, plus the note."""
    head = text[:keep]
    if keep < len(text) and "\n" in head:
        head = head[: head.rindex("\n")]
    head = head.rstrip()
    return (head + "\n\n" if head else "") + _note(total)


def fit_text(text: str, total: int | None, fits: Callable[[str], bool]) -> tuple[str, bool]:
    """``text`` when ``fits(text)``; else the longest line-boundary cut (plus the note) that
    fits. Binary search over the cut position: ``fits`` is monotone in the text's length."""
    if fits(text):
        return text, False
    lo, hi = 0, len(text)  # fits(_cut(text, lo)) assumed; shrink hi
    if not fits(_cut(text, 0, total)):
        raise RobotSettingsError("机器人消息的固定部分已超过平台长度限制")
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(_cut(text, mid, total)):
            lo = mid
        else:
            hi = mid - 1
    return _cut(text, lo, total), True


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_HEADER_COLOURS = {"red": "red", "yellow": "orange", "blue": "blue"}


def build_request(
    message: RobotMessage, endpoints: RobotEndpoints | None = None, *, now: Clock | None = None
) -> RobotRequest:
    """The HTTP request for ``message``: payload per kind, signature, size limit applied.

    WeCom ``{"msgtype":"markdown","markdown":{"content":…}}`` (content ≤ 4096 bytes);
    DingTalk ``{"msgtype":"markdown","markdown":{"title","text"},"at":{…}}`` (body ≤ 18000
    bytes); Feishu ``{"msg_type":"interactive","card":{header, elements:[{"tag":"markdown"}]}}``
    (body ≤ 20000 bytes), the card being what Feishu documents for markdown content.
    """
    endpoints = endpoints or RobotEndpoints()
    target = message.target
    moment = (now or _utcnow)()
    base = endpoints.base(target.kind)
    title = " ".join(message.title.split()) or "督办通知"
    text = message.text.strip()
    params: dict[str, str] = {}

    if target.kind == "wecom":
        params["key"] = target.token
        tail = "".join(f"<@{u}>" for u in target.mention_userids)
        tail = "\n" + tail if tail else ""

        def wecom(t: str) -> dict[str, Any]:
            return {"msgtype": "markdown", "markdown": {"content": t + tail}}

        fitted, cut = fit_text(
            text,
            message.total,
            lambda t: len((t + tail).encode("utf-8")) <= WECOM_CONTENT_LIMIT,
        )
        return RobotRequest(base, params, _dump(wecom(fitted)), cut)

    if target.kind == "dingtalk":
        params["access_token"] = target.token
        if target.secret:
            ts = int(moment.timestamp() * 1000)
            params["timestamp"] = str(ts)
            params["sign"] = dingtalk_sign(target.secret, ts)
        mentions = [f"@{m}" for m in target.mention_mobiles]
        mentions += [f"@{u}" for u in target.mention_userids]
        tail = "\n\n" + " ".join(mentions) if mentions else ""
        at: dict[str, Any] = {"atMobiles": list(target.mention_mobiles), "isAtAll": False}
        if target.mention_userids:
            at["atUserIds"] = list(target.mention_userids)

        def dingtalk(t: str) -> dict[str, Any]:
            return {
                "msgtype": "markdown",
                "markdown": {"title": title[:64], "text": t + tail},
                "at": at,
            }

        fitted, cut = fit_text(
            text, message.total, lambda t: len(_dump(dingtalk(t))) <= DINGTALK_BODY_LIMIT
        )
        return RobotRequest(base, params, _dump(dingtalk(fitted)), cut)

    # feishu
    url = base.replace("{token}", target.token) if "{token}" in base else f"{base}/{target.token}"
    signing: dict[str, Any] = {}
    if target.secret:
        ts = int(moment.timestamp())
        signing = {"timestamp": str(ts), "sign": feishu_sign(target.secret, ts)}
    tail = " ".join(f"<at id={u}></at>" for u in target.mention_userids)
    tail = "\n" + tail if tail else ""
    template = _HEADER_COLOURS.get(message.grade or "", "blue")

    def feishu(t: str) -> dict[str, Any]:
        return {
            **signing,
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": title},
                    "template": template,
                },
                "elements": [{"tag": "markdown", "content": t + tail}],
            },
        }

    fitted, cut = fit_text(
        text, message.total, lambda t: len(_dump(feishu(t))) <= FEISHU_BODY_LIMIT
    )
    return RobotRequest(url, params, _dump(feishu(fitted)), cut)


# ---------------------------------------------------------------- classification

Outcome = tuple[Status, str]

# What to fix, per blocked cause (no key in any of these texts).
_FIX_KEY = "请在群机器人设置中重新复制 webhook 地址，只把其中的 key/token 填入 duban 配置"
_FIX_SIGN = "请核对加签密钥（secret）是否与机器人设置一致，并确认服务器时间准确"
_FIX_SECURITY = "请检查机器人的安全设置（加签密钥、自定义关键词、IP 白名单）与服务器时间"
_FIX_ROBOT = "机器人已被停用或移出群，请在群设置中重新添加机器人并更新 duban 配置"
_FIX_TYPE = "该接口不接受 markdown 消息，请确认接口地址指向的是群机器人 webhook"

# errcode -> (status, Chinese explanation). Unknown codes: temporary (the outbox's retry limit
# bounds the cost of being wrong), as the SMTP sink does with unknown failures.
_CODES: dict[str, dict[int, Outcome]] = {
    "wecom": {
        -1: ("temporary", "企业微信系统繁忙"),
        45009: ("temporary", "发送过于频繁（每个机器人每分钟最多 20 条），稍后重试"),
        45033: ("temporary", "接口并发调用超过限制，稍后重试"),
        93000: ("blocked", "webhook 地址无效或机器人已被移出群；" + _FIX_KEY),
        93004: ("blocked", _FIX_ROBOT),
        93008: ("blocked", "机器人不在群内；" + _FIX_ROBOT),
        40001: ("blocked", "key 无效；" + _FIX_KEY),
        40014: ("blocked", "key 无效；" + _FIX_KEY),
        42001: ("blocked", "key 已过期；" + _FIX_KEY),
        40008: ("blocked", "消息类型不被接受；" + _FIX_TYPE),
        48002: ("blocked", "接口被禁止调用，请联系企业微信管理员检查机器人权限"),
        60020: ("blocked", "服务器 IP 不在企业微信的可信 IP 内，请联系企业微信管理员"),
        40058: ("permanent", "消息参数不合法"),
        40035: ("permanent", "消息参数不合法"),
        44004: ("permanent", "消息内容为空"),
        45002: ("permanent", "消息内容超过长度限制"),
    },
    "dingtalk": {
        -1: ("temporary", "钉钉系统繁忙"),
        130101: ("temporary", "发送过于频繁（每个机器人每分钟最多 20 条），稍后重试"),
        410100: ("temporary", "发送过于频繁（每个机器人每分钟最多 20 条），稍后重试"),
        90030: ("temporary", "机器人调用次数达到上限，稍后重试"),
        300001: ("blocked", "access_token 不存在；" + _FIX_KEY),
        300005: ("blocked", "access_token 不存在；" + _FIX_KEY),
        400101: ("blocked", "access_token 不存在；" + _FIX_KEY),
        310000: ("blocked", "安全设置校验未通过；" + _FIX_SECURITY),
        400102: ("blocked", _FIX_ROBOT),
        400105: ("blocked", "消息类型不被接受；" + _FIX_TYPE),
        40035: ("permanent", "消息缺少必要参数"),
        43004: ("permanent", "请求格式不被接受"),
        460101: ("permanent", "消息内容超过长度限制"),
    },
    "feishu": {
        11232: ("temporary", "发送过于频繁，稍后重试"),
        19001: ("blocked", "webhook 无效；" + _FIX_KEY),
        19007: ("blocked", _FIX_ROBOT),
        19021: ("blocked", "签名校验失败或时间戳与服务器时间相差超过 1 小时；" + _FIX_SIGN),
        19022: ("blocked", "服务器 IP 不在机器人的 IP 白名单内，请更新机器人安全设置"),
        19024: ("blocked", "消息不含机器人设置的自定义关键词，请调整机器人安全设置"),
        19002: ("permanent", "消息格式错误"),
        230099: ("permanent", "卡片内容无法创建"),
    },
}


def _scrubber(target: RobotTarget, extra: Iterable[str] = ()) -> Callable[[str], str]:
    secrets = [s for s in (target.token, target.secret, *extra) if s]
    secrets += [urllib.parse.quote(s, safe="") for s in list(secrets)]
    secrets += [urllib.parse.quote_plus(s) for s in list(secrets)]

    def scrub(text: str) -> str:
        text = " ".join(str(text).split())
        for s in sorted(set(secrets), key=len, reverse=True):
            text = text.replace(s, "***")
        text = re.sub(r"(https?://[^\s?#]*)\?\S*", r"\1?…", text)  # no query strings
        text = re.sub(r"(/hook/)[^\s/?#\"']+", r"\1…", text)  # no Feishu hook ids
        text = re.sub(r"\b(key|access_token|sign|secret)=(?!\*\*\*)[^\s&,;]+", r"\1=***", text)
        return text[:300]

    return scrub


def classify_answer(kind: str, code: int, errmsg: str) -> Outcome:
    """Status and Chinese explanation for a robot API's non-zero errcode."""
    if kind == "feishu" and code == 9499:
        lowered = errmsg.lower()
        if "too many" in lowered or "frequen" in lowered or "limit" in lowered:
            return "temporary", "发送过于频繁，稍后重试"
        return "permanent", "请求格式错误（Bad Request）"
    known = _CODES.get(kind, {}).get(code)
    if known is not None:
        return known
    return "temporary", "平台返回未知错误码，稍后重试"


def classify_http(status_code: int) -> Outcome | None:
    """Status for a non-2xx HTTP answer without a usable errcode, or None for 2xx."""
    if 200 <= status_code < 300:
        return None
    if status_code == 429:
        return "temporary", f"HTTP {status_code}：发送过于频繁，稍后重试"
    if status_code >= 500:
        return "temporary", f"HTTP {status_code}：平台服务暂时不可用，稍后重试"
    if status_code in (401, 403, 404) or 300 <= status_code < 400:
        return (
            "blocked",
            f"HTTP {status_code}：接口地址或 key/token 不正确，请检查机器人接口地址与 key/token 配置",
        )
    if status_code == 413:
        return "permanent", f"HTTP {status_code}：消息过大"
    return "permanent", f"HTTP {status_code}：请求被拒绝"


def _answer_code(data: Any) -> tuple[int, str] | None:
    if not isinstance(data, dict):
        return None
    for code_key, msg_key in (
        ("errcode", "errmsg"),
        ("code", "msg"),
        ("StatusCode", "StatusMessage"),
    ):
        if code_key in data:
            try:
                return int(data[code_key]), str(data.get(msg_key) or "")
            except (TypeError, ValueError):
                return None
    return None


# ---------------------------------------------------------------- the sink


class RobotSink:
    """Robot delivery behind the sinks' ``deliver(messages, on_result)`` contract.

    ``endpoints`` overrides the base URLs; ``now`` is the clock for signatures (inject one in
    tests); ``timeout`` bounds each request (connect, read, write) in seconds; ``client`` lets a
    caller share an ``httpx.Client`` (not closed here). Messages go one at a time, in order;
    an exception raised by ``on_result`` propagates and stops the batch (the remaining
    messages were not sent).
    """

    def __init__(
        self,
        endpoints: RobotEndpoints | None = None,
        *,
        now: Clock | None = None,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoints = endpoints or RobotEndpoints()
        self.now = now
        self.timeout = timeout
        self.client = client

    def deliver(
        self, messages: Iterable[RobotMessage], on_result: ResultCallback | None = None
    ) -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        # A robot whose settings failed (blocked) or that is rate-limited/unreachable
        # (temporary): the rest of this batch for it is settled without a request.
        stopped: dict[tuple[str, str, str | None], tuple[Status, str]] = {}
        client = self.client or httpx.Client(timeout=self.timeout, follow_redirects=False)
        try:
            for message in messages:
                target = message.target
                ident = (target.kind, target.token, target.secret)
                if ident in stopped:
                    status, error = stopped[ident]
                    result = DeliveryResult(message.key, status, f"{error}（本批未再发送）")
                else:
                    result, stop = self._send_one(client, message)
                    if stop:
                        stopped[ident] = (result.status, result.error or "")
                results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            if self.client is None:
                client.close()
        return results

    def _send_one(self, client: httpx.Client, message: RobotMessage) -> tuple[DeliveryResult, bool]:
        """One request; returns the result and whether to stop sending to this robot."""
        target = message.target
        label = target.label
        try:
            request = build_request(message, self.endpoints, now=self.now)
        except RobotSettingsError as exc:
            return DeliveryResult(message.key, "permanent", f"{label}：{exc}"), False
        scrub = _scrubber(target, request.params.values())

        def result(status: Status, text: str, stop: bool) -> tuple[DeliveryResult, bool]:
            return DeliveryResult(message.key, status, scrub(f"{label}：{text}")), stop

        try:
            response = client.post(
                request.url,
                params=request.params,
                content=request.body,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            return result("temporary", f"连接或响应超时（{self.timeout:g} 秒），稍后重试", True)
        except httpx.ConnectError as exc:
            where = _host(request.url)
            return result("temporary", f"无法连接机器人接口 {where}：{network.explain(exc)}", True)
        except httpx.UnsupportedProtocol:
            return result("blocked", "接口地址协议不受支持，请检查机器人接口地址配置", True)
        except httpx.HTTPError as exc:
            return result("temporary", _transport_failure(exc), True)

        answer = None
        try:
            answer = _answer_code(response.json())
        except (ValueError, UnicodeDecodeError):
            answer = None
        if answer is not None and answer[0] != 0:
            code, errmsg = answer
            status, explanation = classify_answer(target.kind, code, errmsg)
            errmsg = scrub(errmsg)
            errmsg = errmsg if len(errmsg) <= 80 else errmsg[:79] + "…"
            detail = f"（错误码 {code}{'，平台原文：' + errmsg if errmsg else ''}）"
            stop = status == "blocked" or (status == "temporary" and "频繁" in explanation)
            return result(status, explanation + detail, stop)
        http = classify_http(response.status_code)
        if http is not None:
            status, text = http
            return result(status, text, status == "blocked")
        if answer is None:
            return result("temporary", "接口返回内容无法识别，稍后重试", False)
        return DeliveryResult(message.key, "sent"), False


def _host(url: str) -> str:
    """``host:port`` of a robot API URL: never its path or query (they can carry the key)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "（地址无效）"
    port = parsed.port or {"https": 443, "http": 80}.get(parsed.scheme, 0)
    return f"{parsed.host}:{port}"


def _transport_failure(exc: BaseException) -> str:
    """A request that broke off after connecting (or a proxy failure), said in Chinese."""
    if isinstance(exc, httpx.ProxyError):
        what = "代理服务器出错，无法访问机器人接口"
    elif isinstance(exc, httpx.RemoteProtocolError):
        what = "机器人接口的应答不完整或不符合 HTTP 协议"
    elif isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        what = "与机器人接口的连接中断"
    else:
        what = "访问机器人接口时出现网络错误"
    cause = network.os_cause(exc)
    return f"{what}：{network.explain(cause)}" if cause is not None else f"{what}，稍后重试"

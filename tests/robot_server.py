"""A real HTTP server for robot tests: WeCom, DingTalk and Feishu webhooks on a loopback port.

Usage (tests/ is on ``sys.path`` under pytest)::

    with RobotServer(now=FIXED) as server:
        server.wecom_keys.add("k1")
        server.dingtalk_tokens["t1"] = "SECxyz"        # None: no signature required
        server.feishu_hooks["h1"] = "fsecret"
        sink = RobotSink(server.endpoints(), now=lambda: FIXED)
        ...
        server.requests[-1].body, server.requests[-1].query

It answers as the APIs document: errcode 0 on success; an unknown key/token/hook with the
platform's code (WeCom 93000, DingTalk 300001, Feishu 19001); a missing or wrong signature, or
a timestamp more than an hour from ``now``, with DingTalk 310000 / Feishu 19021 (the signature
is recomputed here with the documented algorithm); content over the platform's limit with
WeCom 40058 / DingTalk 460101 / Feishu 9499. ``fail_next(kind, mode)`` forces the next answers:
``rate_limit`` (45009 / 130101 / 11232), ``http500``, ``garbage`` (200 with HTML), ``hang``
(no answer until :meth:`stop`, for client timeouts).
Error messages deliberately echo the key, as careless relays do, so tests can check that the
sink scrubs them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from notifiers.robots import RobotEndpoints

HOST = "127.0.0.1"

WECOM_LIMIT = 4096
DINGTALK_LIMIT = 20000
FEISHU_LIMIT = 30 * 1024

RATE_LIMIT = {
    "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
    "dingtalk": {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
    "feishu": {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]"},
}


@dataclass(frozen=True)
class Received:
    kind: str
    path: str
    raw_query: str
    query: dict[str, str]
    raw_body: bytes
    body: Any
    content_type: str


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def feishu_expected_sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class RobotServer:
    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.wecom_keys: set[str] = set()
        self.dingtalk_tokens: dict[str, str | None] = {}
        self.feishu_hooks: dict[str, str | None] = {}
        self.requests: list[Received] = []
        self._forced: dict[str, deque[str]] = {
            "wecom": deque(),
            "dingtalk": deque(),
            "feishu": deque(),
        }
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ control

    def fail_next(self, kind: str, mode: str, n: int = 1) -> None:
        with self._lock:
            self._forced[kind].extend([mode] * n)

    @property
    def base(self) -> str:
        assert self._httpd is not None
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    def endpoints(self) -> RobotEndpoints:
        return RobotEndpoints(
            wecom=f"{self.base}/cgi-bin/webhook/send",
            dingtalk=f"{self.base}/robot/send",
            feishu=f"{self.base}/open-apis/bot/v2/hook",
        )

    def start(self) -> RobotServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = server._answer(
                    self.path, raw, self.headers.get("Content-Type", "")
                )
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                ctype = "text/html" if isinstance(answer, bytes) else "application/json"
                self.send_header("Content-Type", f"{ctype}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> RobotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ the APIs

    def _answer(self, full_path: str, raw: bytes, ctype: str) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(full_path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        if parts.path == "/cgi-bin/webhook/send":
            kind = "wecom"
        elif parts.path == "/robot/send":
            kind = "dingtalk"
        elif parts.path.startswith("/open-apis/bot/v2/hook/"):
            kind = "feishu"
        else:
            return 404, b"<html>404 Not Found</html>"
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        with self._lock:
            self.requests.append(Received(kind, parts.path, parts.query, query, raw, body, ctype))
            forced = self._forced[kind].popleft() if self._forced[kind] else None
        if forced == "hang":
            self._release.wait(10)
            return 500, b"<html>too late</html>"
        if forced == "http500":
            return 500, b"<html>502 Bad Gateway</html>"
        if forced == "garbage":
            return 200, b"<html>captive portal</html>"
        if forced == "rate_limit":
            return 200, RATE_LIMIT[kind]
        if body is None:
            return 400, b"<html>bad json</html>"
        return 200, getattr(self, f"_{kind}")(parts.path, query, raw, body)

    def _wecom(self, path: str, query: dict[str, str], raw: bytes, body: Any) -> dict:
        key = query.get("key", "")
        if key not in self.wecom_keys:
            return {
                "errcode": 93000,
                "errmsg": f"invalid webhook url, hint: key={key}, more info at "
                f"https://open.work.weixin.qq.com/devtool/query?e=93000&key={key}",
            }
        if body.get("msgtype") != "markdown":
            return {"errcode": 40008, "errmsg": "invalid message type"}
        content = body.get("markdown", {}).get("content", "")
        if not content:
            return {"errcode": 44004, "errmsg": "empty content"}
        if len(content.encode("utf-8")) > WECOM_LIMIT:
            return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return {"errcode": 0, "errmsg": "ok"}

    def _dingtalk(self, path: str, query: dict[str, str], raw: bytes, body: Any) -> dict:
        token = query.get("access_token", "")
        if token not in self.dingtalk_tokens:
            return {"errcode": 300001, "errmsg": f"token is not exist: {token}"}
        secret = self.dingtalk_tokens[token]
        if secret is not None:
            ts = query.get("timestamp", "")
            if not ts.isdigit() or abs(int(ts) - self.now.timestamp() * 1000) > 3600_000:
                return {"errcode": 310000, "errmsg": "invalid timestamp"}
            if not hmac.compare_digest(query.get("sign", ""), dingtalk_expected_sign(secret, ts)):
                return {"errcode": 310000, "errmsg": f"sign not match, secret={secret}"}
        if body.get("msgtype") != "markdown":
            return {"errcode": 400105, "errmsg": "不支持的消息类型"}
        if not body.get("markdown", {}).get("text") or not body["markdown"].get("title"):
            return {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        if len(raw) > DINGTALK_LIMIT:
            return {"errcode": 460101, "errmsg": "message too long"}
        return {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, path: str, query: dict[str, str], raw: bytes, body: Any) -> dict:
        hook = path.rsplit("/", 1)[1]
        if hook not in self.feishu_hooks:
            return {
                "code": 19001,
                "msg": f"param invalid: incoming webhook access token invalid: {hook}",
                "data": {},
            }
        secret = self.feishu_hooks[hook]
        if secret is not None:
            ts = str(body.get("timestamp", ""))
            fresh = ts.isdigit() and abs(int(ts) - self.now.timestamp()) <= 3600
            if not fresh or not hmac.compare_digest(
                str(body.get("sign", "")), feishu_expected_sign(secret, ts)
            ):
                return {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                    "data": {},
                }
        if body.get("msg_type") not in ("text", "post", "interactive", "share_chat", "image"):
            return {"code": 19002, "msg": "params error, msg_type need", "data": {}}
        if len(raw) > FEISHU_LIMIT:
            return {"code": 9499, "msg": "Bad Request", "data": {}}
        return {
            "StatusCode": 0,
            "StatusMessage": "success",
            "code": 0,
            "data": {},
            "msg": "success",
        }

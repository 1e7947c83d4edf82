"""Request size limits: 1 MB for ordinary requests; uploads (ledgers, calendar notices) up to
``[server] max_upload_mb`` of duban.toml (default 20).

:class:`BodyLimit` enforces them for every route before any handler reads a byte: a declared
``Content-Length`` over the limit is answered 413 at once (the body is never read), and a body
sent without one (chunked) is cut off with 413 as soon as it passes the limit. So an anonymous
client can make the server hold at most the limit of one route, never fill its disk; the routes
that take files also check the caller before they read the body.

(Starlette's own ``RequestBodyLimitMiddleware`` fixes each route's limit when the route is made,
at import; ours follows duban.toml, which the office may edit while the server runs.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.routing import compile_path

from workflow.errors import ConfigError, TooLarge

BODY_LIMIT = 1024 * 1024
# a body up to this many times its limit is read (and dropped, never stored) before the 413, so
# that a client that sends its whole body first reads the answer; a larger one is cut off
DRAIN_FACTOR = 4
DEFAULT_UPLOAD_MB = 20


def upload_limit(config) -> int:
    value = config.section("server").get("max_upload_mb", DEFAULT_UPLOAD_MB)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"[server] max_upload_mb 应为正数（MB）：{value!r}")
    return int(value * 1024 * 1024)


def too_large(limit: int, upload: bool) -> TooLarge:
    mb = f"{limit / 1024 / 1024:g} MB"
    if upload:
        return TooLarge(f"上传文件过大（上限 {mb}，见 duban.toml [server] max_upload_mb）")
    return TooLarge(f"请求内容过大（上限 {mb}）")


class BodyTooLarge(TooLarge):
    """Raised into the app when a streamed body passes its route's limit."""


class BodyLimit:
    """Pure ASGI middleware: every request body within its route's limit, or 413.

    ``upload_paths`` are the routes that take files (``POST`` path templates such as
    ``/api/v1/imports``); ``upload_limit_of()`` gives the configured upload limit (read for each
    upload, so an edit of duban.toml applies to the next one); ``refuse(scope, error)`` makes the
    413 response (JSON for the API, a page for the pages).
    """

    def __init__(
        self,
        app: Any,
        upload_paths: list[str],
        upload_limit_of: Callable[[], int],
        refuse: Callable[[dict, TooLarge], Any],
    ) -> None:
        self.app = app
        self.upload_paths: list[re.Pattern] = [compile_path(p)[0] for p in upload_paths]
        self.upload_limit_of = upload_limit_of
        self.refuse = refuse

    def _limit(self, scope: dict) -> tuple[int, bool]:
        """The route's limit, and whether it takes files."""
        path = scope.get("path", "")
        if scope.get("method") == "POST" and any(p.match(path) for p in self.upload_paths):
            return self.upload_limit_of(), True
        return BODY_LIMIT, False

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length", b"").decode("latin-1").strip()
        limit: int | None = None  # worked out for requests with a body only
        upload = False
        if declared.isdigit() and int(declared) > 0:
            limit, upload = self._limit(scope)
            if int(declared) > limit:
                if int(declared) <= DRAIN_FACTOR * limit:
                    await _drain(receive, DRAIN_FACTOR * limit)
                await self._answer(scope, send, too_large(limit, upload))
                return
        received = 0
        exceeded: TooLarge | None = None
        started = False

        async def limited_receive() -> dict:
            nonlocal received, exceeded, limit, upload
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if limit is None and message.get("body"):
                    limit, upload = self._limit(scope)
                if limit is not None and received > limit:
                    exceeded = too_large(limit, upload)
                    raise BodyTooLarge(exceeded.message)
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if exceeded is not None:
                return  # the app's own answer to the cut-off body is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if exceeded is None:
                raise
        if exceeded is not None and not started:
            await _drain(receive, (DRAIN_FACTOR - 1) * (limit or BODY_LIMIT))
            await self._answer(scope, send, exceeded)

    async def _answer(self, scope: dict, send: Callable, error: TooLarge) -> None:
        response = self.refuse(scope, error)
        response.headers["Connection"] = "close"
        await response(scope, _nothing, send)


async def _drain(receive: Callable, most: int) -> None:
    """Read and drop up to ``most`` more bytes of the body, so that a client that sends its
    whole body before it reads the answer gets the 413 rather than a reset connection."""
    seen = 0
    while seen <= most:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _nothing() -> dict:
    return {"type": "http.disconnect"}

"""The FastAPI application: one factory, the error mapping, security headers.

Every :class:`workflow.errors.DubanError` becomes ``{"error": {"code", "message"}}`` with the
status from :func:`workflow.errors.http_status`; anything else is logged on the server and
answered with a Chinese one-liner and 500 — no stack trace ever reaches a client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from workflow.config import Config, load_config
from workflow.errors import DubanError, error_json, http_status
from workflow.storage.db import Database
from workflow.web.deps import ServerState
from workflow.web.limits import BodyLimit, upload_limit
from workflow.web.proxies import trusted_proxies
from workflow.web.throttle import throttle_from

API_PREFIX = "/api/v1"
log = logging.getLogger("duban.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}
# sent on answers over TLS only (a browser ignores it over plain HTTP anyway)
HSTS = "max-age=31536000"

_HTTP_MESSAGES = {
    404: ("not_found", "没有这个地址"),
    405: ("method_not_allowed", "该地址不支持此请求方法"),
    413: ("too_large", "请求内容过大"),
    401: ("not_authenticated", "未提供有效令牌"),
    415: ("unsupported_media_type", "请求内容类型不受支持"),
}


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """The answer's error, shaped like :func:`workflow.errors.error_json`."""
    error = {"code": code, "reason": code, "field": field, "message": message}
    return {"error": {**error, "hint": None, "template": None}}


def _validation_message(exc: RequestValidationError) -> str:
    from workflow.calls.models import invalid_input

    return invalid_input(exc.errors()).message


def create_app(config: Config | None = None, env=None) -> FastAPI:
    """The app for ``config`` (default: this process's settings and database).

    ``env`` (a callable returning a mapping) is where each request reads its settings from;
    by default the process environment. The clock is the process's own (``DUBAN_NOW`` in the
    server's environment pins it): a request can never set it.
    """
    config = config or load_config()
    app = FastAPI(
        title="duban 督办 API",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    db = Database(config.database_url)
    app.state.duban = ServerState(
        config=config,
        db=db,
        throttle=throttle_from(config.section("server"), db),
        env=env,
    )

    @app.exception_handler(DubanError)
    async def _duban_error(request: Request, exc: DubanError) -> JSONResponse:
        return JSONResponse(error_json(exc), status_code=http_status(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        locs = [
            ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
            for e in exc.errors()[:1]
        ]
        field = locs[0] if locs and locs[0] else None
        return JSONResponse(error_body("invalid_input", _validation_message(exc), field), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法处理"))
        return JSONResponse(error_body(code, message), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal", "服务器内部错误，请联系办公室查看服务日志"), 500)

    # the last added is the outermost: the proxies' headers, the security headers, the size limit
    app.add_middleware(
        BodyLimit,
        upload_paths=_upload_paths(),
        upload_limit_of=lambda: upload_limit(app.state.duban.current_config()),
        refuse=_refuse,
    )

    app.add_middleware(SecurityHeaders)

    _include_routers(app)
    proxies = trusted_proxies(config.section("server"))
    if proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    return app


class SecurityHeaders:
    """The security headers on every answer (``Cache-Control: no-store`` on the API's, HSTS
    over TLS), as plain ASGI: no task and stream per request as ``@app.middleware`` has."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = dict(SECURITY_HEADERS)
        if scope.get("path", "").startswith(API_PREFIX):
            extra["Cache-Control"] = "no-store"
        if scope.get("scheme") == "https":
            extra["Strict-Transport-Security"] = HSTS

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in extra.items():
                    if name.lower().encode("latin-1") not in present:
                        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _upload_paths() -> list[str]:
    """The routes that take files: the API's uploading operations and the pages' import."""
    from workflow.calls.table import OPERATIONS
    from workflow.web.pages.directory import UPLOAD_PATHS as DIRECTORY_UPLOADS
    from workflow.web.pages.ledger import UPLOAD_PATHS

    uploads = [API_PREFIX + op.path for op in OPERATIONS.values() if op.uploads]
    return uploads + UPLOAD_PATHS + DIRECTORY_UPLOADS


def _refuse(scope: dict, error: DubanError):
    """The 413 of :class:`BodyLimit`: JSON on the API, an error page on the pages."""
    from starlette.requests import Request as StarletteRequest

    if scope.get("path", "").startswith(API_PREFIX):
        return JSONResponse(error_body("too_large", error.message), status_code=413)
    from workflow.web.pages.frame import error_page

    return error_page(StarletteRequest(scope), error, 413)


def _include_routers(app: FastAPI) -> None:
    """The API and the pages register themselves here (one line each)."""
    from workflow.web.api.health import root as health_root
    from workflow.web.api.health import router as health
    from workflow.web.api.operations import router as operations
    from workflow.web.api.signin import router as signin
    from workflow.web.pages import router as pages_router

    app.include_router(health, prefix=API_PREFIX)
    app.include_router(health_root)  # /healthz, /readyz (issue 30)
    app.include_router(operations, prefix=API_PREFIX)
    app.include_router(signin, prefix=API_PREFIX)  # a person's password → token (issue 29)
    app.include_router(pages_router)
    _without_422(app)


def _without_422(app: FastAPI) -> None:
    """The schema as the API answers: a refused value is a 400 with :class:`ErrorBody`, never
    FastAPI's default 422 (the validation handler above turns it into the Chinese 400)."""
    default = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = default()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        schemas = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

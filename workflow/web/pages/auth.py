"""Sign in with a token (令牌 → 登录), sign out (退出), the home redirect, the static files."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from workflow.directory.web_sessions import (
    idle_timeout,
    same_secret,
    session_lifetime,
    sign_in,
    sign_out,
)
from workflow.errors import NotAuthenticated, NotFound, TooManyRequests
from workflow.web.deps import remote_address, server_state
from workflow.web.pages.audit import page_audit
from workflow.web.pages.frame import (
    HOME,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SIGNED_OUT_TEXT,
    PageRoute,
    Visitor,
    config,
    now,
    posted,
    render,
    safe_next,
    see_other,
    unit_of_work,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_FILES = {"app.css": "text/css"}
# what the sign-in page says when a token is refused, by the error's reason code (the message
# itself speaks of DUBAN_TOKEN and `duban login`, which are the command line's)
SIGN_IN_REFUSED = {
    "token_unknown": "令牌无效",
    "token_revoked": "令牌已吊销",
    "token_missing": "请输入令牌",
}


def _secure(request: Request) -> bool:
    """Cookies are Secure when the page came over https (directly or through a local proxy)."""
    return request.url.scheme == "https"


@router.get("/")
def home(request: Request) -> Response:
    try:
        who = visitor(request)
    except NotAuthenticated:
        return see_other("/login")
    return see_other(HOME.get(who.role, "/tasks"))


def _login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    csrf = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status=status,
        csrf=csrf,
        next=safe_next(request.query_params.get("next")) or "",
        notice=SIGNED_OUT_TEXT.get(request.query_params.get("why", "")) if error is None else None,
        error=error,
        signed_out=request.query_params.get("bye") == "1",
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


def _sign_in(request: Request, token: str) -> str:
    """A new session for ``token`` (NotAuthenticated when it is wrong); a previous one ends."""
    with unit_of_work(request) as session:
        cfg = config(request)
        sid, signed = sign_in(session, token, now(), idle_timeout(cfg), session_lifetime(cfg))
        sign_out(session, request.cookies.get(SESSION_COOKIE))
    page_audit(request, signed.caller, "signin")
    return sid


@router.post("/login")
async def login(
    request: Request,
    token: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Sign in. Wrong tokens count in the same per-address throttle as the API's: slowed after a
    few, then refused for a while (429), even a right token, and logged without the token."""
    throttle = server_state(request).throttle
    if not same_secret(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_page(request, error="登录表单已过期，请重新输入令牌", status=403)
    if not token.strip():  # nothing guessed: not counted
        return _login_page(request, error="请输入令牌", status=401)
    try:
        sid = await throttle.guard(
            remote_address(request), lambda: _sign_in(request, token), via="sign-in page"
        )
    except TooManyRequests as exc:
        await run_in_threadpool(page_audit, request, None, "signin", "throttled")
        return _login_page(request, error=exc.message, status=429)
    except NotAuthenticated as exc:
        await run_in_threadpool(page_audit, request, None, "signin", "failed")
        return _login_page(request, error=SIGN_IN_REFUSED.get(exc.reason, "令牌无效"), status=401)
    response = see_other(safe_next(next) or "/")
    response.set_cookie(
        SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=_secure(request), path="/"
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, who: Visitor = Depends(posted)) -> Response:
    with unit_of_work(request) as session:
        sign_out(session, request.cookies.get(SESSION_COOKIE))
    page_audit(request, who.caller, "signout")
    response = see_other("/login?bye=1")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound("没有这个文件")
    return FileResponse(
        STATIC / name,
        media_type=f"{STATIC_FILES[name]}; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )

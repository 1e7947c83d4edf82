"""Sign in (账号 and 密码, or a token), sign out (退出), change one's password, the home
redirect, the static files."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from workflow.accounts.manage import change_password
from workflow.accounts.signin import AccountLocked, check_password, queue_link_mail, use_link
from workflow.directory.web_sessions import (
    idle_timeout,
    open_session,
    same_secret,
    session_lifetime,
    sign_in,
    sign_out,
)
from workflow.errors import DubanError, NotAuthenticated, NotFound, TooManyRequests
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


def _plain_http(request: Request) -> bool:
    """Signing in over http to something other than this machine: the password travels in clear."""
    host = (request.url.hostname or "").lower()
    local = host in ("localhost", "::1", "[::1]") or host.startswith("127.")
    return request.url.scheme == "http" and not local


def _login_page(
    request: Request,
    *,
    error: str | None = None,
    status: int = 200,
    account: str = "",
    with_token: bool = False,
    notice: str | None = None,
    template: str = "login.html",
) -> Response:
    csrf = secrets.token_urlsafe(32)
    response = render(
        request,
        template,
        None,
        status=status,
        csrf=csrf,
        next=safe_next(request.query_params.get("next")) or "",
        notice=notice
        or (SIGNED_OUT_TEXT.get(request.query_params.get("why", "")) if error is None else None),
        error=error,
        signed_out=request.query_params.get("bye") == "1",
        account=account,
        with_token=with_token,
        plain_http=_plain_http(request),
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


def _sign_in_account(request: Request, name: str, password: str, remember: bool) -> str:
    """A new session for an account's password (NotAuthenticated / AccountLocked when not)."""
    state = server_state(request)
    caller = check_password(state.db, name, password, now())
    with unit_of_work(request) as session:
        cfg = config(request)
        sid, signed = open_session(
            session, caller, now(), idle_timeout(cfg), session_lifetime(cfg), remember=remember
        )
        sign_out(session, request.cookies.get(SESSION_COOKIE))
    page_audit(request, signed.caller, "signin")
    return sid


def _signed_in(request: Request, sid: str, target: str, remember: bool = False) -> Response:
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
        max_age=REMEMBER_SECONDS if remember else None,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


REMEMBER_SECONDS = 30 * 24 * 3600


@router.post("/login")
async def login(
    request: Request,
    account: str = Form(""),
    password: str = Form(""),
    remember: str = Form(""),
    token: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Sign in with 账号 and 密码 (or a token). Wrong tries count in the same per-address
    throttle as the API's: slowed after a few, then refused for a while (429), even a right one,
    and logged without the secret. Wrong passwords also count in the account's lockout."""
    throttle = server_state(request).throttle
    by_token = bool(token.strip()) and not account.strip()
    if not same_secret(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_page(request, error="登录表单已过期，请重新输入", status=403, account=account)
    if not by_token and not (account.strip() and password):  # nothing guessed: not counted
        return _login_page(request, error="请输入账号和密码", status=401, account=account)
    keep = remember == "1" and not by_token
    try:
        if by_token:
            sid = await throttle.guard(
                remote_address(request), lambda: _sign_in(request, token), via="sign-in page"
            )
        else:
            sid = await throttle.guard(
                remote_address(request),
                lambda: _sign_in_account(request, account.strip(), password, keep),
                via="sign-in page",
            )
    except TooManyRequests as exc:
        await run_in_threadpool(page_audit, request, None, "signin", "throttled")
        return _login_page(request, error=exc.message, status=429, account=account)
    except AccountLocked as exc:
        await run_in_threadpool(page_audit, request, None, "signin", "denied", account[:100])
        return _login_page(request, error=exc.message, status=423, account=account)
    except NotAuthenticated as exc:
        target = None if by_token else account.strip()[:100]
        await run_in_threadpool(page_audit, request, None, "signin", "failed", target)
        return _login_page(
            request,
            error=SIGN_IN_REFUSED.get(exc.reason, "令牌无效" if by_token else "账号或密码错误"),
            status=401,
            account=account,
            with_token=by_token,
        )
    return _signed_in(request, sid, safe_next(next) or "/", remember=keep)


# the same answer whether or not the account exists (no account enumeration)
LINK_SENT = (
    "如果该账号存在并登记了电子邮箱，登录链接已发往该邮箱，15 分钟内有效、只能使用一次。"
    "收不到时请联系安全管理员（或办公室）。"
)


class _LinkAsked(NotAuthenticated):
    """A sign-in link asked for: counted in the per-address throttle like a sign-in attempt,
    so that one address cannot have mails sent without limit."""


def _queue_link(request: Request, name: str) -> None:
    with unit_of_work(request) as session:
        queued = queue_link_mail(session, name, now())
    page_audit(request, None, "signin.link", "ok" if queued else "failed", name[:100])
    raise _LinkAsked("登录链接")


def _link_page(request: Request, **ctx: object) -> Response:
    return _login_page(request, template="login_link.html", **ctx)  # type: ignore[arg-type]


@router.get("/login/link")
def login_link_form(request: Request) -> Response:
    return _link_page(request)


@router.post("/login/link")
async def login_link_mail(
    request: Request, account: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """通过邮件获取登录链接: a one-time link queued in the outbox to the account's e-mail."""
    from workflow.outbox.contact import server_url

    if not same_secret(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _link_page(request, error="登录表单已过期，请重新输入", status=403, account=account)
    if not account.strip():
        return _link_page(request, error="请填写“账号”，再获取登录链接", status=400)
    if server_url(config(request)) is None:
        return _link_page(
            request,
            error="本系统尚未设置服务器地址，不能通过邮件发送登录链接，请联系办公室",
            status=503,
            account=account,
        )
    throttle = server_state(request).throttle
    try:
        await throttle.guard(
            remote_address(request),
            lambda: _queue_link(request, account.strip()[:100]),
            via="sign-in link",
        )
    except TooManyRequests as exc:
        await run_in_threadpool(page_audit, request, None, "signin.link", "throttled")
        return _link_page(request, error=exc.message, status=429, account=account)
    except _LinkAsked:
        pass
    return _link_page(request, notice=LINK_SENT, account=account)


@router.get("/login/link/{code}")
def login_link(request: Request, code: str) -> Response:
    """A one-time sign-in link (from a mail or a robot post): used up by this visit."""
    try:
        with unit_of_work(request) as session:
            caller = use_link(session, code, now())
            cfg = config(request)
            sid, signed = open_session(
                session, caller, now(), idle_timeout(cfg), session_lifetime(cfg)
            )
    except NotAuthenticated as exc:
        page_audit(request, None, "signin", "failed")
        return _login_page(request, error=exc.message, status=401)
    page_audit(request, signed.caller, "signin")
    return _signed_in(request, sid, "/")


@router.get("/account/password")
def password_form(request: Request, who: Visitor = Depends(visitor)) -> Response:
    return _password_page(request, who)


def _password_page(
    request: Request, who: Visitor, error: str | None = None, status: int = 200
) -> Response:
    if who.caller.account_id is None:
        raise NotFound("令牌登录没有密码可改：请用个人账号登录")
    return render(request, "password.html", who, status=status, error=error)


@router.post("/account/password")
def password_change(
    request: Request,
    who: Visitor = Depends(posted),
    old: str = Form(""),
    new: str = Form(""),
    again: str = Form(""),
) -> Response:
    if who.caller.account_id is None:
        raise NotFound("令牌登录没有密码可改：请用个人账号登录")
    if new != again:
        return _password_page(request, who, "两次输入的新密码不一致", 400)
    try:
        with unit_of_work(request) as session:
            change_password(session, who.caller.account_id, old, new, now())
    except DubanError as exc:
        return _password_page(request, who, exc.message, 400)
    page_audit(request, who.caller, "account.password")
    return see_other("/?changed=1")


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

"""What every page shares: templates, the signed-in visitor, CSRF, errors as pages.

* :class:`PageRoute` turns a :class:`~workflow.errors.DubanError` raised by a page into an HTML
  page with the error's status (403 page, 404 page…), and "not signed in" into a redirect to
  ``/login`` — the API's JSON errors are untouched, they come from the app's handlers.
* :func:`visitor` resolves the session cookie; :func:`posted` also checks the form's CSRF token
  (a POST without it, or with another session's, is refused with a 403 page).
* :func:`unit_of_work` is one database transaction, like an operation's run in
  :mod:`workflow.calls.runner`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from states import STATE_LABELS
from workflow.calls.inputs import check_raw, check_value
from workflow.dates import clock
from workflow.directory.roles import Caller
from workflow.directory.web_sessions import (
    SignedIn,
    idle_timeout,
    resume,
    same_secret,
    session_lifetime,
)
from workflow.errors import DubanError, NotAuthenticated, PermissionDenied, http_status
from workflow.web.deps import remote_address, server_state
from workflow.web.pages.fields import error_text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SESSION_COOKIE = "duban_session"
LOGIN_CSRF_COOKIE = "duban_login_csrf"
CSRF_FIELD = "csrf_token"
ANONYMOUS_POSTS = {
    "/login",
    "/login/link",
}  # every other form needs a session before its body is read

HOME = {
    "unit": "/tasks",
    "leader": "/board",
    "office": "/office/verify",
    "security": "/office/accounts",  # accounts (also `duban account`)
    "auditor": "/office/audit",
}
PASSWORD_PAGE = "/account/password"
# what an account still on the office's initial password may open: changing it, signing out
BEFORE_PASSWORD_CHANGE = frozenset({PASSWORD_PAGE, "/logout"})
# why a visitor was sent to /login: a fixed code in the URL, chosen by the error's reason code
# (never by its text)
SIGNED_OUT_WHY = {
    "session_idle": "idle",
    "session_unknown": "expired",
    "session_expired": "expired",
    "token_revoked": "revoked",
}
SIGNED_OUT_TEXT = {
    "idle": "长时间未操作，已自动退出，请重新登录。",
    "expired": "登录已失效，请重新登录。",
    "revoked": "令牌已吊销，请向办公室申领新令牌后重新登录。",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["STATE_LABELS"] = STATE_LABELS


def _cn_datetime(value: datetime | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):  # an instant as the operations return it (ISO text)
        value = datetime.fromisoformat(value)
    return value.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


_env.filters["when"] = _cn_datetime
_env.filters["percent"] = _percent


@dataclass(frozen=True)
class Visitor:
    """Who is looking at the page, and the CSRF token their forms carry."""

    caller: Caller
    csrf: str

    @property
    def role(self) -> str:
        return self.caller.role


def render(
    request: Request, template: str, visitor: Visitor | None = None, status: int = 200, **ctx: Any
) -> HTMLResponse:
    html = _env.get_template(template).render(
        visitor=visitor, path=request.url.path, csrf_field=CSRF_FIELD, **ctx
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after sign-in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def now() -> datetime:
    return clock.now()


def today() -> date:
    return clock.today()


def config(request: Request) -> Any:
    return server_state(request).config


@contextmanager
def unit_of_work(request: Request) -> Iterator[Any]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with server_state(request).db.session() as session:
        yield session


_calendars: dict[tuple, Any] = {}


def calendar(request: Request) -> Any:
    """The office's working-day calendar, rebuilt when an override file changes."""
    from workflow.dates.workdays import calendar_dir, load_calendar

    cfg = config(request)
    folder = calendar_dir(cfg)
    key = (
        str(folder),
        str(cfg.section("office").get("region")),
        tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.toml")))
        if folder.is_dir()
        else (),
    )
    if key not in _calendars:
        _calendars.clear()
        _calendars[key] = load_calendar(cfg)
    return _calendars[key]


# -- the visitor --------------------------------------------------------------------------------
def visitor(request: Request) -> Visitor:
    """The signed-in visitor (NotAuthenticated → the route sends them to /login)."""
    known = getattr(request.state, "page_visitor", None)
    if known is not None:  # already resolved by PageRoute, before the body was read
        return known
    sid = request.cookies.get(SESSION_COOKIE)
    with unit_of_work(request) as session:
        cfg = config(request)
        signed: SignedIn = resume(session, sid, now(), idle_timeout(cfg), session_lifetime(cfg))
    address = remote_address(request) or None  # the history records it, as for the API
    who = Visitor(caller=replace(signed.caller, address=address), csrf=signed.csrf)
    request.state.page_visitor = who  # the error page still shows the visitor's menu
    if signed.must_change and request.url.path not in BEFORE_PASSWORD_CHANGE:
        raise PasswordChangeRequired("首次登录请先修改密码")
    return who


class PasswordChangeRequired(DubanError):
    """An account still on the password the office set: every page leads to changing it."""


class CsrfRefused(PermissionDenied):
    """A form posted without this session's CSRF token."""


async def checked_form(request: Request, who: Visitor, **limits: int) -> Any:
    """The posted form (read now, within ``limits``), refused unless it carries ``who``'s
    session's CSRF token."""
    form = await request.form(**limits)
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not same_secret(given, who.csrf):
        raise CsrfRefused("表单缺少有效的安全校验码（可能页面已过期），请刷新页面后重新提交")
    for name, value in form.multi_items():  # the texts typed, in the limits of every door
        if isinstance(value, str) and name in LINES:  # a textarea: one item per line
            check_value(name, value.splitlines())
        elif isinstance(value, str):
            check_raw(name, value)
    return form


async def posted(request: Request, who: Visitor = Depends(visitor)) -> Visitor:
    """The visitor of a POST whose form carries their session's CSRF token."""
    await checked_form(request, who)
    return who


# -- errors as pages ----------------------------------------------------------------------------
def error_page(request: Request, exc: DubanError, status: int | None = None) -> Response:
    if isinstance(exc, PasswordChangeRequired):
        return see_other(f"{PASSWORD_PAGE}?first=1")
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        why = SIGNED_OUT_WHY.get(exc.reason, "")
        return see_other(f"/login?next={quote(target, safe='')}" + (f"&why={why}" if why else ""))
    titles = {403: "无权访问", 404: "未找到", 409: "情况已有变化", 413: "文件过大"}
    code = status or http_status(exc)
    one_line = error_text(exc, getattr(request.state, "field_labels", None))
    who = getattr(request.state, "page_visitor", None)
    return render(
        request,
        "error.html",
        who,
        status=code,
        title=titles.get(code, "无法完成操作"),
        message=one_line,
        status_code=code,
        back=getattr(request.state, "back", None),
    )


LINES = frozenset({"evidence"})  # textareas whose lines are a list's items (CLI: repeated)


def _int_params(endpoint: Callable) -> frozenset[str]:
    """The endpoint's parameters declared ``int`` (checked against the database's integer)."""
    import inspect

    return frozenset(
        name
        for name, p in inspect.signature(endpoint).parameters.items()
        if p.annotation in (int, "int", "int | None")
    )


class PageRoute(APIRoute):
    """A page's route: DubanError → an HTML page with the error's status, not JSON."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        ints = _int_params(self.endpoint)

        async def handler(request: Request) -> Response:
            try:
                for name, value in (*request.path_params.items(), *request.query_params.items()):
                    check_raw(name, value, as_int=name in ints)
                if request.method not in ("GET", "HEAD") and self.path not in ANONYMOUS_POSTS:
                    # the session before the body: FastAPI reads a form before dependencies
                    await run_in_threadpool(visitor, request)
                return await original(request)
            except DubanError as exc:
                return error_page(request, exc)
            except RequestValidationError:
                return error_page(request, DubanError("请求参数不正确，请从页面上的链接或表单进入"))

        return handler

"""The accounts page (/office/accounts, issue 29): list with search and paging, add, edit,
lock and unlock, reset the password, remove.

Permission is the library's (:func:`workflow.accounts.manage.require_security`): the security
administrator, or the office as long as no account holds that duty. A new or reset password
is in that one response only (``Cache-Control: no-store``, never redirected, never stored in
clear).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from workflow.accounts.manage import (
    add_account,
    edit_account,
    list_accounts,
    lock_account,
    remove_account,
    reset_password,
    show_account,
    unlock_account,
)
from workflow.directory.roles import ACCOUNT_ROLES, WORK_ROLES
from workflow.directory.units import list_units
from workflow.errors import DubanError, InvalidInput, NotFound, PermissionDenied, http_status
from workflow.vocabulary import Role
from workflow.web.pages.directory import audited
from workflow.web.pages.fields import error_text
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    now,
    posted,
    render,
    see_other,
    unit_of_work,
    visitor,
)
from workflow.web.pages.paging import paged

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ROLE_LABELS = {r: Role.labels()[r] for r in ACCOUNT_ROLES}
# the form's labels of the library's fields (workflow.web.pages.fields names the rest)
LABELS = {"unit": "所属单位", "roles": "角色", "email": "电子邮箱", "mobile": "手机号"}
DONE = {
    "edited": "已保存账号信息",
    "locked": "已锁定账号，该账号已在所有设备上退出",
    "unlocked": "已解锁账号",
    "removed": "已删除账号，其令牌已吊销",
}


def _checked_roles(roles: list[str]) -> list[str]:
    """The ticked boxes, told in the form's words when they cannot make an account."""
    if not roles:
        raise InvalidInput("请在“角色”中至少勾选一项")
    work = [r for r in roles if r in WORK_ROLES]
    if len(work) > 1:
        names = "、".join(ROLE_LABELS[r] for r in work)
        raise InvalidInput(f"“角色”中办公室、单位、领导只能勾选一项（现勾选了 {names}）")
    return roles


def _list_page(
    request: Request, who: Visitor, q: str = "", page: str = "", status: int = 200, **ctx: Any
) -> Response:
    with unit_of_work(request) as session:
        rows = list_accounts(session, who.caller, now())
        units = [u["name"] for u in list_units(session) if u["active"]]
    shown = paged(
        rows,
        path="/office/accounts",
        page=page,
        q=q,
        text=lambda r: (
            r["name"],
            r["unit"],
            r["email"],
            r["mobile"],
            *(ROLE_LABELS.get(x, x) for x in r["roles"]),
        ),
    )
    ctx.setdefault("done", None)
    ctx.setdefault("issued", None)
    ctx.setdefault("error", None)
    ctx.setdefault("typed", {})
    return render(
        request,
        "office/accounts.html",
        who,
        status=status,
        page=shown,
        units=units,
        role_labels=ROLE_LABELS,
        **ctx,
    )


@router.get("/office/accounts")
def accounts(
    request: Request, q: str = "", page: str = "", done: str = "", who: Visitor = Depends(visitor)
) -> Response:
    return _list_page(request, who, q, page, done=DONE.get(done))


@router.post("/office/accounts")
def account_add(
    request: Request,
    name: str = Form(""),
    roles: list[str] = Form([]),
    unit: str = Form(""),
    email: str = Form(""),
    mobile: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    """The initial password is in this one response only."""
    request.state.back = "/office/accounts"
    typed = {"name": name, "roles": roles, "unit": unit, "email": email, "mobile": mobile}
    try:
        with audited(request, who, "account.add", name), unit_of_work(request) as session:
            account, password = add_account(
                session,
                who.caller,
                name,
                _checked_roles(roles),
                now(),
                unit=unit or None,
                email=email,
                mobile=mobile,
            )
            shown = {"name": account.name, "id": account.id}
    except PermissionDenied:
        raise
    except DubanError as exc:
        return _list_page(
            request, who, status=http_status(exc), error=error_text(exc, LABELS), typed=typed
        )
    return _list_page(request, who, issued={**shown, "password": password, "what": "新增"})


def _account(request: Request, who: Visitor, account_id: int) -> dict:
    with unit_of_work(request) as session:
        found = next(
            (a for a in list_accounts(session, who.caller, now()) if a["id"] == account_id), None
        )
        if found is None:
            raise NotFound(f"账号 #{account_id} 不存在")
        return show_account(session, who.caller, found["name"], now())


def _detail_page(
    request: Request, who: Visitor, account_id: int, status: int = 200, **ctx: Any
) -> Response:
    account = _account(request, who, account_id)
    with unit_of_work(request) as session:
        units = [u["name"] for u in list_units(session) if u["active"]]
    ctx.setdefault("issued", None)
    ctx.setdefault("error", None)
    ctx.setdefault("done", None)
    ctx.setdefault("typed", None)
    return render(
        request,
        "office/account.html",
        who,
        status=status,
        account=account,
        units=units,
        role_labels=ROLE_LABELS,
        **ctx,
    )


@router.get("/office/accounts/{account_id}")
def account_page(
    request: Request, account_id: int, done: str = "", who: Visitor = Depends(visitor)
) -> Response:
    return _detail_page(request, who, account_id, done=DONE.get(done))


def _name_of(request: Request, who: Visitor, account_id: int) -> str:
    return _account(request, who, account_id)["name"]


@router.post("/office/accounts/{account_id}")
def account_save(
    request: Request,
    account_id: int,
    name: str = Form(""),
    roles: list[str] = Form([]),
    unit: str = Form(""),
    email: str = Form(""),
    mobile: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = f"/office/accounts/{account_id}"
    typed = {"name": name, "roles": roles, "unit": unit, "email": email, "mobile": mobile}
    try:
        with audited(request, who, "account.edit", name or account_id):
            before = _name_of(request, who, account_id)
            with unit_of_work(request) as session:
                edit_account(
                    session,
                    who.caller,
                    before,
                    now(),
                    roles=_checked_roles(roles),
                    unit=unit,
                    email=email,
                    mobile=mobile,
                    rename=name,
                )
    except (PermissionDenied, NotFound):
        raise
    except DubanError as exc:
        return _detail_page(
            request,
            who,
            account_id,
            status=http_status(exc),
            error=error_text(exc, LABELS),
            typed=typed,
        )
    return see_other(f"/office/accounts/{account_id}?done=edited")


@router.post("/office/accounts/{account_id}/lock")
def account_lock(request: Request, account_id: int, who: Visitor = Depends(posted)) -> Response:
    request.state.back = f"/office/accounts/{account_id}"
    with audited(request, who, "account.lock", account_id):
        name = _name_of(request, who, account_id)
        with unit_of_work(request) as session:
            lock_account(session, who.caller, name, now())
    return see_other(f"/office/accounts/{account_id}?done=locked")


@router.post("/office/accounts/{account_id}/unlock")
def account_unlock(request: Request, account_id: int, who: Visitor = Depends(posted)) -> Response:
    request.state.back = f"/office/accounts/{account_id}"
    with audited(request, who, "account.unlock", account_id):
        name = _name_of(request, who, account_id)
        with unit_of_work(request) as session:
            unlock_account(session, who.caller, name, now())
    return see_other(f"/office/accounts/{account_id}?done=unlocked")


@router.post("/office/accounts/{account_id}/reset-password")
def account_reset(request: Request, account_id: int, who: Visitor = Depends(posted)) -> Response:
    """The new one-time password is in this one response only."""
    request.state.back = f"/office/accounts/{account_id}"
    with audited(request, who, "account.reset-password", account_id):
        name = _name_of(request, who, account_id)
        with unit_of_work(request) as session:
            account, password = reset_password(session, who.caller, name, now())
            shown = {"name": account.name, "id": account.id}
    return _detail_page(
        request, who, account_id, issued={**shown, "password": password, "what": "重置"}
    )


@router.post("/office/accounts/{account_id}/remove")
def account_remove(request: Request, account_id: int, who: Visitor = Depends(posted)) -> Response:
    request.state.back = f"/office/accounts/{account_id}"
    with audited(request, who, "account.remove", account_id):
        name = _name_of(request, who, account_id)
        with unit_of_work(request) as session:
            remove_account(session, who.caller, name, now())
    return see_other("/office/accounts?done=removed")

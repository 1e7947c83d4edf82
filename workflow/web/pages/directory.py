"""The office's directory pages: 单位 (/office/units), 领导 (/office/leaders), 令牌
(/office/tokens) and the directory sheet's import (/office/directory/import, preview then write).

Every route checks the office role before it reads or writes; the work is the directory's
functions (:mod:`workflow.directory`), the same the CLI's ``unit``, ``leader`` and ``token``
commands call.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from workflow.directory.calls import unit_edit
from workflow.directory.robots import edit_leader
from workflow.directory.roles import require_role
from workflow.directory.sheet import import_directory
from workflow.directory.tokens import issue_token, list_tokens, revoke_token
from workflow.directory.units import add_leader, add_unit, list_leaders, list_units
from workflow.errors import InvalidInput, NotFound
from workflow.web.pages.audit import page_audit
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    checked_form,
    config,
    now,
    posted,
    render,
    see_other,
    unit_of_work,
    visitor,
)
from workflow.web.pages.paging import paged

router = APIRouter(route_class=PageRoute, include_in_schema=False)

UPLOAD_PATHS = ["/office/directory/import"]
_SPLIT = re.compile(r"[、,，;；\s]+")
_STAGED = re.compile(r"^[0-9a-f]{64}$")
DONE = {
    "added": "已新增单位",
    "edited": "已保存单位信息",
    "leader-added": "已新增领导",
    "leader-edited": "已保存领导信息",
    "revoked": "已吊销令牌，持有者需重新申领",
}
ROLE_LABELS = {"office": "办公室", "unit": "单位", "leader": "领导"}
ROBOT_LABELS = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}


@contextmanager
def audited(request: Request, who: Visitor, action: str, target: object) -> Iterator[None]:
    """An audit row for a change made on these pages, as the CLI's operation would record it:
    ``ok`` once it is done, or the refusal (``denied``) when the role is not allowed."""
    from workflow.audit.record import outcome_of
    from workflow.errors import PermissionDenied

    try:
        yield
    except PermissionDenied as exc:
        page_audit(request, who.caller, action, outcome_of(exc), target=str(target))
        raise
    page_audit(request, who.caller, action, target=str(target))


def _office(who: Visitor, action: str) -> None:
    require_role(who.caller, "office", action)


def _items(text: str) -> list[str]:
    return [p for p in _SPLIT.split(text or "") if p]


# -- 单位 ---------------------------------------------------------------------------------------
@router.get("/office/units")
def units(
    request: Request,
    q: str = "",
    unit: str = "",  # the group filter (the lists' one filter keeps one name)
    page: str = "",
    done: str = "",
    who: Visitor = Depends(visitor),
) -> Response:
    _office(who, "管理单位名录")
    with unit_of_work(request) as session:
        rows = list_units(session)
        leaders = [p["name"] for p in list_leaders(session)]
    groups = sorted({g for r in rows for g in r["groups"]})
    shown = paged(
        rows,
        path="/office/units",
        page=page,
        q=q,
        unit=unit,
        text=lambda r: (r["name"], r["aliases"], r["groups"], r["emails"], r["leader"]),
        unit_of=lambda r: r["groups"],
    )
    return render(
        request,
        "office/units.html",
        who,
        page=shown,
        groups=groups,
        leaders=leaders,
        robot_labels=ROBOT_LABELS,
        done=DONE.get(done),
    )


@router.post("/office/units")
def unit_add(
    request: Request,
    name: str = Form(""),
    aliases: str = Form(""),
    groups: str = Form(""),
    emails: str = Form(""),
    leader: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/units"
    with audited(request, who, "unit.add", name), unit_of_work(request) as session:
        add_unit(
            session,
            who.caller,
            name,
            now(),
            aliases=_items(aliases),
            groups=_items(groups),
            emails=_items(emails),
            leader=leader or None,
        )
    return see_other("/office/units?done=added")


def _unit(session, unit_id: int) -> dict:
    found = next((u for u in list_units(session) if u["id"] == unit_id), None)
    if found is None:
        raise NotFound(f"单位 #{unit_id} 不存在")
    return found


@router.get("/office/units/{unit_id}")
def unit_page(request: Request, unit_id: int, who: Visitor = Depends(visitor)) -> Response:
    _office(who, "管理单位名录")
    with unit_of_work(request) as session:
        unit = _unit(session, unit_id)
        leaders = [p["name"] for p in list_leaders(session)]
    return render(
        request,
        "office/unit.html",
        who,
        unit=unit,
        leaders=leaders,
        robot_labels=ROBOT_LABELS,
    )


@router.post("/office/units/{unit_id}")
def unit_save(
    request: Request,
    unit_id: int,
    name: str = Form(""),
    aliases: str = Form(""),
    groups: str = Form(""),
    emails: str = Form(""),
    leader: str = Form(""),
    inactive: str = Form(""),
    robot: str = Form(""),
    robot_token: str = Form(""),
    robot_secret: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    """The form holds every field whole; what changed is sent to the directory as the CLI's
    ``unit edit`` would (added and removed items, a new name, a leader, a robot)."""
    request.state.back = f"/office/units/{unit_id}"
    with audited(request, who, "unit.edit", name or unit_id), unit_of_work(request) as session:
        _office(who, "管理单位名录")
        before = _unit(session, unit_id)
        wanted = {"aliases": _items(aliases), "groups": _items(groups), "emails": _items(emails)}
        change = {}
        for key, values in wanted.items():
            change[f"add_{key}"] = [v for v in values if v not in before[key]]
            change[f"remove_{key}"] = [v for v in before[key] if v not in values]
        rename = name.strip() if name.strip() and name.strip() != before["name"] else None
        robot_kind = robot.strip() or None
        unit_edit(
            session,
            who.caller,
            config(request),
            now(),
            before["name"],
            leader=leader if leader != (before["leader"] or "") else None,
            rename=rename,
            robot=robot_kind,
            robot_token=robot_token.strip() or None if robot_kind != "none" else None,
            robot_secret=robot_secret.strip() or None,
            **change,
        )
        if bool(inactive) == before["active"]:  # 停用 / 恢复启用
            from workflow.directory.units import edit_unit

            edit_unit(
                session, who.caller, rename or before["name"], now(), active=not bool(inactive)
            )
    return see_other("/office/units?done=edited")


# -- 领导 ---------------------------------------------------------------------------------------
@router.get("/office/leaders")
def leaders(
    request: Request, q: str = "", page: str = "", done: str = "", who: Visitor = Depends(visitor)
) -> Response:
    _office(who, "管理领导名录")
    with unit_of_work(request) as session:
        rows = list_leaders(session)
        counts: dict[str, int] = {}
        for u in list_units(session):
            if u["leader"]:
                counts[u["leader"]] = counts.get(u["leader"], 0) + 1
    shown = paged(
        rows,
        path="/office/leaders",
        page=page,
        q=q,
        text=lambda r: (r["name"], r["title"], r["email"]),
    )
    return render(
        request,
        "office/leaders.html",
        who,
        page=shown,
        counts=counts,
        robot_labels=ROBOT_LABELS,
        done=DONE.get(done),
    )


@router.post("/office/leaders")
def leader_add(
    request: Request,
    name: str = Form(""),
    email: str = Form(""),
    title: str = Form(""),
    principal: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/leaders"
    with audited(request, who, "leader.add", name), unit_of_work(request) as session:
        add_leader(
            session,
            who.caller,
            name,
            now(),
            email=email.strip() or None,
            title=title.strip() or None,
            principal=bool(principal),
        )
    return see_other("/office/leaders?done=leader-added")


@router.post("/office/leaders/{leader_id}")
def leader_save(
    request: Request,
    leader_id: int,
    email: str = Form(""),
    title: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/leaders"
    with audited(request, who, "leader.edit", leader_id), unit_of_work(request) as session:
        _office(who, "管理领导名录")
        person = next((p for p in list_leaders(session) if p["id"] == leader_id), None)
        if person is None:
            raise NotFound(f"领导 #{leader_id} 不存在")
        edit_leader(session, who.caller, config(request), person["name"], now(), email=email,
                    title=title)  # fmt: skip
    return see_other("/office/leaders?done=leader-edited")


# -- 令牌 ---------------------------------------------------------------------------------------
def _tokens_page(request: Request, who: Visitor, q: str, page: str, **ctx) -> Response:
    with unit_of_work(request) as session:
        rows = list(reversed(list_tokens(session, who.caller)))
        units = [u["name"] for u in list_units(session) if u["active"]]
        leaders = [p["name"] for p in list_leaders(session)]
    shown = paged(
        rows,
        path="/office/tokens",
        page=page,
        q=q,
        text=lambda r: (r["holder"], r["prefix"], ROLE_LABELS.get(r["role"], r["role"])),
    )
    ctx.setdefault("done", None)
    ctx.setdefault("issued", None)
    return render(
        request,
        "office/tokens.html",
        who,
        page=shown,
        units=units,
        leaders=leaders,
        role_labels=ROLE_LABELS,
        **ctx,
    )


@router.get("/office/tokens")
def tokens(
    request: Request, q: str = "", page: str = "", done: str = "", who: Visitor = Depends(visitor)
) -> Response:
    _office(who, "查看令牌")
    return _tokens_page(request, who, q, page, done=DONE.get(done))


@router.post("/office/tokens")
def token_issue(
    request: Request,
    role: str = Form("unit"),
    unit: str = Form(""),
    leader: str = Form(""),
    holder: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    """The new token is in this one response only (never stored in clear, never redirected)."""
    request.state.back = "/office/tokens"
    name = {"unit": unit, "leader": leader, "office": holder}.get(role, "")
    if role in ("unit", "leader") and not name.strip():
        raise InvalidInput("请选择令牌的持有者（单位或领导）")
    with audited(request, who, "token.issue", name or role), unit_of_work(request) as session:
        token = issue_token(session, who.caller, name, now(), role=role)
    holder_name = name.strip() or "办公室"
    return _tokens_page(
        request,
        who,
        "",
        "",
        issued={"token": token, "holder": holder_name, "role": ROLE_LABELS.get(role, role)},
    )


@router.post("/office/tokens/{token_id}/revoke")
def token_revoke(request: Request, token_id: int, who: Visitor = Depends(posted)) -> Response:
    request.state.back = "/office/tokens"
    with audited(request, who, "token.revoke", token_id), unit_of_work(request) as session:
        revoke_token(session, who.caller, token_id, now())
    return see_other("/office/tokens?done=revoked")


# -- 导入单位名录 ----------------------------------------------------------------------------------
def _uploads(request: Request) -> Path:
    folder = Path(config(request).data_dir) / "uploads" / "directory"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _staged(request: Request, digest: str) -> Path:
    if not _STAGED.match(digest or ""):
        raise InvalidInput("要导入的名录表标识无效，请重新上传")
    folder = _uploads(request) / digest
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise NotFound("上传的名录表已不在服务器上（可能已导入），请重新上传")
    return files[0]


ACTIONS = {"add": "新增", "update": "补充", "same": "无变化", "error": "有误"}


def _directory_run(request: Request, who: Visitor, path: Path, dry_run: bool) -> dict:
    with unit_of_work(request) as session:
        return import_directory(session, who.caller, path, now(), dry_run=dry_run)


@router.get("/office/directory/import")
def directory_form(request: Request, who: Visitor = Depends(visitor)) -> Response:
    _office(who, "导入单位名录")
    return render(
        request, "office/directory_import.html", who, result=None, staged=None, actions=ACTIONS
    )


@router.post("/office/directory/import")
async def directory_upload(request: Request, who: Visitor = Depends(visitor)) -> Response:
    """Upload → preview (nothing written). The body is read only once the office is known."""
    request.state.back = "/office/directory/import"
    _office(who, "导入单位名录")
    form = await checked_form(request, who, max_files=1, max_fields=3)
    sheet = form.get("sheet")
    if not isinstance(sheet, StarletteUpload) or not sheet.filename:
        raise InvalidInput("请选择要导入的名录表文件（.xlsx / .csv）")
    suffix = Path(sheet.filename).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InvalidInput(f"文件“{sheet.filename}”的类型不支持：名录表只能是 .xlsx 或 .csv")
    content = await sheet.read()
    await form.close()
    digest = hashlib.sha256(content).hexdigest()
    folder = _uploads(request) / digest
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700)
    path = folder / f"名录{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    try:
        result = await run_in_threadpool(_directory_run, request, who, path, True)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return render(
        request,
        "office/directory_import.html",
        who,
        result=result,
        staged={"digest": digest, "name": sheet.filename},
        actions=ACTIONS,
    )


@router.post("/office/directory/import/confirm")
def directory_confirm(
    request: Request, digest: str = Form(""), who: Visitor = Depends(posted)
) -> Response:
    request.state.back = "/office/directory/import"
    with audited(request, who, "unit.import", digest[:12]):
        _office(who, "导入单位名录")
        path = _staged(request, digest)
        result = _directory_run(request, who, path, False)
    shutil.rmtree(path.parent, ignore_errors=True)
    return render(
        request,
        "office/directory_import.html",
        who,
        result=result,
        staged=None,
        actions=ACTIONS,
    )

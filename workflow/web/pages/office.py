"""The office's pages (/office/…): 待核验, 延期申请, the outbox, 导入台账."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from workflow.directory.roles import require_role
from workflow.errors import DubanError, InvalidInput
from workflow.outbox.queue import list_notifications, retry_notification
from workflow.tasks.extensions import approve_extension, list_extensions, refuse_extension
from workflow.tasks.lifecycle import fire
from workflow.tasks.verification import reports_to_verify
from workflow.vocabulary import KIND_LABELS
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    checked_form,
    now,
    posted,
    render,
    safe_next,
    see_other,
    unit_of_work,
    visitor,
)
from workflow.web.pages.paging import paged

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NOTICES = {
    "verified": "已核验通过",
    "returned": "已退回，单位将看到退回理由",
    "approved": "已批准延期，截止日期已更新",
    "refused": "已不批准该延期申请",
    "retried": "已重新排入发送队列",
}


def _office(who: Visitor, action: str) -> None:
    require_role(who.caller, "office", action)


def _back(request: Request, given: str, default: str) -> str:
    request.state.back = safe_next(given) or default
    return request.state.back


def _with(url: str, done: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}done={done}"


# -- 待核验 ---------------------------------------------------------------------------------------
@router.get("/office/verify")
def verify_queue(
    request: Request,
    done: str = "",
    q: str = "",
    unit: str = "",
    page: str = "",
    who: Visitor = Depends(visitor),
) -> Response:
    return _verify_page(request, who, q, unit, page, done=NOTICES.get(done))


def _verify_page(request: Request, who: Visitor, q: str, unit: str, page: str, **ctx) -> Response:
    with unit_of_work(request) as session:
        rows = reports_to_verify(session, who.caller)
    shown = paged(
        rows,
        path="/office/verify",
        page=page,
        q=q,
        unit=unit,
        text=lambda r: (r["title"], r["unit"], r["report"]["text"], r["id"]),
        unit_of=lambda r: r["unit"],
    )
    ctx.setdefault("done", None)
    ctx.setdefault("bulk", None)
    return render(
        request,
        "office/verify.html",
        who,
        rows=shown.rows,
        page=shown,
        units=sorted({r["unit"] for r in rows}),
        **ctx,
    )


@router.post("/office/verify/bulk")
async def verify_bulk(request: Request, who: Visitor = Depends(visitor)) -> Response:
    """核验通过 for every ticked report: each through the lifecycle in its own transaction, so
    a report that cannot be verified (already verified, returned meanwhile…) is reported and the
    others go through."""
    request.state.back = "/office/verify"
    _office(who, "核验通过")
    form = await checked_form(request, who)
    ids: list[int] = []
    for value in form.getlist("ids"):
        if not isinstance(value, str) or not value.strip().isdigit():
            raise InvalidInput("选择的报送编号无效，请从待核验页面勾选")
        ids.append(int(value))
    if not ids:
        raise InvalidInput("请先勾选要核验通过的报送")
    if len(ids) > 500:
        raise InvalidInput("一次最多核验 500 项，请分批操作")
    from starlette.concurrency import run_in_threadpool

    def one(assignment_id: int) -> str | None:
        try:
            with unit_of_work(request) as session:
                fire(session, assignment_id, "verify", who.caller, now=now())
        except DubanError as exc:
            return " ".join(exc.message.split())
        return None

    verified, failed = [], []
    for assignment_id in dict.fromkeys(ids):
        why = await run_in_threadpool(one, assignment_id)
        if why is None:
            verified.append(assignment_id)
        else:
            failed.append({"id": assignment_id, "why": why})
    bulk = {"verified": verified, "failed": failed}
    q, unit = str(form.get("q") or ""), str(form.get("unit") or "")
    return _verify_page(request, who, q, unit, "", bulk=bulk)


@router.post("/office/assignments/{assignment_id}/verify")
def verify(
    request: Request, assignment_id: int, back: str = Form(""), who: Visitor = Depends(posted)
) -> Response:
    target = _back(request, back, "/office/verify")
    with unit_of_work(request) as session:
        fire(session, assignment_id, "verify", who.caller, now=now())
    return see_other(_with(target, "verified"))


@router.post("/office/assignments/{assignment_id}/return")
def return_report(
    request: Request,
    assignment_id: int,
    reason: str = Form(""),
    back: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    target = _back(request, back, "/office/verify")
    with unit_of_work(request) as session:
        fire(session, assignment_id, "return", who.caller, now=now(), reason=reason)
    return see_other(_with(target, "returned"))


# -- 延期申请 -------------------------------------------------------------------------------------
@router.get("/office/extensions")
def extensions(request: Request, done: str = "", who: Visitor = Depends(visitor)) -> Response:
    _office(who, "审批延期申请")
    with unit_of_work(request) as session:
        rows = list_extensions(session, who.caller)
    return render(
        request,
        "office/extensions.html",
        who,
        pending=[r for r in rows if r["status"] == "pending"],
        decided=[r for r in rows if r["status"] != "pending"][:50],
        done=NOTICES.get(done),
    )


@router.post("/office/extensions/{request_id}/approve")
def approve(request: Request, request_id: int, who: Visitor = Depends(posted)) -> Response:
    request.state.back = "/office/extensions"
    with unit_of_work(request) as session:
        approve_extension(session, who.caller, request_id, now())
    return see_other("/office/extensions?done=approved")


@router.post("/office/extensions/{request_id}/refuse")
def refuse(
    request: Request, request_id: int, reason: str = Form(""), who: Visitor = Depends(posted)
) -> Response:
    request.state.back = "/office/extensions"
    with unit_of_work(request) as session:
        refuse_extension(session, who.caller, request_id, now(), reason)
    return see_other("/office/extensions?done=refused")


# -- 通知发送 (the outbox) ------------------------------------------------------------------------
OUTBOX_VIEWS = {"pending": "待发送", "failed": "发送失败", "sent": "已发送", "dropped": "已作废"}
KINDS = KIND_LABELS  # workflow.vocabulary.NotificationKind


@router.get("/office/outbox")
def outbox(
    request: Request,
    state: str = "pending",
    done: str = "",
    q: str = "",
    page: str = "",
    who: Visitor = Depends(visitor),
) -> Response:
    state = state if state in OUTBOX_VIEWS else "pending"
    with unit_of_work(request) as session:
        rows = list_notifications(session, who.caller, state=state, limit=3000)
    shown = paged(
        rows,
        path="/office/outbox",
        page=page,
        q=q,
        text=lambda n: (
            n["recipient"],
            n["recipients"],
            KINDS.get(n["kind"], n["kind"]),
            n["last_error"],
            f"#{n['assignment_id']}" if n["assignment_id"] else "",
        ),
        extra={"state": state},
    )
    return render(
        request,
        "office/outbox.html",
        who,
        rows=shown.rows,
        page=shown,
        state=state,
        views=OUTBOX_VIEWS,
        kinds=KINDS,
        done=NOTICES.get(done),
    )


@router.post("/office/outbox/{notification_id}/retry")
def retry(request: Request, notification_id: int, who: Visitor = Depends(posted)) -> Response:
    request.state.back = "/office/outbox?state=failed"
    with unit_of_work(request) as session:
        retry_notification(session, who.caller, notification_id, now())
    return see_other("/office/outbox?state=failed&done=retried")

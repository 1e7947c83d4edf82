"""The office's running pages: 工作计划 (/office/plans), 每日检查 (/office/check: preview and
"run now"), 考核得分 (/office/scores, the evaluation as .xlsx / .html).

Each route checks the office role, then calls the function the CLI's ``plan list``, ``check``,
``score`` and ``export evaluation`` call.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from workflow.chasing.calls import check
from workflow.directory.plans import list_plans
from workflow.directory.roles import require_role
from workflow.evaluation.calls import export_file, score
from workflow.web.deps import server_state
from workflow.web.pages.directory import audited
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    config,
    now,
    posted,
    render,
    unit_of_work,
    visitor,
)
from workflow.web.pages.paging import paged

router = APIRouter(route_class=PageRoute, include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _office(who: Visitor, action: str) -> None:
    require_role(who.caller, "office", action)


# -- 工作计划 -------------------------------------------------------------------------------------
@router.get("/office/plans")
def plans(request: Request, who: Visitor = Depends(visitor)) -> Response:
    _office(who, "查看工作计划")
    with unit_of_work(request) as session:
        rows = list_plans(session)
    return render(request, "office/plans.html", who, rows=rows)


# -- 每日检查 -------------------------------------------------------------------------------------
@router.get("/office/check")
def check_page(request: Request, who: Visitor = Depends(visitor)) -> Response:
    _office(who, "运行每日检查")
    return render(request, "office/check.html", who, report=None, ran=False)


@router.post("/office/check")
def check_run(
    request: Request, mode: str = Form("preview"), who: Visitor = Depends(posted)
) -> Response:
    """``mode=preview``: the dry run (nothing written); ``mode=run``: the check itself."""
    request.state.back = "/office/check"
    _office(who, "运行每日检查")
    ran = mode == "run"
    report = check(server_state(request).db, who.caller, config(request), now(), dry_run=not ran)
    return render(request, "office/check.html", who, report=report, ran=ran)


# -- 考核得分 -------------------------------------------------------------------------------------
@router.get("/office/scores")
def scores(
    request: Request,
    plan: str = "",
    unit: str = "",
    q: str = "",
    page: str = "",
    who: Visitor = Depends(visitor),
) -> Response:
    _office(who, "查看考核得分")
    with unit_of_work(request) as session:
        plan_rows = list_plans(session)
        if not plan and len(plan_rows) > 1:  # the newest year's, as the chips show it
            plan = str(plan_rows[0]["id"])
        ev = (
            score(session, who.caller, config(request), now(), plan=plan or None)
            if plan_rows
            else None
        )
    display = ev["display"] if ev else {"empty": True, "title": ""}
    rows = [] if display.get("empty") else display["rows"]
    shown = paged(
        rows,
        path="/office/scores",
        page=page,
        q=q,
        unit=unit,
        text=lambda r: (r[2], r[3], r[8]),
        unit_of=lambda r: r[1],
        extra={"plan": plan},
    )
    units = [] if display.get("empty") else sorted({u[1] for u in display["units"]})
    return render(
        request,
        "office/scores.html",
        who,
        display=display,
        page=shown,
        units=units,
        plans=plan_rows,
        plan=plan,
    )


@router.get("/office/scores/evaluation.{kind}")
def evaluation_download(
    request: Request, kind: str, plan: str = "", who: Visitor = Depends(visitor)
) -> Response:
    _office(who, "导出考核结果")
    if kind not in ("xlsx", "html"):
        from workflow.errors import NotFound

        raise NotFound(f"不支持导出为 .{kind}（可选 .xlsx / .html）")
    with tempfile.TemporaryDirectory(prefix="duban-evaluation-") as tmp:
        target = Path(tmp) / f"evaluation.{kind}"
        with (
            audited(request, who, "export", f"evaluation.{kind}"),
            unit_of_work(request) as session,
        ):
            result = export_file(
                session, who.caller, config(request), now(), plan=plan or None, path=str(target)
            )
        body = target.read_bytes()
    name = f"{result.get('year') or ''}年度政务公开考核结果.{kind}"
    return Response(
        body,
        media_type=XLSX if kind == "xlsx" else "text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evaluation.{kind}"; '
            f"filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )

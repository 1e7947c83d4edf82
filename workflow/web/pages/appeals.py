"""申诉 (/appeals): a unit appeals a deduction and follows its outcome; the office decides.

One page for both roles: a unit sees its own appeals and a form to file one (assignment or
deduction row, reason, evidence); the office (and a leader, read-only) sees the pending ones —
the office with 成立 / 不成立 forms — and the decided ones. Permission is the workflow's
(:mod:`workflow.evaluation.appeals`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from workflow.errors import InvalidInput
from workflow.evaluation.appeals import decide_appeal, file_appeal, list_appeals
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    config,
    now,
    posted,
    render,
    see_other,
    unit_of_work,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NOTICES = {
    "filed": "申诉已提交，等待办公室处理",
    "upheld": "已认定申诉成立，相应扣分已免扣",
    "rejected": "已认定申诉不成立，维持扣分",
}


@router.get("/appeals")
def appeals(
    request: Request, done: str = "", assignment: str = "", who: Visitor = Depends(visitor)
) -> Response:
    with unit_of_work(request) as session:
        rows = list_appeals(session, who.caller)
    return render(
        request,
        "appeals.html",
        who,
        pending=[r for r in rows if r["state"] == "pending"],
        decided=[r for r in reversed(rows) if r["state"] != "pending"][:100],
        assignment=assignment,
        done=NOTICES.get(done),
    )


@router.post("/appeals")
def file(
    request: Request,
    assignment: str = Form(""),
    reason: str = Form(""),
    evidence: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/appeals"
    with unit_of_work(request) as session:
        file_appeal(
            session, who.caller, assignment, reason, evidence, now(), config=config(request)
        )
    return see_other("/appeals?done=filed")


@router.post("/appeals/{appeal_id}/decide")
def decide(
    request: Request,
    appeal_id: int,
    outcome: str = Form(""),
    reason: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/appeals"
    uphold = outcome == "uphold"
    with unit_of_work(request) as session:
        if outcome not in ("uphold", "reject"):
            raise InvalidInput("请选择处理结果：申诉成立或不成立")
        decide_appeal(session, who.caller, appeal_id, uphold, reason, now(), config=config(request))
    return see_other(f"/appeals?done={'upheld' if uphold else 'rejected'}")

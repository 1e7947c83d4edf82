"""加分 (/office/bonus): the office grants a unit bonus points for a year, with the evidence.

Permission and checks are the workflow's (:mod:`workflow.evaluation.bonus`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from workflow.directory.roles import require_role
from workflow.errors import InvalidInput
from workflow.evaluation.bonus import add_bonus, list_bonus
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    now,
    posted,
    render,
    see_other,
    today,
    unit_of_work,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/office/bonus")
def bonus_page(request: Request, done: str = "", who: Visitor = Depends(visitor)) -> Response:
    require_role(who.caller, "office", "登记加分")
    with unit_of_work(request) as session:
        rows = list_bonus(session, who.caller)
    return render(
        request,
        "office/bonus.html",
        who,
        rows=list(reversed(rows)),
        year=today().year - (1 if today().month == 1 else 0),
        done="已登记加分" if done == "added" else None,
    )


@router.post("/office/bonus")
def bonus_add(
    request: Request,
    unit: str = Form(""),
    year: str = Form(""),
    points: str = Form(""),
    reason: str = Form(""),
    evidence: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/bonus"
    request.state.field_labels = {"evidence": "依据"}  # this form's words (see pages/fields.py)
    if not year.strip().isdigit():
        raise InvalidInput(f"年度“{year}”无效：应为四位年份，如 2026")
    with unit_of_work(request) as session:
        add_bonus(session, who.caller, unit, int(year), points, reason, evidence, now())
    return see_other("/office/bonus?done=added")

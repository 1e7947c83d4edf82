"""我的任务 and one assignment: a unit reports and asks for more time; the office acts on it too.

Every action calls the same ``workflow`` function as the CLI with the signed-in caller, so the
permission rules are the CLI's and the API's.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from states import STATE_LABELS, STATES, allowed_triggers
from workflow.chasing.notices import list_notices
from workflow.dates.clock import parse_date
from workflow.directory.units import all_units
from workflow.errors import DubanError, NotFound, PermissionDenied, http_status
from workflow.tasks.assignments import TaskFilter, show_assignment
from workflow.tasks.extensions import REQUESTABLE, list_extensions, request_extension
from workflow.tasks.lifecycle import fire
from workflow.tasks.urgency import list_with_urgency, urgency
from workflow.web.pages.form_errors import FIELDS, form_error
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    calendar,
    now,
    posted,
    render,
    see_other,
    today,
    unit_of_work,
    visitor,
)
from workflow.web.pages.paging import paged

router = APIRouter(route_class=PageRoute, include_in_schema=False)


DONE = {
    "acknowledged": "已签收",
    "started": "已开始办理",
    "reported": "已报送，等待办公室核验",
    "extension": "延期申请已提交，等待办公室审批",
    "verified": "已核验通过",
    "returned": "已退回，单位将收到退回理由",
}


def evidence_lines(text: str) -> list[str]:
    """Evidence links or document numbers, one per line (blank lines dropped)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@router.get("/tasks")
def tasks(
    request: Request,
    state: str = "",
    unit: str = "",
    q: str = "",
    page: str = "",
    who: Visitor = Depends(visitor),
) -> Response:
    unit = unit if who.role != "unit" else ""
    flt = TaskFilter(state=state or None, unit=unit or None)
    with unit_of_work(request) as session:
        rows = list_with_urgency(session, who.caller, flt, today(), calendar(request))
        units = [] if who.role == "unit" else [u.name for u in all_units(session)]
    shown = paged(
        rows,
        path="/tasks",
        page=page,
        q=q,
        text=lambda r: (f"#{r['id']}", r["title"], r["section"], r["unit"]),
        extra={"state": state, "unit": unit},
    )
    filters = [("", "全部")] + [(s, STATE_LABELS[s]) for s in STATES]
    return render(
        request,
        "tasks.html",
        who,
        rows=shown.rows,
        page=shown,
        units=units,
        state=state,
        unit=unit,
        filters=[
            (
                value,
                label,
                "/tasks?" + urlencode({k: v for k, v in (("state", value), ("unit", unit)) if v}),
            )
            for value, label in filters
        ],
        as_of=today(),
    )


def _last_return(view: dict) -> dict | None:
    returns = [h for h in view["history"] if h["action"] == "return"]
    return returns[-1] if returns else None


@router.get("/assignments/{assignment_id}")
def assignment(
    request: Request, assignment_id: int, done: str = "", who: Visitor = Depends(visitor)
) -> Response:
    return _page(request, who, assignment_id, done=done)


def _page(
    request: Request,
    who: Visitor,
    assignment_id: int,
    *,
    done: str = "",
    refused: DubanError | None = None,
    form: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    """The assignment's page; after a refused form (``refused``), the form again with what
    was typed (``values``) and the error in the page's words (see form_errors.py)."""
    with unit_of_work(request) as session:
        view = show_assignment(session, who.caller, assignment_id, today())
        notices = list_notices(session, who.caller, assignment_id=assignment_id)
        pending = []
        if who.role in ("unit", "office"):
            pending = [
                r
                for r in list_extensions(session, who.caller, "pending")
                if r["assignment_id"] == assignment_id
            ]
    as_of = today()
    view.update(urgency(view["state"], date.fromisoformat(view["due"]), as_of, calendar(request)))
    allowed = set(allowed_triggers(view["state"]))
    own = who.role == "unit"
    error = form_error(refused, form, view["state"]) if refused is not None else None
    return render(
        request,
        "assignment.html",
        who,
        status=http_status(refused) if refused is not None else 200,
        form_error=error,
        values=values or {},
        a=view,
        notices=notices,
        last_return=_last_return(view),
        pending=pending[0] if pending else None,
        can_ack=own and view["acknowledged_at"] is None and view["state"] == "assigned",
        can_start=own and "start" in allowed,
        can_report=own and "report" in allowed,
        can_extend=own and view["state"] in REQUESTABLE and not pending,
        can_verify=who.role == "office" and "verify" in allowed,
        past_due=as_of > date.fromisoformat(view["due"]),
        done=DONE.get(done),
        as_of=as_of,
    )


def _back(request: Request, assignment_id: int) -> str:
    request.state.back = f"/assignments/{assignment_id}"
    return request.state.back


@router.post("/assignments/{assignment_id}/ack")
def ack(request: Request, assignment_id: int, who: Visitor = Depends(posted)) -> Response:
    from workflow.tasks.acknowledge import acknowledge

    back = _back(request, assignment_id)
    try:
        with unit_of_work(request) as session:
            acknowledge(session, who.caller, assignment_id, now())
    except DubanError as exc:
        return _again(request, who, assignment_id, exc, "ack", {})
    return see_other(f"{back}?done=acknowledged")


@router.post("/assignments/{assignment_id}/start")
def start(request: Request, assignment_id: int, who: Visitor = Depends(posted)) -> Response:
    back = _back(request, assignment_id)
    try:
        with unit_of_work(request) as session:
            fire(session, assignment_id, "start", who.caller, now=now())
    except DubanError as exc:
        return _again(request, who, assignment_id, exc, "start", {})
    return see_other(f"{back}?done=started")


@router.post("/assignments/{assignment_id}/report")
def report(
    request: Request,
    assignment_id: int,
    text: str = Form(""),
    evidence: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    back = _back(request, assignment_id)
    try:
        with unit_of_work(request) as session:
            fire(
                session,
                assignment_id,
                "report",
                who.caller,
                now=now(),
                text=text,
                evidence=evidence_lines(evidence),
            )
    except DubanError as exc:
        values = {"text": text, "evidence": evidence}
        return _again(request, who, assignment_id, exc, "report", values)
    return see_other(f"{back}?done=reported")


@router.post("/assignments/{assignment_id}/extension")
def extension(
    request: Request,
    assignment_id: int,
    to: str = Form(""),
    reason: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    back = _back(request, assignment_id)
    try:
        try:
            new_due = parse_date(to, FIELDS["to"][1])
        except DubanError as exc:
            exc.field = "to"  # the date as typed is the field at fault
            raise
        with unit_of_work(request) as session:
            request_extension(session, who.caller, assignment_id, new_due, reason, now())
    except DubanError as exc:
        return _again(request, who, assignment_id, exc, "extension", {"to": to, "reason": reason})
    return see_other(f"{back}?done=extension")


def _again(
    request: Request,
    who: Visitor,
    assignment_id: int,
    exc: DubanError,
    form: str,
    values: dict[str, str],
) -> Response:
    """The page again after ``form`` was refused; a visitor who may not see the task (or
    whose session ended) gets the usual error page."""
    if isinstance(exc, (PermissionDenied, NotFound)):
        raise exc
    return _page(request, who, assignment_id, refused=exc, form=form, values=values)

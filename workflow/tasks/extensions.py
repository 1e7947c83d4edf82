"""Extension requests (申请延期): a unit asks before its due date, the office approves or refuses.

Until a request is approved the original due date counts: reminders, overdue marking and
escalation go on as before (as in the field, where a request is not a permission). Approval
fires the lifecycle's ``extend`` trigger with the requested date (so the optimistic lock, the
state rules and the ``extend`` history row apply); every request and decision also writes its
own history row (``extension.request`` / ``extension.approve`` / ``extension.refuse``).
One pending request per assignment at a time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from states import STATE_LABELS
from workflow.dates.clock import local_date
from workflow.dates.due import check_due
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Assignment, ExtensionRequest, History, Task, Unit
from workflow.tasks.assignments import get_assignment, note
from workflow.tasks.decisions import queue_decision
from workflow.tasks.lifecycle import fire

STATUS_LABELS = {"pending": "待审批", "approved": "已批准", "refused": "已驳回"}
REQUESTABLE = ("assigned", "in_progress")


def request_extension(
    session: Session,
    caller: Caller,
    assignment_id: int,
    new_due: date,
    reason: str,
    now: datetime,
) -> ExtensionRequest:
    """A unit asks for ``new_due``; refused after the due date or with a request pending."""
    require_role(caller, ("unit", "office"), "申请延期")
    a = get_assignment(session, assignment_id)
    if caller.role == "unit" and a.unit_id != caller.unit_id:
        raise PermissionDenied(f"任务 #{a.id} 不属于{caller.name}，不能为其申请延期")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            f"申请延期任务 #{a.id} 需要说明理由", reason="reason_missing", field="reason"
        )
    if a.state not in REQUESTABLE:
        raise InvalidInput(
            f"任务 #{a.id} 当前为“{STATE_LABELS[a.state]}”，只有已分派或办理中的任务可以申请延期"
        )
    today = local_date(now)
    if today > a.due:
        raise InvalidInput(f"任务 #{a.id} 已过截止日期 {a.due}，应在截止日期前申请延期")
    check_due(new_due, what="申请的截止日期")
    if new_due <= a.due:
        raise InvalidInput(f"申请的截止日期 {new_due} 应晚于当前截止日期 {a.due}")
    pending = session.exec(
        select(ExtensionRequest).where(
            ExtensionRequest.assignment_id == a.id, ExtensionRequest.status == "pending"
        )
    ).first()
    if pending is not None:
        raise Conflict(f"任务 #{a.id} 已有待审批的延期申请 #{pending.id}，请等待办公室处理")
    req = ExtensionRequest(
        assignment_id=a.id,
        requested_due=new_due,
        reason=reason,
        requested_by=caller.name,
        requested_at=now,
    )
    session.add(req)
    session.flush()
    _history(session, a, "extension.request", caller, now, reason, req, {"from_due": a.due})
    return req


def approve_extension(
    session: Session, caller: Caller, request_id: int, now: datetime, reason: str | None = None
) -> ExtensionRequest:
    """The office approves: the assignment's due date becomes the requested one."""
    require_role(caller, "office", "审批延期申请")
    req = _pending(session, request_id)
    why = (reason or "").strip() or f"批准延期申请 #{req.id}：{req.reason}"
    a = fire(
        session, req.assignment_id, "extend", caller, now=now, reason=why, new_due=req.requested_due
    )
    _decide(session, req, "approved", caller, now, reason)
    row = _history(session, a, "extension.approve", caller, now, why, req, {})
    queue_decision(
        session, a, row, now, requested_due=req.requested_due, reason=req.decision_reason
    )
    return req


def refuse_extension(
    session: Session, caller: Caller, request_id: int, now: datetime, reason: str
) -> ExtensionRequest:
    """The office refuses (with a reason): the original date keeps counting."""
    require_role(caller, "office", "审批延期申请")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            f"驳回延期申请 #{request_id} 需要说明理由", reason="reason_missing", field="reason"
        )
    req = _pending(session, request_id)
    _decide(session, req, "refused", caller, now, reason)
    a = get_assignment(session, req.assignment_id)
    row = _history(session, a, "extension.refuse", caller, now, reason, req, {})
    queue_decision(session, a, row, now, requested_due=req.requested_due)
    return req


def list_extensions(
    session: Session, caller: Caller, status: str | None = None
) -> list[dict[str, Any]]:
    """Requests, newest first; a unit sees its own only."""
    if status is not None and status not in STATUS_LABELS:
        raise InvalidInput(f"未知的申请状态：{status}（可选 pending / approved / refused）")
    query = (
        select(ExtensionRequest, Assignment, Task, Unit)
        .join(Assignment, Assignment.id == ExtensionRequest.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .order_by(ExtensionRequest.id.desc())
    )
    if caller.role == "unit":
        query = query.where(Assignment.unit_id == caller.unit_id)
    elif caller.role == "leader":
        raise PermissionDenied("领导身份不能查看延期申请列表")
    if status:
        query = query.where(ExtensionRequest.status == status)
    return [extension_view(r, a, t, u) for r, a, t, u in session.exec(query).all()]


def extension_view(req: ExtensionRequest, a: Assignment, task: Task, unit: Unit) -> dict[str, Any]:
    """The documented JSON shape of one row of ``duban task extension list --json``."""
    return {
        "id": req.id,
        "assignment_id": a.id,
        "unit": unit.name,
        "title": task.title,
        "due": a.due,
        "original_due": a.original_due,
        "requested_due": req.requested_due,
        "reason": req.reason,
        "requested_by": req.requested_by,
        "requested_at": req.requested_at,
        "status": req.status,
        "status_label": STATUS_LABELS[req.status],
        "decided_by": req.decided_by,
        "decided_at": req.decided_at,
        "decision_reason": req.decision_reason,
    }


def _pending(session: Session, request_id: int) -> ExtensionRequest:
    req = session.get(ExtensionRequest, request_id)
    if req is None:
        raise NotFound(f"延期申请 #{request_id} 不存在（用 duban task extension list 查看）")
    if req.status != "pending":
        raise Conflict(
            f"延期申请 #{request_id} 已处理（{STATUS_LABELS[req.status]}），不能重复审批"
        )
    return req


def _decide(
    session: Session,
    req: ExtensionRequest,
    status: str,
    caller: Caller,
    now: datetime,
    reason: str | None,
) -> None:
    req.status = status
    req.decided_by = caller.name
    req.decided_at = now
    req.decision_reason = (reason or "").strip() or None
    session.add(req)


def _history(
    session: Session,
    a: Assignment,
    action: str,
    caller: Caller,
    now: datetime,
    reason: str | None,
    req: ExtensionRequest,
    extra: dict[str, Any],
) -> History:
    data = {"request": req.id, "requested_due": req.requested_due.isoformat()}
    data.update({k: v.isoformat() if isinstance(v, date) else v for k, v in extra.items()})
    row = note(a, caller, action, now, reason=reason, data=data)
    session.add(row)
    session.flush()
    return row


def request_view(session: Session, req: ExtensionRequest) -> dict[str, Any]:
    """:func:`extension_view` of one request, loading its assignment, task and unit."""
    a = session.get(Assignment, req.assignment_id)
    return extension_view(req, a, session.get(Task, a.task_id), session.get(Unit, a.unit_id))

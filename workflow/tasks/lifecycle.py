"""Fire a lifecycle trigger on one assignment: permission, transition, optimistic lock, history.

The state machine itself is in ``states/`` (pure). Here the row is loaded, the caller checked
(a unit only touches its own assignments), side effects applied (a report row, lateness, a new
due date) and one append-only :class:`History` row written. Two people acting on the same
assignment at once: the ``version`` column makes the second flush fail, which becomes a
:class:`Conflict`; the caller's session is rolled back, so nothing of theirs is written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import select

import states
from workflow.dates.clock import local_date
from workflow.dates.due import check_due
from workflow.directory.history import write_history
from workflow.directory.roles import Caller
from workflow.errors import Conflict, InvalidInput, PermissionDenied, TransitionNotAllowed
from workflow.storage.models import Assignment, History, Report, Unit
from workflow.tasks.assignments import get_assignment
from workflow.tasks.decisions import queue_decision
from workflow.vocabulary import Role


def fire(
    session: Session,
    assignment_id: int,
    trigger: str,
    caller: Caller,
    *,
    now: datetime,
    reason: str | None = None,
    text: str | None = None,
    evidence: list[str] | None = None,
    new_due: date | None = None,
    data: dict | None = None,
    count: int | None = None,
) -> Assignment:
    """Apply ``trigger`` to assignment ``assignment_id`` as ``caller`` at ``now``.

    ``count`` (reports only): how many items the report counts towards the task's quantitative
    target ("每月至少更新2条"); 1 when not given.
    """
    a = get_assignment(session, assignment_id)
    spec = states.TRIGGERS.get(trigger)
    if spec is None:
        raise InvalidInput(f"未知操作：{trigger}")
    _check_permission(session, a, trigger, caller)
    reason = (reason or "").strip() or None
    if spec.needs_reason and not reason:
        raise InvalidInput(
            f"{spec.label}任务 #{a.id} 需要说明理由", reason="reason_missing", field="reason"
        )
    if trigger == "report" and not (text or "").strip():
        raise InvalidInput(
            f"报送任务 #{a.id} 需要填写进展落实情况", reason="text_missing", field="text"
        )
    if count is not None and (trigger != "report" or not 0 <= count <= 100_000):
        raise InvalidInput(
            f"报送任务 #{a.id} 的数量应为 0 到 100000 的整数，得到 {count}",
            reason="count_out_of_range",
            field="count",
        )
    if trigger == "extend":
        _check_new_due(a, new_due)

    old_due = a.due
    resume = _cancelled_from(session, a) if trigger == "reopen" else None
    try:
        before, after = states.fire(a, trigger, resume=resume)
    except states.TransitionError as exc:
        raise TransitionNotAllowed(f"任务 #{a.id}：{exc}") from None

    today = local_date(now)
    record = dict(data or {})
    if trigger == "report":
        a.late = a.late or before == "overdue" or today > a.due
        a.reported_at = now
        session.add(
            Report(
                assignment_id=a.id,
                text=text.strip(),
                evidence=list(evidence or []),
                actor=caller.name,
                late=a.late,
                count=1 if count is None else count,
                created_at=now,
            )
        )
        record.update({"late": a.late, "evidence": list(evidence or [])})
        if count is not None:
            record["count"] = count
    elif trigger == "verify":
        a.verified_at = now
    elif trigger == "return":
        a.returned_count += 1
    elif trigger == "expire":
        a.overdue_since = a.due
        record["due"] = a.due.isoformat()
    elif trigger == "extend":
        a.due = new_due
        record.update({"from_due": old_due.isoformat(), "to_due": new_due.isoformat()})

    session.add(a)
    history = write_history(
        session,
        caller,
        trigger,
        now,
        assignment=a,
        from_state=before,
        to_state=after,
        reason=reason,
        data=record or None,
    )
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise Conflict(
            f"任务 #{assignment_id} 刚被他人修改（例如同时报送），本次操作未保存，请用 duban task show {assignment_id} 查看后重试"
        ) from None
    if trigger in ("return", "verify"):  # the unit is told (workflow/tasks/decisions.py)
        queue_decision(session, a, history, now)
    return a


def last_cancel(session: Session, assignment_id: int | None) -> History | None:
    """The history row of the assignment's latest cancel (撤销), if any."""
    return session.exec(
        select(History)
        .where(History.assignment_id == assignment_id, History.action == "cancel")
        .order_by(History.id.desc())  # type: ignore[union-attr]
    ).first()


def _cancelled_from(session: Session, a: Assignment) -> str | None:
    """The state ``a`` was in when it was last cancelled (what a reopen returns to)."""
    last = last_cancel(session, a.id)
    return last.from_state if last is not None and last.from_state in states.RESUMABLE else None


def _check_permission(session: Session, a: Assignment, trigger: str, caller: Caller) -> None:
    spec = states.TRIGGERS[trigger]
    if caller.role not in spec.roles and not (caller.role == "system" and "office" in spec.roles):
        allowed = "、".join(Role(r).label for r in sorted(spec.roles))
        raise PermissionDenied(f"无权{spec.label}任务 #{a.id}：仅{allowed}可以操作")
    if caller.role == "unit" and a.unit_id != caller.unit_id:
        owner = session.get(Unit, a.unit_id)
        raise PermissionDenied(
            f"任务 #{a.id} 属于“{owner.name if owner else a.unit_id}”，{caller.name}无权{spec.label}"
        )


def _check_new_due(a: Assignment, new_due: date | None) -> None:
    if new_due is None:
        raise InvalidInput(
            f"延期任务 #{a.id} 需要新的截止日期",
            reason="new_due_missing",
            field="new_due",
            hint="日期格式 YYYY-MM-DD",
        )
    check_due(new_due, what="新的截止日期", field="new_due")
    if new_due <= a.due:
        raise InvalidInput(
            f"新的截止日期 {new_due} 应晚于当前截止日期 {a.due}",
            reason="new_due_not_later",
            field="new_due",
        )

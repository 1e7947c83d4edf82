"""The tasks room's operations as the doors call them (see ``workflow/calls/table.py``): plain
values in (dates as text, checked here), plain data out. A unit's token acts only on its own
assignments: the functions called here decide, whatever the request says."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.config import Config
from workflow.dates.clock import parse_date
from workflow.dates.due import check_due
from workflow.dates.workdays import load_calendar, provisional_message
from workflow.directory.roles import Caller
from workflow.errors import InvalidInput
from workflow.tasks.assignments import TaskFilter, add_task, list_assignments, show_assignment
from workflow.tasks.assignments import view_of as assignment_of
from workflow.tasks.clock import pause_event, resume_event
from workflow.tasks.events import (
    add_event,
    event_kinds,
    event_view,
    extend_event,
    list_events,
    show_event,
)
from workflow.tasks.extensions import (
    approve_extension,
    refuse_extension,
    request_view,
)
from workflow.tasks.extensions import request_extension as request
from workflow.tasks.lifecycle import fire
from workflow.tasks.views import AssignmentView


def _date(value: str | None, what: str, field: str | None = None):
    return None if value is None else parse_date(value, what, field)


def task_add(
    session: Session,
    caller: Caller,
    now: datetime,
    title: str,
    due: str,
    units: list[str] | None = None,
    lead: list[str] | None = None,
    content: str | None = None,
    plan_id: int | None = None,
    past: bool = False,
) -> dict[str, Any]:
    """One task by hand: ``{"title", "assignments": [rows of task list], "warnings": […]}``.

    A due date already past (before today) is refused unless ``past`` says it is meant (work
    recorded after the fact); then it is added, overdue at once, with a warning.
    """
    from workflow.dates.clock import local_date

    due_date = check_due(parse_date(due, "截止日期", "due"))
    today = local_date(now)
    warnings: list[str] = []
    if due_date < today:
        if not past:
            raise InvalidInput(
                f"截止日期 {due_date} 已过（今天 {today}），新增后将立即逾期；"
                "如确为补录已过期的任务，请加 --past"
            )
        warnings.append(f"截止日期 {due_date} 已过（今天 {today}）：该任务新增后即为已逾期")
    t, assignments = add_task(
        session,
        caller,
        title,
        list(units or []),
        due_date,
        now,
        content=content,
        lead=list(lead or []),
        plan_id=plan_id,
    )
    ids = {a.id for a in assignments}
    rows = [r for r in list_assignments(session, caller, TaskFilter(), today) if r["id"] in ids]
    return {"title": t.title, "assignments": rows, "warnings": warnings}


def task_list(
    session: Session,
    caller: Caller,
    now: datetime,
    unit: str | None = None,
    state: str | None = None,
    overdue: bool = False,
    due_before: str | None = None,
    due_after: str | None = None,
    plan_id: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """The same rows as the local CLI's Core read path (lateness as of today), one page of
    them: ``limit`` rows (default 200, at most 5000) after ``cursor`` (the ``next`` of the
    page before). The result is a :class:`~workflow.storage.reading.Page`."""
    from workflow.dates.clock import local_date
    from workflow.storage.reading import CoreReader
    from workflow.tasks.listing import TaskFilter as ListFilter
    from workflow.tasks.listing import page_assignment_rows

    flt = ListFilter(
        unit=unit,
        state=state,
        overdue=overdue,
        due_before=_date(due_before, "{field} 日期", "due_before"),
        due_after=_date(due_after, "{field} 日期", "due_after"),
        plan_id=plan_id,
    )
    reader = CoreReader(session.connection())
    return page_assignment_rows(reader, caller, flt, local_date(now), limit, cursor)


def task_show(
    session: Session, caller: Caller, now: datetime, assignment_id: int
) -> dict[str, Any]:
    """One assignment; its state as ``task list`` shows it at the same moment (``now``)."""
    from workflow.dates.clock import local_date

    return show_assignment(session, caller, assignment_id, local_date(now))


def _fire(session, caller, now, assignment_id, trigger, **kwargs) -> AssignmentView:
    a = fire(session, assignment_id, trigger, caller, now=now, **kwargs)
    return assignment_of(session, a)


def task_ack(session: Session, caller: Caller, now: datetime, assignment_id: int) -> dict:
    """签收: ``{"id", "acknowledged_at", "acknowledged_by", "already"}``."""
    from workflow.tasks.acknowledge import acknowledge

    return acknowledge(session, caller, assignment_id, now).to_dict()


def task_start(
    session: Session, caller: Caller, now: datetime, assignment_id: int
) -> AssignmentView:
    return _fire(session, caller, now, assignment_id, "start")


def task_report(
    session: Session,
    caller: Caller,
    now: datetime,
    assignment_id: int,
    text: str | None = None,
    evidence: list[str] | None = None,
    count: int | None = None,
) -> AssignmentView:
    return _fire(
        session,
        caller,
        now,
        assignment_id,
        "report",
        text=text,
        evidence=evidence or [],
        count=count,
    )


def task_verify(
    session: Session, caller: Caller, now: datetime, assignment_id: int, reason: str | None = None
) -> AssignmentView:
    return _fire(session, caller, now, assignment_id, "verify", reason=reason)


def task_return(
    session: Session, caller: Caller, now: datetime, assignment_id: int, reason: str | None = None
) -> AssignmentView:
    return _fire(session, caller, now, assignment_id, "return", reason=reason)


def task_extend(
    session: Session,
    caller: Caller,
    now: datetime,
    assignment_id: int,
    new_due: str | None = None,
    reason: str | None = None,
) -> dict:
    due = _date(new_due, "新的截止日期", "new_due") if new_due else None
    return _fire(session, caller, now, assignment_id, "extend", new_due=due, reason=reason)


def task_cancel(
    session: Session, caller: Caller, now: datetime, assignment_id: int, reason: str | None = None
) -> AssignmentView:
    return _fire(session, caller, now, assignment_id, "cancel", reason=reason)


def task_reopen(
    session: Session, caller: Caller, now: datetime, assignment_id: int, reason: str | None = None
) -> AssignmentView:
    return _fire(session, caller, now, assignment_id, "reopen", reason=reason)


# ------------------------------------------------------------------ extension requests


def extension_request(
    session: Session,
    caller: Caller,
    now: datetime,
    assignment_id: int,
    new_due: str,
    reason: str,
) -> dict[str, Any]:
    due = parse_date(new_due, "申请的截止日期", "new_due")
    req = request(session, caller, assignment_id, due, reason, now)
    return {"id": req.id, "assignment_id": assignment_id, "requested_due": req.requested_due}


def extension_approve(
    session: Session, caller: Caller, now: datetime, request_id: int, reason: str | None = None
) -> dict[str, Any]:
    return request_view(session, approve_extension(session, caller, request_id, now, reason))


def extension_refuse(
    session: Session, caller: Caller, now: datetime, request_id: int, reason: str
) -> dict[str, Any]:
    return request_view(session, refuse_extension(session, caller, request_id, now, reason))


# ------------------------------------------------------------------ events


def _kinds(config: Config):
    return event_kinds(config.section("events"))


def event_kinds_view(config: Config) -> list[dict[str, Any]]:
    return [
        {
            "key": k.key,
            "name": k.name,
            "working_days": k.working_days,
            "extension_days": k.extension_days,
        }
        for k in _kinds(config).values()
    ]


def event_add(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    kind: str,
    event_date: str,
    unit: str,
    ref: str,
    plan_id: int | None = None,
) -> dict[str, Any]:
    """``{"event": the event's row, "warning": the provisional-calendar line or None}``."""
    d = parse_date(event_date, "{field} 事件日期", "event_date")
    kinds = _kinds(config)
    added = add_event(
        session,
        caller,
        kind,
        d,
        unit,
        ref,
        calendar=load_calendar(config),
        now=now,
        kinds=kinds,
        plan_id=plan_id,
    )
    view = event_view(added.assignment, added.task, added.unit, kinds)
    warning = provisional_message([added.assignment.due.year]) if view["provisional"] else None
    return {"event": view, "warning": warning}


def event_list(
    session: Session,
    caller: Caller,
    config: Config,
    kind: str | None = None,
    unit: str | None = None,
) -> list[dict[str, Any]]:
    return list_events(session, caller, kinds=_kinds(config), kind=kind, unit=unit)


def event_extend(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    assignment_id: int,
    days: int,
    reason: str,
    approved_by: str | None = None,
) -> dict[str, Any]:
    a = extend_event(
        session,
        caller,
        assignment_id,
        days,
        reason,
        calendar=load_calendar(config),
        now=now,
        kinds=_kinds(config),
        approved_by=approved_by,
    )
    return {
        "id": a.id,
        "due": a.due.isoformat(),
        "original_due": a.original_due.isoformat(),
        "state": a.state,
    }


def event_show(
    session: Session, caller: Caller, config: Config, assignment_id: int
) -> dict[str, Any]:
    return show_event(session, caller, assignment_id, _kinds(config))


def event_pause(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    assignment_id: int,
    reason: str,
    on: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Stop an 依申请公开 clock (补正 / 征求第三方意见); returns the event as ``event show``."""
    day = parse_date(on, "{field} 暂停日期", "on")
    kinds = _kinds(config)
    pause_event(session, caller, assignment_id, reason, day, note, kinds=kinds, now=now)
    return show_event(session, caller, assignment_id, kinds)


def event_resume(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    assignment_id: int,
    on: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Restart a stopped clock; returns the event as ``event show`` (with its new due date)."""
    day = parse_date(on, "{field} 恢复日期", "on")
    kinds = _kinds(config)
    calendar = load_calendar(config)
    resume_event(session, caller, assignment_id, day, note, calendar=calendar, kinds=kinds, now=now)
    view = show_event(session, caller, assignment_id, kinds)
    warning = (
        provisional_message([date.fromisoformat(view["due"]).year]) if view["provisional"] else None
    )
    return {**view, "warning": warning}

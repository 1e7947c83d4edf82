"""Tasks and assignments: creating them, listing and showing them.

In the CLI a "task" row is one unit's share of a task (an :class:`Assignment`) with its own ID;
``task_id`` points at the shared requirement.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from states import STATE_LABELS
from workflow.dates.due import check_due
from workflow.directory.history import history_row, write_history
from workflow.directory.plans import plan_for_year
from workflow.directory.roles import Caller, require_role
from workflow.directory.units import resolve_unit
from workflow.errors import InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Assignment, History, Plan, Report, Task, Unit
from workflow.storage.reading import CoreReader
from workflow.tasks.listing import TaskFilter, list_assignment_rows
from workflow.tasks.views import AssignmentView
from workflow.vocabulary import UNIT_ROLE_LABELS, UNIT_ROLES

ROLES = UNIT_ROLES  # a unit's part in a task (workflow.vocabulary.UnitRole)
ROLE_LABELS = UNIT_ROLE_LABELS


def date_rule(due: date, roll: bool = False) -> str:
    """``Assignment.due_rule`` for a fixed calendar date."""
    return json.dumps({"kind": "date", "date": due.isoformat(), "roll": roll})


def create_assignment(
    session: Session,
    task: Task,
    unit: Unit,
    *,
    due: date,
    actor: Caller,
    now: datetime,
    role: str = "responsible",
    period: str = "",
    due_rule: str | None = None,
    due_provisional: bool = False,
) -> Assignment:
    """One unit's share of ``task``; writes the history row that opens its story."""
    if role not in ROLES:
        raise InvalidInput(f"未知的单位角色：{role}（可选 lead / responsible / cooperating）")
    assignment = Assignment(
        task_id=task.id,
        unit_id=unit.id,
        role=role,
        period=period,
        due=due,
        original_due=due,
        due_rule=due_rule or date_rule(due),
        due_provisional=due_provisional,
        created_at=now,
    )
    session.add(assignment)
    session.flush()
    write_history(
        session,
        actor,
        "create",
        now,
        assignment=assignment,
        to_state=assignment.state,
        data={"unit": unit.name, "role": role, "due": due.isoformat(), "period": period},
    )
    return assignment


def note(
    a: Assignment,
    caller: Caller,
    action: str,
    now: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> History:
    """A history row for something that happened to ``a`` without changing its state
    (签收, a clock paused or resumed, an extension request decided): who, when, why."""
    return history_row(
        caller,
        action,
        now,
        assignment=a,
        from_state=a.state,
        to_state=a.state,
        reason=reason,
        data=data,
    )


def add_task(
    session: Session,
    caller: Caller,
    title: str,
    units: list[str],
    due: date,
    now: datetime,
    *,
    content: str | None = None,
    lead: list[str] | None = None,
    plan_id: int | None = None,
    provisional: bool = False,
) -> tuple[Task, list[Assignment]]:
    """One task by hand (``duban task add``): one assignment per unit, all due on ``due``.

    Without ``plan_id`` the task joins the plan of its due date's year (one is created for the
    office when that year has none), so it counts in that year's evaluation.
    """
    require_role(caller, "office", "新增任务")
    title = (title or "").strip()
    if not title:
        raise InvalidInput("任务标题不能为空")
    if not units and not lead:
        raise InvalidInput("至少需要一个责任单位", reason="unit_missing", field="unit")
    check_due(due)
    if plan_id is not None and session.get(Plan, plan_id) is None:
        raise NotFound(f"工作计划 #{plan_id} 不存在")
    resolved: list[tuple[Unit, str]] = []
    for name, role in [*((n, "lead") for n in lead or []), *((n, "responsible") for n in units)]:
        unit = resolve_unit(session, name)
        if any(u.id == unit.id for u, _ in resolved):
            continue
        resolved.append((unit, role))
    if plan_id is None:
        plan_id = plan_for_year(session, due.year, now)
    task = Task(
        plan_id=plan_id,
        kind="manual",
        title=title,
        content=content,
        deadline_text=due.isoformat(),
        lead_units=[u.name for u, r in resolved if r == "lead"],
        responsible_units=[u.name for u, r in resolved if r == "responsible"],
        created_at=now,
    )
    session.add(task)
    session.flush()
    assignments = [
        create_assignment(
            session,
            task,
            unit,
            due=due,
            actor=caller,
            now=now,
            role=role,
            due_provisional=provisional,
        )
        for unit, role in resolved
    ]
    return task, assignments


# -- reading ------------------------------------------------------------------------------------
def assignment_view(a: Assignment, task: Task, unit: Unit) -> AssignmentView:
    """The documented JSON shape of one row of ``duban task list --json``."""
    return {
        "id": a.id,
        "task_id": a.task_id,
        "plan_id": task.plan_id,
        "unit": unit.name,
        "role": a.role,
        "title": task.title,
        "section": " / ".join(task.section_path),
        "number": task.number,
        "period": a.period,
        "state": a.state,
        "state_label": STATE_LABELS[a.state],
        "due": a.due.isoformat(),
        "original_due": a.original_due.isoformat(),
        "late": a.late,
        "provisional": a.due_provisional,
        "version": a.version,
    }


def view_of(session: Session, a: Assignment) -> AssignmentView:
    """:func:`assignment_view` of one loaded assignment."""
    return assignment_view(a, session.get(Task, a.task_id), session.get(Unit, a.unit_id))


def list_assignments(
    session: Session, caller: Caller, flt: TaskFilter, today: date | None = None
) -> list[dict[str, Any]]:
    """``duban task list``: see :func:`workflow.tasks.listing.list_assignment_rows` (Core)."""
    if today is None:
        from workflow.dates.clock import today as clock_today

        today = clock_today()
    return list_assignment_rows(CoreReader(session.connection()), caller, flt, today)


def action_label(action: str) -> str:
    """Chinese name of a history action (lifecycle triggers and the other recorded changes)."""
    from states import TRIGGERS

    if action in TRIGGERS:
        return TRIGGERS[action].label
    return {
        "create": "分派",
        "import.update": "导入更新",
        "extension.request": "申请延期",
        "extension.approve": "批准延期",
        "extension.refuse": "驳回延期",
        "waive": "免扣分",
        "due_recomputed": "按新日历重算截止日期",
        "acknowledge": "签收",
        "clock_pause": "暂停计时",
        "clock_resume": "恢复计时",
    }.get(action, action)


def get_assignment(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(f"任务 #{assignment_id} 不存在（用 duban task list 查看任务编号）")
    return assignment


def show_assignment(
    session: Session, caller: Caller, assignment_id: int, today: date | None = None
) -> dict[str, Any]:
    """One assignment with its task, reports and whole history.

    The state is the one ``duban task list`` shows at the same moment: a row still waiting
    (assigned / in progress) whose due date is before ``today`` is overdue even before the
    daily check has marked it (``recorded_state`` keeps what the row says). Without ``today``
    (a library caller that names no moment) the row's own state is shown.
    """
    from workflow.tasks.listing import EXPIRING

    a = get_assignment(session, assignment_id)
    if caller.role == "unit" and a.unit_id != caller.unit_id:
        raise PermissionDenied(f"任务 #{assignment_id} 不属于{caller.name}，无权查看")
    task = session.get(Task, a.task_id)
    unit = session.get(Unit, a.unit_id)
    view: dict[str, Any] = dict(assignment_view(a, task, unit))
    expired = today is not None and a.state in EXPIRING and a.due < today
    state = "overdue" if expired else a.state
    view.update(
        {
            "state": state,
            "state_label": STATE_LABELS[state],
            "recorded_state": a.state,
            "content": task.content,
            "metric": task.metric,
            "deadline_text": task.deadline_text,
            "acknowledged_at": a.acknowledged_at,
            "acknowledged_by": a.acknowledged_by,
            "clock_paused_on": a.clock_paused_on.isoformat() if a.clock_paused_on else None,
            "reports": [
                {
                    "at": r.created_at,
                    "actor": r.actor,
                    "text": r.text,
                    "evidence": list(r.evidence),
                    "late": r.late,
                    "count": r.count,
                }
                for r in session.exec(
                    select(Report).where(Report.assignment_id == a.id).order_by(Report.id)
                ).all()
            ],
            "history": [
                {
                    "at": h.at,
                    "action": h.action,
                    "action_label": action_label(h.action),
                    "from": h.from_state,
                    "to": h.to_state,
                    "actor": h.actor,
                    "role": h.role,
                    "address": h.address,
                    "reason": h.reason,
                    "data": h.data,
                }
                for h in session.exec(
                    select(History).where(History.assignment_id == a.id).order_by(History.id)
                ).all()
            ],
        }
    )
    return view

"""Event-triggered time limits: "within N working days after something happens".

A policy is published → its interpretation is due 3 working days later; a 依申请公开 request
arrives → the answer is due 20 working days later. ``duban event add KIND --date D --unit U
--ref …`` records the event as a :class:`Task` (``kind='event'``) with one :class:`Assignment`
due ``calendar.add_working_days(D, N)`` — the N-th working day after D, D itself not counted,
so a limit never ends on a day off. From then on it is an ordinary assignment: reminders,
overdue, reports, scoring.

Built-in kinds (政府信息公开条例 2019 and the plans' own limits), overridable in ``duban.toml``::

    [events]
    policy_interpretation = 5            # short form: change the working days only

    [events.website_error]               # long form
    name = "网站找错"
    working_days = 2

    [events.hotline]                     # a new kind
    name = "12345热线转办"
    working_days = 5
    extension_days = 0                   # optional: one extension of up to N days (default 0)

A kind is named by its ASCII key or its Chinese name. 依申请公开 may be extended once, by at
most 20 working days counted from the original due date, by the office
(:func:`extend_event`, which goes through the lifecycle's ``extend`` trigger and its history).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from states import STATE_LABELS
from workflow.dates.due import (
    DeadlineError,
    WorkingCalendar,
    check_due,
    due_from_rule,
    working_day_due,
)
from workflow.directory.plans import plan_for_year
from workflow.directory.roles import Caller, require_role
from workflow.directory.units import resolve_unit
from workflow.errors import ConfigError, Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Assignment, History, Plan, Task, Unit
from workflow.tasks.assignments import create_assignment, get_assignment


@dataclass(frozen=True)
class EventKind:
    key: str  # ASCII, stored in Task.event_kind
    name: str  # Chinese, shown to people
    working_days: int
    extension_days: int = 0  # one extension of up to this many working days (0: none)
    pausable: bool = False  # the 条例's clock: 补正 and third-party pauses (workflow.tasks.clock)


BUILTIN_KINDS: tuple[EventKind, ...] = (
    EventKind("policy_interpretation", "政策解读", 3),
    EventKind("normative_document", "规范性文件公开", 3),
    EventKind("information_request", "依申请公开", 20, extension_days=20, pausable=True),
    EventKind("proactive_disclosure", "主动公开", 20),
    EventKind("website_error", "网站找错", 2),
    EventKind("service_guide_change", "办事指南变更", 1),
)


# --------------------------------------------------------------------------- kinds


def event_kinds(section: Mapping[str, Any] | None = None) -> dict[str, EventKind]:
    """The built-in kinds with the ``[events]`` section of duban.toml applied, by key."""
    kinds = {k.key: k for k in BUILTIN_KINDS}
    for key, value in (section or {}).items():
        kinds[key] = _configured_kind(key, value, kinds.get(key))
    names: dict[str, str] = {}
    for kind in kinds.values():
        if kind.name in names:
            raise ConfigError(
                f"配置 [events] 中事件类型 {names[kind.name]} 与 {kind.key} 的名称都是“{kind.name}”"
            )
        names[kind.name] = kind.key
    return kinds


def _positive(value: Any, where: str, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        least = 0 if allow_zero else 1
        raise ConfigError(f"配置 {where} 应为不小于 {least} 的整数，得到 {value!r}")
    return value


def _configured_kind(key: str, value: Any, base: EventKind | None) -> EventKind:
    where = f"[events] {key}"
    if not key.isascii() or not key.replace("_", "").isalnum():
        raise ConfigError(f"配置 [events] 的事件类型键“{key}”应为英文字母、数字或下划线")
    if isinstance(value, int) and not isinstance(value, bool):
        if base is None:
            raise ConfigError(f"配置 {where}：新的事件类型需写成表，包含 name 和 working_days")
        return replace(base, working_days=_positive(value, where))
    if not isinstance(value, dict):
        raise ConfigError(f"配置 {where} 应为整数（工作日数）或表（name、working_days…）")
    unknown = set(value) - {"name", "working_days", "extension_days"}
    if unknown:
        raise ConfigError(f"配置 {where} 含未知项：{'、'.join(sorted(unknown))}")
    name = value.get("name", base.name if base else None)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"配置 {where} 缺少中文名称 name")
    if "working_days" not in value and base is None:
        raise ConfigError(f"配置 {where} 缺少 working_days")
    days = _positive(
        value.get("working_days", base.working_days if base else 0), f"{where}.working_days"
    )
    ext = value.get("extension_days", base.extension_days if base else 0)
    return EventKind(key, name.strip(), days, _positive(ext, f"{where}.extension_days", True))


def resolve_kind(kinds: Mapping[str, EventKind], text: str) -> EventKind:
    """A kind by ASCII key or Chinese name; unknown → InvalidInput listing the choices."""
    wanted = (text or "").strip()
    for kind in kinds.values():
        if wanted in (kind.key, kind.name) or wanted.lower() == kind.key:
            return kind
    choices = "、".join(f"{k.name}（{k.key}）" for k in kinds.values())
    raise InvalidInput(f"未知的事件类型“{wanted}”，可选：{choices}")


# --------------------------------------------------------------------------- adding


@dataclass(frozen=True)
class EventAdded:
    task: Task
    assignment: Assignment
    kind: EventKind
    unit: Unit


def add_event(
    session: Session,
    caller: Caller,
    kind_text: str,
    event_date: date,
    unit_name: str,
    ref: str,
    *,
    calendar: WorkingCalendar,
    now: datetime,
    kinds: Mapping[str, EventKind] | None = None,
    plan_id: int | None = None,
) -> EventAdded:
    """Record an event and the assignment due N working days after ``event_date``.

    The office may record events for any unit; a unit only for itself. ``plan_id`` defaults
    to the plan of the due date's year (one is created when that year has none), so the time
    limit counts in that year's evaluation. The same event (kind, date, unit, reference)
    recorded twice is a :class:`Conflict`.
    """
    require_role(caller, ("office", "unit"), "登记事件")
    check_due(event_date, calendar, "事件日期")
    kind = resolve_kind(kinds or event_kinds(), kind_text)
    ref = (ref or "").strip()
    if not ref:
        raise InvalidInput("请用 --ref 写明事件依据（文号或标题），以便日后核对")
    unit = resolve_unit(session, unit_name)
    if caller.role == "unit" and caller.unit_id != unit.id:
        raise PermissionDenied(f"{caller.name}只能为本单位登记事件，不能为“{unit.name}”登记")
    _refuse_duplicate(session, kind, event_date, unit, ref)
    phrase = f"{kind.name}：{kind.working_days}个工作日内"
    try:
        due = working_day_due(event_date, kind.working_days, calendar, phrase)
    except DeadlineError as exc:
        raise InvalidInput(exc.message) from None
    check_due(due.due, calendar)
    plan_id = _plan_for(session, due.due.year, plan_id, now)
    task = Task(
        plan_id=plan_id,
        kind="event",
        title=f"{kind.name}：{ref}",
        deadline_text=f"{kind.working_days}个工作日内",
        responsible_units=[unit.name],
        event_kind=kind.key,
        event_date=event_date,
        event_ref=ref,
        created_at=now,
    )
    session.add(task)
    session.flush()
    assignment = create_assignment(
        session,
        task,
        unit,
        due=due.due,
        actor=caller,
        now=now,
        due_rule=due.rule,
        due_provisional=due.provisional,
    )
    return EventAdded(task, assignment, kind, unit)


def _refuse_duplicate(session: Session, kind: EventKind, d: date, unit: Unit, ref: str) -> None:
    same = session.exec(
        select(Task.id, Assignment.id)
        .join(Assignment, Assignment.task_id == Task.id)
        .where(
            Task.kind == "event",
            Task.event_kind == kind.key,
            Task.event_date == d,
            Task.event_ref == ref,
            Assignment.unit_id == unit.id,
        )
    ).first()
    if same is not None:
        raise Conflict(
            f"{d} 的{kind.name}“{ref}”已为{unit.name}登记过（任务 #{same[1]}），未重复登记"
        )


def _plan_for(session: Session, year: int, plan_id: int | None, now: datetime) -> int:
    if plan_id is not None:
        if session.get(Plan, plan_id) is None:
            raise NotFound(f"工作计划 #{plan_id} 不存在")
        return plan_id
    return plan_for_year(session, year, now)


# --------------------------------------------------------------------------- listing


def event_view(
    a: Assignment, task: Task, unit: Unit, kinds: Mapping[str, EventKind]
) -> dict[str, Any]:
    """The documented JSON shape of one row of ``duban event list --json``."""
    kind = kinds.get(task.event_kind or "")
    rule = json.loads(a.due_rule) if a.due_rule else {}
    return {
        "id": a.id,
        "task_id": task.id,
        "plan_id": task.plan_id,
        "kind": task.event_kind,
        "kind_name": kind.name if kind else task.event_kind,
        "event_date": task.event_date.isoformat() if task.event_date else None,
        "ref": task.event_ref,
        "unit": unit.name,
        "working_days": rule.get("n"),
        "due": a.due.isoformat(),
        "original_due": a.original_due.isoformat(),
        # the 条例's clock moves its due date when it stops and restarts: only an approved
        # extension (more working days on the rule) counts as one
        "extended": int(rule.get("n") or 0) > kind.working_days
        if kind is not None and kind.pausable
        else a.due != a.original_due,
        "state": a.state,
        "state_label": STATE_LABELS.get(a.state, a.state),
        "late": a.late,
        "provisional": a.due_provisional,
        "paused_on": a.clock_paused_on.isoformat() if a.clock_paused_on else None,
    }


def list_events(
    session: Session,
    caller: Caller,
    *,
    kinds: Mapping[str, EventKind] | None = None,
    kind: str | None = None,
    unit: str | None = None,
) -> list[dict[str, Any]]:
    """Event assignments, by due date; a unit sees only its own."""
    kinds = kinds or event_kinds()
    query = (
        select(Assignment, Task, Unit)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Task.kind == "event")
    )
    if caller.role == "unit":
        query = query.where(Assignment.unit_id == caller.unit_id)
    if kind:
        query = query.where(Task.event_kind == resolve_kind(kinds, kind).key)
    if unit:
        query = query.where(Assignment.unit_id == resolve_unit(session, unit).id)
    query = query.order_by(Assignment.due, Assignment.id)
    return [event_view(a, t, u, kinds) for a, t, u in session.exec(query).all()]


# --------------------------------------------------------------------------- extending


def extend_event(
    session: Session,
    caller: Caller,
    assignment_id: int,
    days: int,
    reason: str,
    *,
    calendar: WorkingCalendar,
    now: datetime,
    kinds: Mapping[str, EventKind] | None = None,
    approved_by: str | None = None,
) -> Assignment:
    """The office extends an event's time limit once, by at most the kind's extension days.

    The new due date is ``days`` working days after the *original* due date — for the 依申请公开
    clock, ``days`` more working days on the clock as it stands (pauses included), with the
    负责人 who approved it named in ``approved_by`` (条例 art. 33); the change goes through the
    lifecycle (``extend``: permission, state, optimistic lock, history).
    """
    from workflow.tasks.lifecycle import fire

    require_role(caller, "office", "批准延期")
    kinds = kinds or event_kinds()
    a = get_assignment(session, assignment_id)
    task = session.get(Task, a.task_id)
    if task is None or task.kind != "event":
        raise InvalidInput(f"任务 #{assignment_id} 不是事件时限任务，请用 duban task extend 延期")
    kind = kinds.get(task.event_kind or "")
    if kind is None or kind.extension_days <= 0:
        name = kind.name if kind else task.event_kind
        raise InvalidInput(f"{name}的时限不可延长（任务 #{assignment_id}）")
    if not 1 <= days <= kind.extension_days:
        raise InvalidInput(
            f"{kind.name}最多延长 {kind.extension_days} 个工作日，得到 {days}",
            reason="days_out_of_range",
            field="days",
        )
    if _already_extended(session, a):
        raise Conflict(f"任务 #{assignment_id} 已延长过一次，{kind.name}只能延长一次")
    rule = json.loads(a.due_rule) if a.due_rule else {}
    approved_by = (approved_by or "").strip() or None
    data: dict[str, Any] = {"event_extension_days": days}
    if kind.pausable:
        if not approved_by:
            raise InvalidInput(
                f"{kind.name}延长答复期限须经负责人同意，请用 --approved-by 写明批准的负责人"
            )
        if a.clock_paused_on is not None:
            raise Conflict(f"任务 #{assignment_id} 正在暂停计时，请恢复计时后再延长")
        data["approved_by"] = approved_by
        longer = {**rule, "n": int(rule["n"]) + days}
        new_due = due_from_rule(json.dumps(longer), calendar)
    else:
        new_due = calendar.add_working_days(a.original_due, days)
    new_due = check_due(new_due, calendar, "新的截止日期")
    a = fire(
        session,
        assignment_id,
        "extend",
        caller,
        now=now,
        reason=reason,
        new_due=new_due,
        data=data,
    )
    if rule.get("kind") == "working_days":
        rule["n"] = int(rule["n"]) + days
        a.due_rule = json.dumps(rule)
    a.due_provisional = a.due_provisional or bool(calendar.is_provisional(new_due.year))
    session.add(a)
    session.flush()
    return a


def _already_extended(session: Session, a: Assignment) -> bool:
    return (
        session.exec(
            select(History.id).where(History.assignment_id == a.id, History.action == "extend")
        ).first()
        is not None
    )


# --------------------------------------------------------------------------- showing


def show_event(
    session: Session, caller: Caller, assignment_id: int, kinds: Mapping[str, EventKind]
) -> dict[str, Any]:
    """One event: its row, its clock (start, pauses, extension) and its history, oldest first."""
    from workflow.tasks.clock import clock_history, clock_view

    require_role(caller, ("office", "unit", "leader"), "查看事件")
    a = get_assignment(session, assignment_id)
    task = session.get(Task, a.task_id)
    if task is None or task.kind != "event":
        raise InvalidInput(f"任务 #{assignment_id} 不是事件时限任务，请用 duban task show 查看")
    if caller.role == "unit" and caller.unit_id != a.unit_id:
        raise PermissionDenied(f"{caller.name}只能查看本单位的事件，任务 #{a.id} 不属于本单位")
    unit = session.get(Unit, a.unit_id)
    return {
        **event_view(a, task, unit, kinds),
        "clock": clock_view(a),
        "history": clock_history(session, a.id),
    }

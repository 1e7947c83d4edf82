"""The 依申请公开 clock as the 政府信息公开条例 (2019) writes it.

* art. 33: the answer is due 20 working days after the request is received (the event date);
  one extension of at most 20 working days, with the 负责人's approval (:func:`extend_event`
  in :mod:`workflow.tasks.events`, ``--approved-by``).
* art. 30: a request to 补正 stops the clock; the corrected application restarts it from its
  receipt, in full (``resume --on`` = the day the corrected application arrived).
* art. 32: the time spent consulting a third party does not count: the clock stops on the day
  the consultation is sent (that day still counts) and resumes after the day the opinion (or the
  end of the consultation period) arrives.

The clock lives in the assignment's ``due_rule`` (:func:`workflow.dates.due.paused_working_days`)::

    {"kind": "working_days", "start": "2024-04-01", "n": 20, "pauses": [["2024-04-08", "2024-04-19"]]}

so the due date recomputes with the calendar like every other one, and ``Assignment.due`` is
always the clock's due date: the reminders, the overdue check and the evaluation all charge
against it. While the clock is stopped, ``Assignment.clock_paused_on`` holds the day it stopped;
the daily check neither expires nor reminds a stopped clock. Each stop and restart is a history
row (``clock_pause`` / ``clock_resume``), shown on the task's page and by ``duban event show``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.dates.due import WorkingCalendar, check_due, due_from_rule
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, InvalidInput, PermissionDenied
from workflow.storage.models import Assignment, History, Task
from workflow.tasks.assignments import get_assignment, note

MAX_PAUSES = 5  # the rule is stored in 300 characters; no real request stops more often


@dataclass(frozen=True)
class PauseReason:
    key: str
    name: str
    article: str
    restarts: bool  # True: the clock restarts in full on resume (补正); False: the pause is skipped


PAUSE_REASONS: tuple[PauseReason, ...] = (
    PauseReason("correction", "补正", "条例第三十条", True),
    PauseReason("third_party", "征求第三方意见", "条例第三十二条", False),
)
CLOCK_ACTIONS = {
    "clock_pause": "暂停计时",
    "clock_resume": "恢复计时",
    "extend": "延长答复期限",
}


def resolve_reason(text: str) -> PauseReason:
    wanted = (text or "").strip()
    for reason in PAUSE_REASONS:
        if wanted in (reason.key, reason.name) or (wanted == "第三方" and reason.restarts is False):
            return reason
    choices = "、".join(f"{r.name}（{r.key}）" for r in PAUSE_REASONS)
    raise InvalidInput(f"未知的暂停原因“{wanted}”，可选：{choices}")


def _clock_assignment(
    session: Session, caller: Caller, assignment_id: int, kinds: Any
) -> tuple[Assignment, Task, dict[str, Any]]:
    a = get_assignment(session, assignment_id)
    if caller.role == "unit" and caller.unit_id != a.unit_id:
        raise PermissionDenied(f"{caller.name}只能操作本单位的任务，任务 #{a.id} 不属于本单位")
    task = session.get(Task, a.task_id)
    kind = kinds.get(task.event_kind or "") if task is not None else None
    if task is None or task.kind != "event" or kind is None or not kind.pausable:
        raise InvalidInput(f"任务 #{assignment_id} 不是依申请公开的答复时限，不能暂停或恢复计时")
    rule = json.loads(a.due_rule) if a.due_rule else {}
    if rule.get("kind") != "working_days":
        raise InvalidInput(f"任务 #{assignment_id} 的时限不是按工作日计算的，不能暂停计时")
    return a, task, rule


def _history(a: Assignment, caller: Caller, action: str, reason: str, data: dict, now: datetime):
    return note(a, caller, action, now, reason=reason, data=data)


def pause_event(
    session: Session,
    caller: Caller,
    assignment_id: int,
    reason_text: str,
    on: date,
    note: str | None,
    *,
    kinds: Any,
    now: datetime,
) -> Assignment:
    """Stop the clock on ``on`` for 补正 or a third party's opinion (office or the unit)."""
    require_role(caller, ("office", "unit"), "暂停答复计时")
    a, _task, rule = _clock_assignment(session, caller, assignment_id, kinds)
    reason = resolve_reason(reason_text)
    if a.clock_paused_on is not None:
        raise Conflict(f"任务 #{a.id} 自 {a.clock_paused_on} 起已暂停计时，请先恢复")
    if a.state not in ("assigned", "in_progress"):
        raise Conflict(f"任务 #{a.id} 当前状态不能暂停计时（只有未办结、未逾期的答复可以暂停）")
    start = date.fromisoformat(rule["start"])
    last_resume = max((date.fromisoformat(p[1]) for p in rule.get("pauses", [])), default=start)
    if on < last_resume:
        raise InvalidInput(f"暂停日期 {on} 早于本次计时的起点 {last_resume}")
    if on > a.due:
        raise InvalidInput(f"暂停日期 {on} 晚于答复期限 {a.due}：期限已届满，不能再暂停")
    if len(rule.get("pauses", [])) >= MAX_PAUSES:
        raise Conflict(f"任务 #{a.id} 已暂停 {MAX_PAUSES} 次，不能再暂停")
    check_due(on, what="暂停日期")
    a.clock_paused_on = on
    a.due_rule = json.dumps({**rule, "held": reason.key})
    session.add(a)
    text = f"{reason.name}（{reason.article}），自 {on} 起暂停计时" + (f"：{note}" if note else "")
    session.add(
        _history(
            a,
            caller,
            "clock_pause",
            text,
            {"reason": reason.key, "on": on.isoformat(), "due_before": a.due.isoformat()},
            now,
        )
    )
    session.flush()
    return a


def resume_event(
    session: Session,
    caller: Caller,
    assignment_id: int,
    on: date,
    note: str | None,
    *,
    calendar: WorkingCalendar,
    kinds: Any,
    now: datetime,
) -> Assignment:
    """Restart a stopped clock on ``on``: 补正 restarts it in full from ``on`` (the corrected
    application's receipt); a third party's opinion skips the days of the pause."""
    require_role(caller, ("office", "unit"), "恢复答复计时")
    a, _task, rule = _clock_assignment(session, caller, assignment_id, kinds)
    if a.clock_paused_on is None:
        raise Conflict(f"任务 #{a.id} 没有暂停计时")
    if on < a.clock_paused_on:
        raise InvalidInput(f"恢复日期 {on} 早于暂停日期 {a.clock_paused_on}")
    check_due(on, calendar, "恢复日期")
    reason = resolve_reason(rule.pop("held", "third_party"))
    if reason.restarts:
        rule["start"] = on.isoformat()
        rule.pop("pauses", None)
    else:
        rule["pauses"] = [*rule.get("pauses", []), [a.clock_paused_on.isoformat(), on.isoformat()]]
    paused_on, old_due = a.clock_paused_on, a.due
    new_due = check_due(due_from_rule(json.dumps(rule), calendar), calendar, "新的答复期限")
    a.due_rule = json.dumps(rule)
    a.due = new_due
    a.clock_paused_on = None
    a.due_provisional = bool(calendar.is_provisional(new_due.year))
    session.add(a)
    what = "收到补正后的申请，重新计算答复期限" if reason.restarts else "恢复计时，暂停期间不计入"
    session.add(
        _history(
            a,
            caller,
            "clock_resume",
            f"{reason.name}：{on} {what}" + (f"：{note}" if note else ""),
            {
                "reason": reason.key,
                "paused_on": paused_on.isoformat(),
                "on": on.isoformat(),
                "from_due": old_due.isoformat(),
                "to_due": new_due.isoformat(),
            },
            now,
        )
    )
    session.flush()
    return a


def clock_view(a: Assignment) -> dict[str, Any]:
    """The clock's parts as ``duban event show --json`` documents them."""
    rule = json.loads(a.due_rule) if a.due_rule else {}
    return {
        "start": rule.get("start"),
        "working_days": rule.get("n"),
        "pauses": [{"from": p[0], "to": p[1]} for p in rule.get("pauses", [])],
        "paused": a.clock_paused_on is not None,
        "paused_on": a.clock_paused_on.isoformat() if a.clock_paused_on else None,
        "paused_reason": rule.get("held"),
        "due": None if a.clock_paused_on else a.due.isoformat(),
    }


def clock_history(session: Session, assignment_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(History).where(History.assignment_id == assignment_id).order_by(History.id)
    ).all()
    return [
        {
            "action": h.action,
            "label": CLOCK_ACTIONS.get(h.action, h.action),
            "at": h.at.isoformat() if h.at else None,
            "actor": h.actor,
            "reason": h.reason,
            "data": h.data or {},
        }
        for h in rows
    ]

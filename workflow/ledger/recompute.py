"""Due dates computed on a provisional calendar year, recomputed when the office imports the
State Council's notice (``duban calendar import``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from calendars import ChinaCalendar
from workflow.config import Config
from workflow.dates.workdays import (
    InstallInfo,
    calendar_errors,
    install_override,
    load_calendar,
    provisional_years_used,
    span_of_days,
)
from workflow.directory.history import write_history


@dataclass(frozen=True)
class DueChange:
    assignment_id: int
    old_due: date
    new_due: date
    provisional: bool  # still computed on a provisional year

    def to_dict(self) -> dict[str, Any]:
        return {
            "assignment_id": self.assignment_id,
            "old_due": self.old_due.isoformat(),
            "new_due": self.new_due.isoformat(),
            "provisional": self.provisional,
        }


def find_provisional_due(session, cal: ChinaCalendar) -> list:
    """Open assignments (not verified/cancelled) whose due date was computed on a provisional
    calendar year, oldest first. ``cal`` is accepted so callers pass the calendar they will
    recompute with; every flagged assignment is returned, whether or not its year is now confirmed.
    """
    from sqlmodel import select

    from states.machine import FINAL_STATES
    from workflow.storage.models import Assignment

    query = (
        select(Assignment)
        .where(Assignment.due_provisional.is_(True))  # type: ignore[union-attr]
        .where(Assignment.state.not_in(FINAL_STATES))  # type: ignore[attr-defined]
        .order_by(Assignment.id)
    )
    return list(session.exec(query).all())


def _rule_dates(rule: dict[str, Any], due: date) -> list[date]:
    if rule.get("kind") == "working_days":
        return span_of_days(date.fromisoformat(rule["start"]), due)
    return [due]


def find_rule_due(session) -> list:
    """Open assignments whose due date is their rule's alone, oldest first: every event (its
    rule follows its extension and its clock) unless its clock is stopped, and every other
    assignment never extended (an extension fixes its own date)."""
    from sqlmodel import select

    from states.machine import FINAL_STATES
    from workflow.storage.models import Assignment, Task

    query = (
        select(Assignment, Task.kind)
        .join(Task, Task.id == Assignment.task_id)
        .where(Assignment.due_rule.is_not(None))  # type: ignore[union-attr]
        .where(Assignment.state.not_in(FINAL_STATES))  # type: ignore[attr-defined]
        .where(Assignment.clock_paused_on.is_(None))  # type: ignore[union-attr]
        .order_by(Assignment.id)
    )
    return [
        a for a, kind in session.exec(query).all() if kind == "event" or a.due == a.original_due
    ]


def recompute_due_dates(
    session, cal: ChinaCalendar, actor, now: datetime | None = None, *, everything: bool = False
) -> list[DueChange]:
    """Recompute every provisional due date with ``cal``; record each change in the history.

    ``everything``: recompute every due date that is its rule's alone (:func:`find_rule_due`),
    not only the provisional ones — after the office's region changed (``[office] region``).

    ``actor`` is a :class:`workflow.directory.roles.Caller`. An assignment without a ``due_rule`` cannot be
    recomputed and is left alone. ``original_due`` follows ``due`` when they were equal (the
    first due date was itself only provisional). Returns the assignments whose due date or
    provisional flag changed.
    """
    from workflow.dates.clock import now as clock_now
    from workflow.dates.due import due_from_rule

    at = now or clock_now()
    changes = []
    chosen = find_rule_due(session) if everything else find_provisional_due(session, cal)
    for assignment in chosen:
        if not assignment.due_rule or assignment.clock_paused_on is not None:
            continue
        rule = json.loads(assignment.due_rule)
        with calendar_errors():
            new_due = due_from_rule(assignment.due_rule, cal)
            provisional = bool(provisional_years_used(cal, _rule_dates(rule, new_due)))
        old_due = assignment.due
        if new_due == old_due and provisional == assignment.due_provisional:
            continue
        if assignment.original_due == old_due:
            assignment.original_due = new_due
        assignment.due = new_due
        assignment.due_provisional = provisional
        session.add(assignment)
        write_history(
            session,
            actor,
            "due_recomputed",
            at,
            assignment=assignment,
            from_state=assignment.state,
            to_state=assignment.state,
            reason="节假日安排已更新，按新日历重新计算截止日期",
            data={
                "from": old_due.isoformat(),
                "to": new_due.isoformat(),
                "provisional": provisional,
            },
        )
        changes.append(DueChange(assignment.id, old_due, new_due, provisional))
    session.flush()
    return changes


def import_calendar(
    session, caller, config: Config, path: Path | str
) -> tuple[InstallInfo, list[DueChange]]:
    """``duban calendar import``: office only; install the notice, then recompute the due dates
    that were computed on a provisional year with the calendar as it now stands."""
    from workflow.directory.roles import require_role

    require_role(caller, "office", "导入节假日安排")
    info = install_override(config, path)
    return info, recompute_due_dates(session, load_calendar(config), caller)


def recompute_calendar(session, caller, config: Config) -> list[DueChange]:
    """``duban calendar recompute``: office only; recompute every due date that follows its rule
    with the office's calendar as it now stands (after ``[office] region`` changed)."""
    from workflow.directory.roles import require_role

    require_role(caller, "office", "按日历重算截止日期")
    return recompute_due_dates(session, load_calendar(config), caller, everything=True)

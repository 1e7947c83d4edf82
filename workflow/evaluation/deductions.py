"""The deductions of one assignment as of a date: the heart of the scoring rules. Pure.

How one assignment is judged as of ``as_of`` (the whole day ``as_of`` counts)
* The due date is the current one, which includes approved extensions (延期 moves
  ``Assignment.due``); an extension approved *after* ``as_of`` is undone for that date. A
  refused extension request changes nothing.
* The *standing report* is the last report made on or before ``as_of`` that was not returned
  afterwards (by ``as_of``). Its Shanghai date is the report date.
* Reported after the due date → ``late`` and ``late_days`` for the working days in
  (due, report date] (official calendar: a report on 9 October for 30 September, across the
  National Day week, is 2 working days late). A report on the day off right after the due date
  is late with 0 working days, as the lifecycle records it.
* No standing report and the due date has passed:
  - ``as_of`` before the plan's year end (31 December): the *forecast*: ``late`` and
    ``late_days`` counted up to ``as_of`` (what the unit loses if it reports today), rows marked
    预测 and saying that a task still unreported at year end is charged ``never_reported``
    instead;
  - ``as_of`` on or after 31 December of the plan year: ``never_reported`` only.
* Returned (退回) ``returned_after`` times or more by ``as_of`` → ``returned``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from workflow.clock import local_date
from workflow.evaluation.rules import ScoringRules
from workflow.models import Assignment, History


class WorkingCalendar(Protocol):
    """What scoring needs from ``calendars.ChinaCalendar``."""

    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class Facts:
    """What the record says about one assignment as of a date."""

    due: date
    report_date: date | None  # the standing report's Shanghai date
    returned: int = 0  # returns (退回) by as_of


@dataclass(frozen=True)
class Assessed:
    """One deduction before it is tied to a unit and task."""

    rule: str
    points: Decimal
    days_late: int | None = None
    forecast: bool = False
    uncapped: Decimal | None = None  # late_days before the per-task cap, when it was applied


def assess(
    facts: Facts, as_of: date, year_end: date, rules: ScoringRules, calendar: WorkingCalendar
) -> list[Assessed]:
    """The deductions of one assignment (pure: the heart of the rules, see the module doc)."""
    out: list[Assessed] = []
    if facts.report_date is not None and facts.report_date > facts.due:
        out += _late(calendar.working_days_between(facts.due, facts.report_date), rules, False)
    elif facts.report_date is None and as_of > facts.due:
        days = calendar.working_days_between(facts.due, as_of)
        if as_of >= year_end:
            out.append(Assessed("never_reported", rules.never_reported, days))
        else:
            out += _late(days, rules, True)
    if facts.returned >= rules.returned_after:
        times = facts.returned - rules.returned_after + 1 if rules.returned_each else 1
        out.append(Assessed("returned", rules.returned * times))
    return [a for a in out if a.points > 0]


def _late(days: int, rules: ScoringRules, forecast: bool) -> list[Assessed]:
    per_day = rules.late_day * days
    capped = min(per_day, rules.late_day_cap) if rules.late_day_cap > 0 else per_day
    return [
        Assessed("late", rules.late_task, days, forecast),
        Assessed("late_days", capped, days, forecast, per_day if capped < per_day else None),
    ]


def facts_as_of(a: Assignment, events: list[History], as_of: date) -> Facts:
    """Rebuild due date, standing report and returns of ``a`` as they stood at the end of ``as_of``.

    ``events`` are the assignment's report / return / extend history rows in order.
    """
    due = a.due
    later = [h for h in events if h.action == "extend" and local_date(h.at) > as_of]
    if later and (later[0].data or {}).get("from_due"):
        due = date.fromisoformat(later[0].data["from_due"])
    standing: date | None = None
    returned = 0
    seen_report = False
    for h in events:
        if local_date(h.at) > as_of:
            break
        if h.action == "report":
            standing, seen_report = local_date(h.at), True
        elif h.action == "return":
            standing, returned = None, returned + 1
    if not seen_report and a.reported_at and a.state in ("reported", "verified"):
        reported = local_date(a.reported_at)  # a report recorded without history (imported)
        standing = reported if reported <= as_of else None
    return Facts(due=due, report_date=standing, returned=returned)

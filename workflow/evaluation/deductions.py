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
* No standing report by the end of the due date ("as of D" is the end of day D: work due on D
  and not reported on D is late as of D, with 0 working days late):
  - ``as_of`` before the plan's year end (31 December): the *forecast*: ``late`` and
    ``late_days`` counted up to ``as_of`` (what the unit loses if it reports today), rows marked
    预测 and saying that a task still unreported at year end is charged ``never_reported``
    instead;
  - ``as_of`` on or after 31 December of the plan year: ``never_reported`` only.
* Returned (退回) ``returned_after`` times or more by ``as_of`` → ``returned``.
* A quantitative target (:mod:`workflow.tasks.targets`: "每月至少更新2条" → 2 for each month's
  assignment): once the period is over (``as_of`` on or after the due date), a standing report whose
  count (``duban task report --count N``, default 1) is below the target → ``target`` (未达量化
  指标). A period without a standing report is charged by the rules above instead, not twice.

Event-triggered time limits are judged with ``rules.for_events`` (the ``event_*`` keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from workflow.dates.clock import local_date
from workflow.evaluation.rules import ScoringRules


class WorkingCalendar(Protocol):
    """What scoring needs from ``calendars.ChinaCalendar``."""

    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(slots=True)  # built 60,000 times a sheet: a frozen init costs twice as much
class Facts:
    """What the record says about one assignment as of a date."""

    due: date
    report_date: date | None  # the standing report's Shanghai date
    returned: int = 0  # returns (退回) by as_of
    target: int | None = None  # items the period needs (quantitative target), if any
    counted: int = 0  # items the standing report counts
    reports: tuple[tuple[date, int, bool], ...] = ()  # (date, count, returned later) by as_of


@dataclass(slots=True)
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
    elif facts.report_date is None and as_of >= facts.due:
        days = calendar.working_days_between(facts.due, as_of)
        if as_of >= year_end:
            out.append(Assessed("never_reported", rules.never_reported, days))
        else:
            out += _late(days, rules, True)
    if facts.returned >= rules.returned_after:
        times = facts.returned - rules.returned_after + 1 if rules.returned_each else 1
        out.append(Assessed("returned", rules.returned * times))
    if (
        facts.target
        and facts.report_date is not None
        and as_of >= facts.due
        and facts.counted < facts.target
    ):
        missing = facts.target - facts.counted
        out.append(Assessed("target", rules.target_short + rules.target_item * missing))
    return [a for a in out if a.points > 0]


def _late(days: int, rules: ScoringRules, forecast: bool) -> list[Assessed]:
    per_day = rules.late_day * days
    capped = min(per_day, rules.late_day_cap) if rules.late_day_cap > 0 else per_day
    return [
        Assessed("late", rules.late_task, days, forecast),
        Assessed("late_days", capped, days, forecast, per_day if capped < per_day else None),
    ]


class Event(Protocol):
    """A history row as scoring reads it (``records.EventRow``): ``day`` is the Shanghai date."""

    action: str
    day: date
    data: dict[str, Any] | None


def facts_as_of(a: Any, events: list[Event], as_of: date, target: int | None = None) -> Facts:
    """Rebuild due date, standing report and returns of ``a`` as they stood at the end of ``as_of``.

    ``a`` has ``due``, ``state`` and ``reported_at`` (an aware datetime, or its Shanghai
    date); ``events`` are its report / return / extend history rows in order; ``target`` is the
    period's quantitative target, if any.
    """
    due = a.due
    standing: date | None = None
    counted = 0
    returned = 0
    seen_report = False
    reports: list[list[Any]] = []
    extended_later = False
    for h in events:
        day = h.day
        if day > as_of:
            if h.action == "extend" and not extended_later:
                extended_later = True  # the first extension after as_of: undo it
                from_due = (h.data or {}).get("from_due")
                if from_due:
                    due = date.fromisoformat(from_due)
            continue
        if h.action == "report":
            count = (h.data or {}).get("count", 1)
            standing, counted, seen_report = day, count, True
            reports.append([day, count, False])
        elif h.action == "return":
            standing, counted, returned = None, 0, returned + 1
            if reports:
                reports[-1][2] = True
    if not seen_report and a.reported_at and a.state in ("reported", "verified"):
        reported = a.reported_at  # a report recorded without history (imported)
        if isinstance(reported, str):  # read raw from SQLite: naive UTC
            reported = datetime.fromisoformat(reported).replace(tzinfo=UTC)
        if isinstance(reported, datetime):
            reported = local_date(reported)
        standing = reported if reported <= as_of else None
        counted = 1 if standing else 0
        reports = [[reported, 1, False]] if standing else []
    return Facts(
        due=due,
        report_date=standing,
        returned=returned,
        target=target,
        counted=counted,
        reports=tuple((d, c, r) for d, c, r in reports),
    )

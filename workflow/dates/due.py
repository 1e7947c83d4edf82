"""Due dates from stored rules: the arithmetic every room shares. Pure: no database.

``Due.rule`` is JSON stored in ``Assignment.due_rule`` so a due date can be recomputed when the
calendar changes (:func:`due_from_rule`)::

    {"kind": "date", "date": "2023-11-30", "roll": true}   # roll: move back to a working day
    {"kind": "date", "date": "2021-11-20", "roll": "next"} # a written-out date on a day off
    {"kind": "working_days", "start": "2023-03-01", "n": 3}

``roll``: ``false`` keeps the date as written (a date typed with ``duban task add --due``);
``true`` / ``"previous"`` moves a day off back to the last working day on or before it (a
period's end: "年底前" stays in its year); ``"next"`` moves it forward to the first working day
after it (民法典 art. 203: a period whose last day is a rest day ends on the next working day).

The deadline *language* (phrases in a ledger) lives in :mod:`workflow.ledger.deadlines`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from workflow.errors import InvalidInput


class WorkingCalendar(Protocol):
    """What this module needs from ``calendars.ChinaCalendar``."""

    def is_working_day(self, d: date) -> bool: ...

    def add_working_days(self, d: date, n: int) -> date: ...

    def is_provisional(self, year: int) -> bool: ...


class DeadlineError(ValueError):
    """A readable deadline phrase naming an impossible date; ``message`` is Chinese.

    ``source`` is ``"deadline_cell"`` or ``"text"`` so the importer can name the column.
    """

    def __init__(self, message: str, *, phrase: str = "", source: str = "deadline_cell") -> None:
        super().__init__(message)
        self.message = message
        self.phrase = phrase
        self.source = source

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Due:
    """One obligation: a due date for one period."""

    due: date
    period: str  # "" one-off; "2023-03" monthly; "2023-Q2" quarterly; "2023-07-31" report date
    rule: str  # JSON for Assignment.due_rule (see the module docstring)
    phrase: str  # the phrase it came from (shown in the dry run)
    provisional: bool = False  # computed on a calendar year not yet published
    note: str = ""  # why the due date differs from the date written (Chinese), for the dry run


REST_DAY_CHOICES = ("next", "previous")


def date_rule(d: date, roll: bool | str) -> str:
    return json.dumps({"kind": "date", "date": d.isoformat(), "roll": roll}, ensure_ascii=False)


def roll_forward(calendar: WorkingCalendar, d: date) -> date:
    """The first working day on or after ``d`` (``d`` itself when it is one)."""
    probe = d
    for _ in range(60):
        if calendar.is_working_day(probe):
            return probe
        probe += timedelta(days=1)
    return d  # a calendar without working days: keep the date rather than loop


def rolled(calendar: WorkingCalendar, d: date, roll: bool | str) -> date:
    """``d`` moved off a day off as ``roll`` says (see the module docstring)."""
    if roll == "next":
        return roll_forward(calendar, d)
    if roll is True or roll == "previous":
        return roll_back(calendar, d)
    return d


def rest_day_note(written: date, due: date, roll: bool | str) -> str:
    """The dry run's one-line reason for a moved due date ("" when it did not move)."""
    if written == due:
        return ""
    if roll == "next":
        return f"{written} 为休息日，顺延至 {due}"
    if roll == "previous":
        return f"{written} 为休息日，提前至 {due}"
    return f"{written} 为休息日，取期内最后一个工作日 {due}"


def working_days_rule(start: date, n: int) -> str:
    return json.dumps({"kind": "working_days", "start": start.isoformat(), "n": n})


def roll_back(calendar: WorkingCalendar, d: date) -> date:
    """The last working day on or before ``d`` (``d`` itself when it is one)."""
    probe = d
    for _ in range(60):
        if calendar.is_working_day(probe):
            return probe
        probe -= timedelta(days=1)
    return d  # a calendar without working days: keep the date rather than loop


def due_from_rule(rule: str, calendar: WorkingCalendar) -> date:
    """Recompute a due date from ``Assignment.due_rule`` (e.g. after a calendar change)."""
    data: dict[str, Any] = json.loads(rule)
    if data.get("kind") == "working_days":
        start = date.fromisoformat(data["start"])
        if data.get("pauses"):
            return paused_working_days(calendar, start, int(data["n"]), data["pauses"])
        return calendar.add_working_days(start, int(data["n"]))
    if data.get("kind") == "date":
        return rolled(calendar, date.fromisoformat(data["date"]), data.get("roll", False))
    raise ValueError(f"unknown due rule: {rule}")


def paused_working_days(
    calendar: WorkingCalendar, start: date, n: int, pauses: list[list[str]]
) -> date:
    """The n-th counted working day after ``start`` when the days in each pause do not count.

    A pause ``[a, b]`` stops the clock after day a (a itself counts) and restarts it after day b
    (b does not count, as the day of receipt never does): the working days in (a, b] are skipped
    (条例 art. 32: time consulting a third party is not counted). A pause that begins after the
    clock has run out changes nothing.
    """
    current, remaining = start, n
    for first, last in sorted(pauses):
        a, b = date.fromisoformat(first), date.fromisoformat(last)
        counted = _between(calendar, current, a)
        if counted > remaining:
            break
        remaining -= counted
        current = max(current, b)
    return calendar.add_working_days(current, remaining)


def _between(calendar: WorkingCalendar, a: date, b: date) -> int:
    """Working days in (a, b] (0 when b <= a), without requiring ``working_days_between``."""
    between = getattr(calendar, "working_days_between", None)
    if between is not None:
        return max(0, int(between(a, b)))
    count, d = 0, a
    while d < b:
        d += timedelta(days=1)
        count += calendar.is_working_day(d)
    return count


def working_day_due(
    start: date, n: int, calendar: WorkingCalendar, phrase: str, period: str = ""
) -> Due:
    """The obligation ``n`` working days after ``start`` (an event's time limit)."""
    if n < 1:
        raise DeadlineError(f"工作日时限应至少为 1 天，得到 {n}", phrase=phrase)
    due = calendar.add_working_days(start, n)
    return Due(
        due=due,
        period=period,
        rule=working_days_rule(start, n),
        phrase=phrase,
        provisional=is_provisional_year(calendar, due.year),
    )


def is_provisional_year(calendar: WorkingCalendar, year: int) -> bool:
    check = getattr(calendar, "is_provisional", None)
    return bool(check(year)) if check else False


# The calendar's default range (``calendars.china``: 2001-01-01 … 2100-12-31); a calendar object
# with ``first_year`` / ``last_year`` narrows or widens it.
FIRST_YEAR, LAST_YEAR = 2001, 2100


def due_range(calendar: object | None = None) -> tuple[date, date]:
    """The first and last due date the working-day calendar can reckon with."""
    first = getattr(calendar, "first_year", FIRST_YEAR)
    last = getattr(calendar, "last_year", LAST_YEAR)
    return date(first, 1, 1), date(last, 12, 31)


def out_of_range(d: date, calendar: object | None = None) -> str | None:
    """Why ``d`` cannot be a due date (a Chinese phrase), or None when it can."""
    first, last = due_range(calendar)
    if first <= d <= last:
        return None
    return f"日期 {d.isoformat()} 超出工作日历的范围（{first.isoformat()} 至 {last.isoformat()}）"


def check_due(
    d: date, calendar: object | None = None, what: str = "截止日期", field: str = "due"
) -> date:
    """Refuse a due date outside the calendar's range where it enters (InvalidInput, exit 2):
    ``task add``, ``task extend``, ``event add`` and the import (which names the cell) call it,
    so no such row reaches the daily check."""
    problem = out_of_range(d, calendar)
    if problem is not None:
        raise InvalidInput(f"{what}无效：{problem}", reason="due_out_of_range", field=field)
    return d

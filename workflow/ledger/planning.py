"""From a parsed ledger to dated tasks: plan year, report dates, deadline of every task. Pure.

The plan year is ``--plan-year``, else the year in the title ("…2023年政务公开…"), else the
file name, else an error. Report dates are ``--report-dates``, else the dates the intro
announces ("分别于2023年7月31日、11月30日前报送"), else none. Each task's deadline comes from
:func:`workflow.ledger.deadlines.parse_deadline` (the 完成时限 cell, else a phrase in the requirement
text, else the plan default); an impossible date becomes a LedgerError naming the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow.dates.due import DeadlineError, due_range, out_of_range
from workflow.dates.workdays import provisional_message
from workflow.ledger.deadlines import (
    DeadlineResult,
    find_report_dates,
    parse_deadline,
    plan_default_dues,
)
from workflow.ledger.parsed import ParsedLedger, ParsedTask
from workflow.ledger.readers.document import ledger_error


@dataclass
class PlannedTask:
    parsed: ParsedTask
    deadline: DeadlineResult
    notes: list[str] = field(default_factory=list)  # periods left out (workflow.ledger.periods)

    @property
    def deadline_text(self) -> str | None:
        """The 完成时限 cell, else the phrase found in the requirement text."""
        if self.parsed.deadline_text:
            return self.parsed.deadline_text
        return self.deadline.phrase if self.deadline.source == "text" else None


@dataclass
class PlannedLedger:
    parsed: ParsedLedger
    year: int
    report_dates: list[date]
    year_source: str  # option | title
    report_dates_source: str  # option | intro | none
    tasks: list[PlannedTask]
    warnings: list[str] = field(default_factory=list)


def plan_year(parsed: ParsedLedger, given: int | None) -> tuple[int, str]:
    if given is not None:
        if not 1950 <= given <= 2100:
            raise ledger_error(parsed.path, "", f"计划年度 {given} 无效（应在 1950—2100 之间）")
        return given, "option"
    found = parsed.title_year()
    if found is None:
        raise ledger_error(
            parsed.path,
            "标题",
            f"无法确定计划年度：标题“{parsed.title}”中没有“20XX年”，请用 --plan-year 指定",
        )
    return found, "title"


def report_dates(
    parsed: ParsedLedger, year: int, given: list[date] | None
) -> tuple[list[date], str]:
    for d in given or []:
        problem = out_of_range(d)
        if problem is not None:
            raise ledger_error(parsed.path, "--report-dates", f"报送日期无效：{problem}")
    if given:
        return sorted(set(given)), "option"
    try:
        found = find_report_dates(parsed.intro, year)
    except DeadlineError as exc:
        raise ledger_error(parsed.path, "开头说明文字", exc.message) from None
    return (found, "intro") if found else ([], "none")


def _deadline(
    task: ParsedTask,
    parsed: ParsedLedger,
    year: int,
    dates: list[date],
    calendar: Any,
    rest_day: str = "next",
) -> DeadlineResult:
    try:
        result = parse_deadline(
            task.deadline_text,
            plan_year=year,
            report_dates=dates,
            calendar=calendar,
            body_text=task.content or task.title,
            rest_day=rest_day,
        )
    except DeadlineError as exc:
        role = (
            "deadline"
            if exc.source == "deadline_cell"
            else ("requirement" if task.content else "task")
        )
        raise ledger_error(parsed.path, task.where(role), exc.message) from None
    for due in result.dues:
        problem = out_of_range(due.due, calendar)
        if problem is not None:
            role = "deadline" if result.source == "deadline_cell" else None
            where = task.where(role) if role else task.where()
            raise ledger_error(
                parsed.path, where, f"截止日期无效：{problem}，请核对完成时限或 --plan-year"
            )
    if not result.dues:  # "N个工作日内": an event's limit; until then checked like 长期坚持
        dues = plan_default_dues(year, dates, calendar, result.phrase or "", rest_day)
        result = DeadlineResult(
            result.kind, dues, result.phrase, result.source, result.warnings, result.working_days
        )
    return result


def _provisional_of(result: DeadlineResult) -> str | None:
    return provisional_message(d.due.year for d in result.dues if d.provisional)


def plan_ledger(
    parsed: ParsedLedger,
    *,
    calendar: Any,
    year: int | None = None,
    dates: list[date] | None = None,
    rest_day: str = "next",
) -> PlannedLedger:
    """Resolve year and report dates and read every task's deadline.

    ``rest_day`` (``[office] due_on_rest_day``): a written-out date on a day off moves to the
    "next" (default) or "previous" working day; a period's end always stays inside its period.
    """
    the_year, year_source = plan_year(parsed, year)
    first, last = due_range(calendar)
    if not first.year <= the_year <= last.year:
        where = "--plan-year" if year_source == "option" else "标题"
        raise ledger_error(
            parsed.path,
            where,
            f"计划年度 {the_year} 超出工作日历的范围（{first.year}—{last.year} 年），无法计算截止日期",
        )
    the_dates, dates_source = report_dates(parsed, the_year, dates)
    warnings = list(parsed.warnings)
    tasks = []
    for task in parsed.tasks:
        result = _deadline(task, parsed, the_year, the_dates, calendar, rest_day)
        where = task.where("deadline" if result.source == "deadline_cell" else None)
        warnings.extend(
            f"{parsed.path.name}：{where}：{w}"
            for w in result.warnings
            if w != _provisional_of(result)
        )
        tasks.append(PlannedTask(task, result))
    # the provisional calendar is said once for the whole file, not once per task
    once = provisional_message(d.due.year for t in tasks for d in t.deadline.dues if d.provisional)
    if once:
        warnings.append(once)
    return PlannedLedger(
        parsed=parsed,
        year=the_year,
        report_dates=the_dates,
        year_source=year_source,
        report_dates_source=dates_source,
        tasks=tasks,
        warnings=list(dict.fromkeys(warnings)),
    )

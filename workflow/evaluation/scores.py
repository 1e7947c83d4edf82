"""Year-end evaluation (年终绩效考核): deductions with their evidence, scores, ranks, waivers.

"对未按时完成的将在年底绩效考核中扣除相应分数." :func:`score_plan` reads a plan's assignments and
their history and returns every deduction as a row a unit can check, per-unit totals, final
scores, on-time rates and a rank. It is a pure function of the database content and the
``as_of`` date: the same record and date always give the same sheet.

Rules: :mod:`workflow.evaluation.rules` (``[scoring]`` in duban.toml, with defaults).

How one assignment is judged: :mod:`workflow.evaluation.deductions`. Cancelled (已撤销) assignments never
count, whenever they were cancelled.

* Units: deductions = the sum of the rows not waived, capped by ``unit_cap`` (or by ``base``);
  score = base − deductions, never below 0. On-time rate = assignments due by ``as_of`` whose
  standing report is dated on or before their due date, over all assignments due by ``as_of``.
  Rank: by score, highest first; equal scores share a rank (1, 2, 2, 4).

A deduction row is identified by ``"<assignment id>:<rule>"`` (e.g. ``"12:late_days"``): there
is at most one row per assignment and rule, so the id is stable across runs and dates. A waiver
(免扣, :func:`waive`) is attached to that pair; the row stays in the sheet marked waived, with
the reason, and its points no longer count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.clock import local_date
from workflow.directory.plans import find_plan
from workflow.directory.roles import Caller, require_role
from workflow.errors import CalendarInputError, InvalidInput, NotFound
from workflow.evaluation.deductions import Assessed, Facts, WorkingCalendar, assess, facts_as_of
from workflow.evaluation.rules import (  # noqa: F401  (re-exported: one place to import from)
    RULE_LABELS,
    RULE_ORDER,
    ScoringRules,
    fmt_points,
    load_rules,
    parse_rules,
)
from workflow.evaluation.waivers import parse_row_id, waive  # noqa: F401  (re-exported)
from workflow.models import Assignment, History, Plan, Task, Unit, Waiver


def load_scoring_calendar(config: Any) -> Any:
    """The office's working-day calendar (holidays data plus installed override files)."""
    from workflow.workdays import load_calendar

    return load_calendar(config)


# -- the evaluation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Deduction:
    """One row of evidence: which unit loses how many points for which task, and why."""

    row_id: str
    unit: str
    unit_id: int
    task_id: int
    task_number: str | None
    task: str
    assignment_id: int
    period: str
    rule: str
    due: date
    original_due: date
    report_date: date | None
    days_late: int | None
    points: Decimal
    forecast: bool
    note: str
    waived: bool = False
    waiver_reason: str | None = None
    waived_by: str | None = None

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]

    @property
    def counted(self) -> Decimal:
        return Decimal(0) if self.waived else self.points

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row_id,
            "unit": self.unit,
            "task_id": self.task_id,
            "task_number": self.task_number,
            "task": self.task,
            "assignment_id": self.assignment_id,
            "period": self.period,
            "rule": self.rule,
            "rule_label": self.rule_label,
            "due": self.due.isoformat(),
            "original_due": self.original_due.isoformat(),
            "report_date": self.report_date.isoformat() if self.report_date else None,
            "working_days_late": self.days_late,
            "points": float(self.points),
            "forecast": self.forecast,
            "waived": self.waived,
            "waiver_reason": self.waiver_reason,
            "waived_by": self.waived_by,
            "note": self.note,
        }


@dataclass(frozen=True)
class UnitScore:
    unit: str
    unit_id: int
    assignments: int  # counted assignments of the plan (not cancelled, counted roles)
    due: int  # of which due by as_of
    on_time: int  # of which reported on or before their due date
    deductions: Decimal  # rows not waived, before the unit cap
    waived: Decimal  # points waived on appeal
    deducted: Decimal  # what is taken off the base (after the cap)
    score: Decimal
    rank: int = 0
    rows: int = 0  # deduction rows (waived ones included)

    @property
    def on_time_rate(self) -> float | None:
        return None if self.due == 0 else self.on_time / self.due

    @property
    def capped(self) -> bool:
        return self.deducted < self.deductions

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "unit": self.unit,
            "score": float(self.score),
            "deducted": float(self.deducted),
            "deductions": float(self.deductions),
            "capped": self.capped,
            "waived": float(self.waived),
            "rows": self.rows,
            "assignments": self.assignments,
            "due": self.due,
            "on_time": self.on_time,
            "on_time_rate": None if self.on_time_rate is None else round(self.on_time_rate, 4),
        }


@dataclass(frozen=True)
class Evaluation:
    plan_id: int
    plan_title: str
    plan_year: int
    as_of: date
    rules: ScoringRules
    units: list[UnitScore] = field(default_factory=list)  # ranked
    rows: list[Deduction] = field(default_factory=list)  # in rank order, then assignment, rule

    @property
    def forecast(self) -> bool:
        """True during the plan year: the sheet says what happens if nothing changes."""
        return self.as_of < date(self.plan_year, 12, 31)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": {"id": self.plan_id, "title": self.plan_title, "year": self.plan_year},
            "as_of": self.as_of.isoformat(),
            "forecast": self.forecast,
            "rules": self.rules.to_dict(),
            "units": [u.to_dict() for u in self.units],
            "deductions": [r.to_dict() for r in self.rows],
        }


def score_plan(
    session: Session,
    plan_id: int,
    as_of: date,
    *,
    calendar: WorkingCalendar,
    rules: ScoringRules,
) -> Evaluation:
    """Every deduction of plan ``plan_id`` as of the end of ``as_of``, and the units' scores."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"工作计划 #{plan_id} 不存在")
    year_end = date(plan.year, 12, 31)
    records = _assignments(session, plan_id, rules)
    events = _events(session, plan_id)
    waivers = _waivers(session, plan_id)
    rows: list[Deduction] = []
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # assignments, due, on time
    names: dict[int, str] = {}
    for a, task, unit in records:
        names[unit.id] = unit.name
        facts = facts_as_of(a, events.get(a.id, []), as_of)
        tally = tallies[unit.id]
        tally[0] += 1
        if facts.due <= as_of:
            tally[1] += 1
            tally[2] += facts.report_date is not None and facts.report_date <= facts.due
        try:
            found = assess(facts, as_of, year_end, rules, calendar)
        except ValueError as exc:  # calendars.CalendarError: a date outside the calendar
            raise CalendarInputError(f"任务 #{a.id}：{exc}") from None
        for item in found:
            rows.append(_row(a, task, unit, facts, item, as_of, waivers.get((a.id, item.rule))))
    units = _rank(_unit_scores(names, tallies, rows, rules))
    order = {u.unit_id: i for i, u in enumerate(units)}
    rows.sort(key=lambda r: (order[r.unit_id], r.assignment_id, RULE_ORDER.index(r.rule)))
    return Evaluation(plan.id, plan.title, plan.year, as_of, rules, units, rows)


def _assignments(
    session: Session, plan_id: int, rules: ScoringRules
) -> list[tuple[Assignment, Task, Unit]]:
    query = (
        select(Assignment, Task, Unit)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Task.plan_id == plan_id, Assignment.state != "cancelled")
        .where(Assignment.role.in_(rules.roles))  # type: ignore[attr-defined]
        .order_by(Assignment.id)
    )
    return list(session.exec(query).all())


def _events(session: Session, plan_id: int) -> dict[int, list[History]]:
    query = (
        select(History)
        .join(Assignment, Assignment.id == History.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan_id)
        .where(History.action.in_(("report", "return", "extend")))  # type: ignore[attr-defined]
        .order_by(History.at, History.id)
    )
    out: dict[int, list[History]] = defaultdict(list)
    for h in session.exec(query).all():
        out[h.assignment_id].append(h)
    return out


def _waivers(session: Session, plan_id: int) -> dict[tuple[int, str], Waiver]:
    query = (
        select(Waiver)
        .join(Assignment, Assignment.id == Waiver.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id == plan_id)
    )
    return {(w.assignment_id, w.rule): w for w in session.exec(query).all()}


def _row(
    a: Assignment,
    task: Task,
    unit: Unit,
    facts: Facts,
    item: Assessed,
    as_of: date,
    waiver: Waiver | None,
) -> Deduction:
    return Deduction(
        row_id=f"{a.id}:{item.rule}",
        unit=unit.name,
        unit_id=unit.id,
        task_id=task.id,
        task_number=task.number,
        task=task.title,
        assignment_id=a.id,
        period=a.period,
        rule=item.rule,
        due=facts.due,
        original_due=a.original_due,
        report_date=facts.report_date,
        days_late=item.days_late,
        points=item.points,
        forecast=item.forecast,
        note=_note(a, facts, item, as_of),
        waived=waiver is not None,
        waiver_reason=waiver.reason if waiver else None,
        waived_by=waiver.actor if waiver else None,
    )


def _note(a: Assignment, facts: Facts, item: Assessed, as_of: date) -> str:
    """The evidence in one Chinese sentence."""
    due = f"截止 {facts.due}"
    if facts.due != a.original_due:
        due += f"（原定 {a.original_due}，已延期）"
    if item.rule == "returned":
        return f"报送被退回 {facts.returned} 次"
    if item.rule == "never_reported":
        return f"{due}，截至 {as_of} 仍未报送，逾期 {item.days_late} 个工作日"
    when = (
        f"截至 {as_of} 仍未报送（预测：按今日报送计；到年底仍未报送则改按年底未报送扣分）"
        if item.forecast
        else f"{facts.report_date} 报送"
    )
    text = f"{due}，{when}，逾期 {item.days_late} 个工作日"
    if item.rule == "late_days" and item.uncapped is not None:
        text += f"（按日计 {fmt_points(item.uncapped)} 分，已按单项上限计 {fmt_points(item.points)} 分）"
    return text


def _unit_scores(
    names: dict[int, str],
    tallies: dict[int, list[int]],
    rows: list[Deduction],
    rules: ScoringRules,
) -> list[UnitScore]:
    raw: dict[int, Decimal] = defaultdict(Decimal)
    waived: dict[int, Decimal] = defaultdict(Decimal)
    count: dict[int, int] = defaultdict(int)
    for r in rows:
        raw[r.unit_id] += r.counted
        waived[r.unit_id] += r.points - r.counted
        count[r.unit_id] += 1
    out = []
    for unit_id, name in names.items():
        deducted = min(raw[unit_id], rules.unit_limit)
        assignments, due, on_time = tallies[unit_id]
        out.append(
            UnitScore(
                unit=name,
                unit_id=unit_id,
                assignments=assignments,
                due=due,
                on_time=on_time,
                deductions=raw[unit_id],
                waived=waived[unit_id],
                deducted=deducted,
                score=max(Decimal(0), rules.base - deducted),
                rows=count[unit_id],
            )
        )
    return out


def _rank(units: list[UnitScore]) -> list[UnitScore]:
    """Highest score first; equal scores share a rank (competition ranking 1, 2, 2, 4)."""
    ordered = sorted(units, key=lambda u: (-u.score, u.unit))
    ranked: list[UnitScore] = []
    for i, u in enumerate(ordered):
        rank = ranked[-1].rank if ranked and ranked[-1].score == u.score else i + 1
        ranked.append(replace(u, rank=rank))
    return ranked


# -- what a caller sees -------------------------------------------------------------------------
def restrict(
    ev: Evaluation, session: Session, caller: Caller, unit: str | None = None
) -> Evaluation:
    """What ``caller`` may see: a unit sees only its own rows; ``unit`` narrows further.

    Ranks are kept from the whole plan, so a unit still sees its place.
    """
    keep: set[int] | None = None
    if caller.role == "unit":
        keep = {caller.unit_id} if caller.unit_id is not None else set()
    if unit:
        from workflow.directory.units import resolve_unit

        wanted = resolve_unit(session, unit).id
        if keep is not None and wanted not in keep:
            raise InvalidInput(f"单位账号只能查看本单位的考核结果（{caller.name}）")
        keep = {wanted}
    if keep is None:
        return ev
    return replace(
        ev,
        units=[u for u in ev.units if u.unit_id in keep],
        rows=[r for r in ev.rows if r.unit_id in keep],
    )


def waive_deduction(
    session: Session,
    caller: Caller,
    assignment_id: int,
    rule: str,
    reason: str,
    now: datetime,
    *,
    config: Any,
) -> Waiver:
    """The office waives row ``<assignment_id>:<rule>``, but only a row that is in the sheet.

    The row must appear in the evaluation as of today (Shanghai) or at the plan's year end if
    nothing changes (the forecast), so a mistyped row (``12:returned`` for a task never
    returned) is refused instead of silently waiving a deduction nobody was charged.
    """
    require_role(caller, "office", "免扣分")
    a = session.get(Assignment, assignment_id)
    checkable = a is not None and a.state != "cancelled" and rule in RULE_LABELS
    if checkable and (reason or "").strip():  # otherwise waive() says what is wrong
        _require_row(session, a, rule, local_date(now), config)
    return waive(session, caller, assignment_id, rule, reason, now)


def _require_row(session: Session, a: Assignment, rule: str, today: date, config: Any) -> None:
    task = session.get(Task, a.task_id)
    label = f"任务 #{a.id} 的“{RULE_LABELS[rule]}”"
    if task is None or task.plan_id is None:
        raise InvalidInput(f"{label}不在任何工作计划的考核中，无需免扣")
    plan = session.get(Plan, task.plan_id)
    rules, calendar = load_rules(config), load_scoring_calendar(config)
    days = sorted({today, max(today, date(plan.year, 12, 31))})
    row_id = f"{a.id}:{rule}"
    for day in days:
        ev = score_plan(session, plan.id, day, calendar=calendar, rules=rules)
        if any(r.row_id == row_id for r in ev.rows):
            return
    raise InvalidInput(
        f"{label}没有扣分（截至 {days[0]} 及年底预测均无此行），无需免扣；"
        "用 duban score --detail 查看扣分行"
    )


def evaluate(
    session: Session,
    caller: Caller,
    plan: str | int | None,
    as_of: date,
    *,
    config: Any,
    unit: str | None = None,
) -> Evaluation:
    """The evaluation a command shows: plan looked up, rules and calendar from ``config``."""
    rules = load_rules(config)
    calendar = load_scoring_calendar(config)
    found = find_plan(session, plan)
    ev = score_plan(session, found.id, as_of, calendar=calendar, rules=rules)
    return restrict(ev, session, caller, unit)

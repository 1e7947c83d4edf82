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
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from workflow.dates.clock import local_date
from workflow.directory.roles import Caller, require_role
from workflow.errors import CalendarInputError, InvalidInput
from workflow.evaluation.adjust import Adjustment, BonusEntry, adjustments
from workflow.evaluation.appeal_view import appeal_dict
from workflow.evaluation.deductions import Assessed, Facts, WorkingCalendar, assess, facts_as_of
from workflow.evaluation.freeze import frozen_row, require_open, thaw, year_of
from workflow.evaluation.records import (
    Scope,
    appeal_rows,
    assignment_rows,
    bonus_rows,
    find_scope,
    history_events,
    plan_scope,
    section_paths,
    waiver_rows,
    year_scope,
)
from workflow.evaluation.rules import (  # noqa: F401  (re-exported: one place to import from)
    RULE_LABELS,
    RULE_ORDER,
    ScoringRules,
    fmt_points,
    load_rules,
    parse_rules,
)
from workflow.evaluation.sheet import (  # noqa: F401  (re-exported)
    SOURCE_LABELS,
    Deduction,
    Evaluation,
    UnitScore,
)
from workflow.evaluation.waivers import parse_row_id, waive  # noqa: F401  (re-exported)
from workflow.storage.models import Assignment, Task, Waiver
from workflow.tasks.events import BUILTIN_KINDS, event_kinds
from workflow.tasks.targets import Target, periods_per_year, target_of
from workflow.writing.collector import collector_paused


def load_scoring_calendar(config: Any) -> Any:
    """The office's working-day calendar (holidays data plus installed override files)."""
    from workflow.dates.workdays import load_calendar

    return load_calendar(config)


# -- the evaluation -----------------------------------------------------------------------------
def score_plan(
    session: Session,
    plan_id: int,
    as_of: date,
    *,
    calendar: WorkingCalendar,
    rules: ScoringRules,
    kind_names: dict[str, str] | None = None,
) -> Evaluation:
    """Every deduction of plan ``plan_id`` as of the end of ``as_of``, and the units' scores."""
    return score_scope(
        session,
        plan_scope(session, plan_id),
        as_of,
        calendar=calendar,
        rules=rules,
        kind_names=kind_names,
    )


def score_year(
    session: Session,
    year: int,
    as_of: date,
    *,
    calendar: WorkingCalendar,
    rules: ScoringRules,
    kind_names: dict[str, str] | None = None,
) -> Evaluation:
    """Every assignment of ``year``: its plans' and the work outside any plan due that year."""
    return score_scope(
        session,
        year_scope(session, year),
        as_of,
        calendar=calendar,
        rules=rules,
        kind_names=kind_names,
    )


def score_scope(
    session: Session,
    scope: Scope,
    as_of: date,
    *,
    calendar: WorkingCalendar,
    rules: ScoringRules,
    kind_names: dict[str, str] | None = None,
) -> Evaluation:
    """The sheet of ``scope`` as of the end of ``as_of`` (see the module docstring)."""
    with collector_paused():
        return _score_scope(session, scope, as_of, calendar, rules, kind_names)


def _score_scope(
    session: Session,
    scope: Scope,
    as_of: date,
    calendar: WorkingCalendar,
    rules: ScoringRules,
    kind_names: dict[str, str] | None,
) -> Evaluation:
    year_end = date(scope.year, 12, 31)
    records = assignment_rows(session, scope, rules.roles)
    events = history_events(session, scope)
    waivers = waiver_rows(session, scope)
    kinds = {k.key: k.name for k in BUILTIN_KINDS} | dict(kind_names or {})
    periods: dict[int, set[str]] = defaultdict(set)
    for a in records:
        periods[a.task_id].add(a.period)
    targets: dict[tuple[int, str], Target | None] = {}
    event_rules = rules.for_events
    labels: dict[int, str] = {}
    rows: list[Deduction] = []
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # assignments, due, on time
    names: dict[int, str] = {}
    sources: dict[str, int] = dict.fromkeys(SOURCE_LABELS, 0)
    no_events: list = []
    for a in records:
        names[a.unit_id] = a.unit
        key = (a.task_id, a.period)
        if key not in targets:
            per_year = periods_per_year(a.period, len(periods[a.task_id]))
            targets[key] = target_of(a.metric, a.content, a.title, a.deadline_text, per_year)
        target = targets[key]
        facts = facts_as_of(a, events.get(a.id, no_events), as_of, target.count if target else None)
        tally = tallies[a.unit_id]
        tally[0] += 1
        sources[a.kind] = sources.get(a.kind, 0) + 1
        if facts.due <= as_of:
            tally[1] += 1
            tally[2] += facts.report_date is not None and facts.report_date <= facts.due
        try:
            found = assess(
                facts, as_of, year_end, event_rules if a.kind == "event" else rules, calendar
            )
        except ValueError as exc:  # calendars.CalendarError: a date outside the calendar
            raise CalendarInputError(f"任务 #{a.id}：{exc}") from None
        if found:
            label = labels.get(a.task_id)
            if label is None:
                label = labels[a.task_id] = _source_label(a, kinds)
            for item in found:
                waiver = waivers.get((a.id, item.rule)) if waivers else None
                rows.append(_row(a, facts, item, as_of, waiver, target, label))
    sections = section_paths(session, scope) if rules.indicators else None
    bonuses = [
        BonusEntry(i, u, Decimal(p), r, e) for i, u, p, r, e in bonus_rows(session, scope.year)
    ]
    extra = adjustments(rows, names, rules, sections, bonuses)
    units = _rank(_unit_scores(names, tallies, rows, rules, extra))
    order = {u.unit_id: i for i, u in enumerate(units)}
    rule_order = {rule: i for i, rule in enumerate(RULE_ORDER)}
    rows.sort(key=lambda r: (order[r.unit_id], r.assignment_id, rule_order[r.rule]))
    return Evaluation(
        scope.plan_id,
        scope.title,
        scope.year,
        as_of,
        rules,
        units,
        rows,
        plan_ids=scope.plan_ids,
        sources={k: n for k, n in sources.items() if n},
        adjustments=sorted(extra, key=lambda x: order[x.unit_id]),
        appeals=[appeal_dict(x, unit) for x, unit in appeal_rows(session, scope)],
    )


def _source_label(a: Any, kinds: dict[str, str]) -> str:
    if a.kind == "event":
        return f"事件时限：{kinds.get(a.event_kind or '', a.event_kind or '')}"
    return SOURCE_LABELS.get(a.kind, a.kind)


def _row(
    a: Any,
    facts: Facts,
    item: Assessed,
    as_of: date,
    waiver: tuple[str, str] | None,
    target: Target | None,
    source_label: str,
) -> Deduction:
    is_target = item.rule == "target"
    return Deduction(  # positional: 60,000 rows a sheet
        f"{a.id}:{item.rule}",
        a.unit,
        a.unit_id,
        a.task_id,
        a.number,
        a.title,
        a.id,
        a.period,
        item.rule,
        facts.due,
        a.original_due,
        facts.report_date,
        item.days_late,
        item.points,
        item.forecast,
        _note(a, facts, item, as_of, target),
        waiver is not None,
        waiver[0] if waiver else None,
        waiver[1] if waiver else None,
        a.kind,
        source_label,
        a.plan_id,
        facts.target if is_target else None,
        facts.counted if is_target else None,
    )


def _note(a: Any, facts: Facts, item: Assessed, as_of: date, target: Target | None) -> str:
    """The evidence in one Chinese sentence."""
    due = f"截止 {facts.due}"
    if facts.due != a.original_due:
        due += f"（原定 {a.original_due}，已延期）"
    if item.rule == "returned":
        return f"报送被退回 {facts.returned} 次"
    if item.rule == "target":
        assert target is not None and facts.target is not None
        reports = "；".join(
            f"{d} 报送 {c} {target.measure}" + ("（已退回）" if back else "")
            for d, c, back in facts.reports
        )
        return (
            f"量化指标“{target.phrase}”：本期（{a.period or facts.due}）应 {facts.target} "
            f"{target.measure}，计 {facts.counted} {target.measure}，"
            f"差 {facts.target - facts.counted} {target.measure}；报送：{reports}"
        )
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
    extra: list[Adjustment] = (),  # type: ignore[assignment]
) -> list[UnitScore]:
    """Deducted = rows − indicator caps + cards, at most the unit limit; score = base −
    deducted (not below 0) + bonus."""
    parts: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for x in extra:
        parts[x.unit_id][x.rule] += x.points
    raw: dict[int, Decimal] = defaultdict(Decimal)
    waived: dict[int, Decimal] = defaultdict(Decimal)
    count: dict[int, int] = defaultdict(int)
    for r in rows:
        raw[r.unit_id] += r.counted
        waived[r.unit_id] += r.points - r.counted
        count[r.unit_id] += 1
    out = []
    for unit_id, name in names.items():
        mine = parts.get(unit_id, {})
        cards = mine.get("yellow_card", Decimal(0)) + mine.get("red_card", Decimal(0))
        relief = mine.get("indicator_cap", Decimal(0))
        bonus = mine.get("bonus", Decimal(0))
        deducted = min(raw[unit_id] - relief + cards, rules.unit_limit)
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
                score=max(Decimal(0), rules.base - deducted) + bonus,
                rows=count[unit_id],
                cards=cards,
                relief=relief,
                bonus=bonus,
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
        adjustments=[x for x in ev.adjustments if x.unit_id in keep],
        appeals=[x for x in ev.appeals if x["unit_id"] in keep],
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
        require_open(session, year_of(session, a), "免扣")
        _require_row(session, a, rule, local_date(now), config)
    return waive(session, caller, assignment_id, rule, reason, now)


def assignment_sheets(
    session: Session, a: Assignment, today: date, config: Any
) -> list[Evaluation]:
    """The sheets of assignment ``a`` alone as of ``today`` and, if later, its year end."""
    task = session.get(Task, a.task_id)
    if task is None:
        return []
    if task.plan_id is not None:
        scope = plan_scope(session, task.plan_id)
    else:
        scope = year_scope(session, a.due.year)
    scope = replace(scope, assignment_id=a.id)
    rules, calendar = load_rules(config), load_scoring_calendar(config)
    days = sorted({today, max(today, date(scope.year, 12, 31))})
    return [score_scope(session, scope, day, calendar=calendar, rules=rules) for day in days]


def _require_row(session: Session, a: Assignment, rule: str, today: date, config: Any) -> None:
    label = f"任务 #{a.id} 的“{RULE_LABELS[rule]}”"
    row_id = f"{a.id}:{rule}"
    for ev in assignment_sheets(session, a, today, config):
        if any(r.row_id == row_id for r in ev.rows):
            return
    end = max(today, date(a.due.year, 12, 31))
    if session.get(Task, a.task_id) is None:
        raise InvalidInput(f"{label}不在任何考核中，无需免扣")
    raise InvalidInput(
        f"{label}没有扣分（截至 {min(today, end)} 及年底预测均无此行），无需免扣；"
        "用 duban score --detail 查看扣分行"
    )


def kind_names(config: Any) -> dict[str, str]:
    """Event kind key → Chinese name, with ``[events]`` of duban.toml applied."""
    return {k.key: k.name for k in event_kinds(config.section("events")).values()}


def evaluate(
    session: Session,
    caller: Caller,
    plan: str | int | None,
    as_of: date,
    *,
    config: Any,
    unit: str | None = None,
    year: int | None = None,
) -> Evaluation:
    """The evaluation a command shows: ``--plan`` or ``--year`` (or the only year with work).

    An empty database gives an empty evaluation (no units), not an error.
    """
    rules = load_rules(config)
    calendar = load_scoring_calendar(config)
    scope = find_scope(session, plan, year, as_of)
    frozen = frozen_row(session, scope.year)
    if frozen is not None:  # the signed sheet, whatever changed since
        return restrict(thaw(frozen), session, caller, unit)
    ev = score_scope(
        session, scope, as_of, calendar=calendar, rules=rules, kind_names=kind_names(config)
    )
    return restrict(ev, session, caller, unit)

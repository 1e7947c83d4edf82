"""The evaluation as values: deduction rows with their evidence, unit scores, the whole sheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from workflow.evaluation.rules import RULE_LABELS, UNIT_RULE_LABELS, ScoringRules

SOURCE_LABELS = {"ledger": "工作台账", "manual": "手工新增", "event": "事件时限"}


@dataclass(slots=True)  # not frozen: a frozen init costs twice as much for 60,000 rows
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
    source: str = "ledger"  # ledger | manual | event
    source_label: str = "工作台账"  # e.g. 事件时限：政策解读
    plan_id: int | None = None
    target: int | None = None  # quantitative target of the period (rule ``target``)
    reported_count: int | None = None  # items its standing report counted (rule ``target``)

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
            "source": self.source,
            "source_label": self.source_label,
            "plan_id": self.plan_id,
            "target": self.target,
            "reported_count": self.reported_count,
        }


@dataclass(frozen=True)
class UnitScore:
    unit: str
    unit_id: int
    assignments: int  # counted assignments in scope (not cancelled, counted roles)
    due: int  # of which due by as_of
    on_time: int  # of which reported on or before their due date
    deductions: Decimal  # rows not waived, before the unit cap
    waived: Decimal  # points waived on appeal
    deducted: Decimal  # what is taken off the base (after the cap)
    score: Decimal
    rank: int = 0
    rows: int = 0  # deduction rows (waived ones included)
    cards: Decimal = Decimal(0)  # yellow / red card points (``adjust``)
    relief: Decimal = Decimal(0)  # points given back by indicator caps
    bonus: Decimal = Decimal(0)  # bonus points (加分), added after the cap

    @property
    def on_time_rate(self) -> float | None:
        return None if self.due == 0 else self.on_time / self.due

    @property
    def capped(self) -> bool:
        """The unit cap (or the base) took points off: fewer deducted than charged."""
        return self.deducted < self.deductions - self.relief + self.cards

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
            "cards": float(self.cards),
            "indicator_relief": float(self.relief),
            "bonus": float(self.bonus),
        }


@dataclass(frozen=True)
class Evaluation:
    plan_id: int | None  # the plan, when the sheet is one plan's (``--plan``)
    plan_title: str
    plan_year: int
    as_of: date
    rules: ScoringRules
    units: list[UnitScore] = field(default_factory=list)  # ranked
    rows: list[Deduction] = field(default_factory=list)  # in rank order, then assignment, rule
    plan_ids: tuple[int, ...] = ()  # every plan the sheet covers
    sources: dict[str, int] = field(default_factory=dict)  # counted assignments by source
    adjustments: list[Any] = field(default_factory=list)  # adjust.Adjustment, unit-level items
    appeals: list[dict[str, Any]] = field(default_factory=list)  # appeals.appeal_dict rows
    frozen: dict[str, Any] | None = None  # set when the sheet is a frozen (封存) one

    def rule_basis(self) -> dict[str, str]:
        """Rule key → the rule in words, for every rule the sheet uses (names each point)."""
        used = {r.rule for r in self.rows} | {a.rule for a in self.adjustments}
        words: dict[str, str] = {}
        for key, text in self.rules.describe():
            words[key] = f"{words[key]}；{text}" if key in words else text
        out = {}
        for rule in used:
            key = {"late": "late_task", "late_days": "late_day"}.get(rule, rule)
            out[rule] = words.get(key) or UNIT_RULE_LABELS.get(rule, rule) + "：由办公室凭依据登记"
        return dict(sorted(out.items()))

    @property
    def forecast(self) -> bool:
        """True during the plan year: the sheet says what happens if nothing changes."""
        return self.as_of < date(self.plan_year, 12, 31)

    @property
    def empty(self) -> bool:
        return not self.units

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": {"id": self.plan_id, "title": self.plan_title, "year": self.plan_year},
            "year": self.plan_year,
            "plan_ids": list(self.plan_ids),
            "as_of": self.as_of.isoformat(),
            "forecast": self.forecast,
            "rules": self.rules.to_dict(),
            "sources": dict(self.sources),
            "units": [u.to_dict() for u in self.units],
            "deductions": [r.to_dict() for r in self.rows],
            "adjustments": [a.to_dict() for a in self.adjustments],
            "rule_basis": self.rule_basis(),
            "appeals": list(self.appeals),
            "frozen": self.frozen,
        }

"""Unit-level adjustments of a sheet: indicator caps, yellow/red cards and bonus points. Pure.

The rows of :mod:`workflow.evaluation.deductions` are per assignment; some rules of an office's
考核细则 look at a unit's whole record instead:

* **Indicator caps** (``[scoring.indicators]``): the counted rows of a unit under one section of
  the plan (a task whose ``section_path`` holds the indicator's name) cost at most its weight;
  the excess is given back as an ``indicator_cap`` adjustment. A task under two configured
  indicators belongs to the first one listed.
* **Cards**: ``red_card_after`` late items (assignments with a counted 逾期完成 or 年底未报送
  row, forecasts included) → a red card costing ``red_card``; else ``yellow_card_after`` → a
  yellow card costing ``yellow_card``. Only one card per unit.
* **Bonus** (加分): the office's entries for the unit and year (:mod:`workflow.evaluation.bonus`),
  summed and capped by ``bonus_cap``; added after the deductions and their unit cap.

With the default rules there are no adjustments, and the scores are exactly the rows' sums.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from workflow.evaluation.rules import UNIT_RULE_LABELS, ScoringRules, fmt_points

LATE_RULES = ("late", "never_reported")


@dataclass(frozen=True)
class Adjustment:
    """One unit-level item: ``points`` deducted (cards), given back (indicator caps) or added
    (bonus), with the rule and the evidence in words."""

    unit_id: int
    unit: str
    rule: str
    points: Decimal
    note: str

    @property
    def rule_label(self) -> str:
        return UNIT_RULE_LABELS[self.rule]

    @property
    def effect(self) -> Decimal:
        """What it does to the points deducted: + for cards, − for caps and bonus."""
        return self.points if self.rule in ("yellow_card", "red_card") else -self.points

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "rule": self.rule,
            "rule_label": self.rule_label,
            "points": float(self.points),
            "note": self.note,
        }


@dataclass(frozen=True)
class BonusEntry:
    """One bonus entry as the sheet reads it."""

    id: int
    unit_id: int
    points: Decimal
    reason: str
    evidence: str | None


def adjustments(
    rows: Sequence[Any],
    names: Mapping[int, str],
    rules: ScoringRules,
    sections: Mapping[int, Sequence[str]] | None = None,
    bonuses: Iterable[BonusEntry] = (),
) -> list[Adjustment]:
    """Every unit-level adjustment of the sheet (see the module docstring), by unit id order."""
    out: list[Adjustment] = []
    by_unit: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        by_unit[r.unit_id].append(r)
    given: dict[int, list[BonusEntry]] = defaultdict(list)
    for b in bonuses:
        if b.unit_id in names:
            given[b.unit_id].append(b)
    for unit_id in sorted(names):
        unit_rows = by_unit.get(unit_id, [])
        name = names[unit_id]
        if rules.indicators and sections is not None:
            out += _indicator_caps(unit_id, name, unit_rows, rules, sections)
        card = _card(unit_id, name, unit_rows, rules)
        if card is not None:
            out.append(card)
        if given.get(unit_id):
            out.append(_bonus(unit_id, name, given[unit_id], rules))
    return out


def _indicator_caps(
    unit_id: int,
    name: str,
    rows: Sequence[Any],
    rules: ScoringRules,
    sections: Mapping[int, Sequence[str]],
) -> list[Adjustment]:
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        path = sections.get(r.assignment_id) or ()
        for indicator, _ in rules.indicators:
            if indicator in path:
                spent[indicator] += r.counted
                break
    out = []
    for indicator, weight in rules.indicators:
        total = spent.get(indicator, Decimal(0))
        if total > weight:
            out.append(
                Adjustment(
                    unit_id,
                    name,
                    "indicator_cap",
                    total - weight,
                    f"指标“{indicator}”扣分 {fmt_points(total)} 分，按权重最多扣 "
                    f"{fmt_points(weight)} 分，退回 {fmt_points(total - weight)} 分",
                )
            )
    return out


def _card(unit_id: int, name: str, rows: Sequence[Any], rules: ScoringRules) -> Adjustment | None:
    late = {r.assignment_id for r in rows if r.rule in LATE_RULES and not r.waived}
    n = len(late)
    for rule, after, points, label in (
        ("red_card", rules.red_card_after, rules.red_card, "红牌"),
        ("yellow_card", rules.yellow_card_after, rules.yellow_card, "黄牌"),
    ):
        if after and points > 0 and n >= after:
            return Adjustment(
                unit_id,
                name,
                rule,
                points,
                f"逾期（含年底未报送）{n} 项，达 {after} 项出示{label}，扣 {fmt_points(points)} 分",
            )
    return None


def _bonus(unit_id: int, name: str, entries: list[BonusEntry], rules: ScoringRules) -> Adjustment:
    total = sum((b.points for b in entries), Decimal(0))
    parts = "；".join(
        f"#{b.id} {fmt_points(b.points)} 分：{b.reason}"
        + (f"（依据：{b.evidence}）" if b.evidence else "")
        for b in entries
    )
    note = f"加分 {fmt_points(total)} 分：{parts}"
    if rules.bonus_cap > 0 and total > rules.bonus_cap:
        note += f"；按上限计 {fmt_points(rules.bonus_cap)} 分"
        total = rules.bonus_cap
    return Adjustment(unit_id, name, "bonus", total, note)

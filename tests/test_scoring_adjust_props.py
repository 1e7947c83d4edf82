"""Properties of the unit-level adjustments (``workflow.evaluation.adjust``), for any record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from workflow.evaluation.adjust import adjustments
from workflow.evaluation.rules import ScoringRules

SECTIONS = ("一、重点领域", "二、政策解读", "三、平台建设")


@dataclass
class Row:
    unit_id: int
    assignment_id: int
    rule: str
    points: Decimal
    waived: bool

    @property
    def counted(self) -> Decimal:
        return Decimal(0) if self.waived else self.points


points = st.integers(0, 50).map(lambda n: Decimal(n) / 10)
rows = st.lists(
    st.builds(
        Row,
        unit_id=st.integers(1, 3),
        assignment_id=st.integers(1, 30),
        rule=st.sampled_from(["late", "late_days", "never_reported", "returned", "target"]),
        points=points,
        waived=st.booleans(),
    ),
    max_size=40,
)
section_of = st.dictionaries(st.integers(1, 30), st.sampled_from(SECTIONS))
indicators = st.lists(st.tuples(st.sampled_from(SECTIONS), points), unique_by=lambda t: t[0])
NAMES = {1: "甲", 2: "乙", 3: "丙"}


@given(rows, section_of, indicators, st.integers(0, 5), st.integers(0, 8), points, points)
def test_caps_never_charge_more_and_one_card_a_unit(
    found, sections, weights, yellow_after, red_after, yellow, red
):
    rules = replace(
        ScoringRules(),
        indicators=tuple(weights),
        yellow_card_after=yellow_after,
        yellow_card=yellow,
        red_card_after=red_after,
        red_card=red,
    )
    paths = {aid: (s,) for aid, s in sections.items()}
    out = adjustments(found, NAMES, rules, paths)
    cards = defaultdict(int)
    relief = defaultdict(Decimal)
    for x in out:
        assert x.points > 0
        if x.rule in ("yellow_card", "red_card"):
            cards[x.unit_id] += 1
        else:
            assert x.rule == "indicator_cap"
            relief[x.unit_id] += x.points
    assert all(n == 1 for n in cards.values())
    for unit_id in NAMES:
        mine = [r for r in found if r.unit_id == unit_id]
        assert relief[unit_id] <= sum((r.counted for r in mine), Decimal(0))
        for name, weight in weights:  # what is left under an indicator is at most its weight
            spent = sum(
                (r.counted for r in mine if paths.get(r.assignment_id) == (name,)), Decimal(0)
            )
            back = sum(
                (x.points for x in out if x.unit_id == unit_id and f"“{name}”" in x.note),
                Decimal(0),
            )
            assert spent - back == min(spent, weight)


@given(rows, section_of)
def test_default_rules_adjust_nothing(found, sections):
    paths = {aid: (s,) for aid, s in sections.items()}
    assert adjustments(found, NAMES, ScoringRules(), paths) == []

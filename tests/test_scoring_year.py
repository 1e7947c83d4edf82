"""The office's own rules on a whole simulated year: cards, indicator caps, bonus, appeals.

Each unit's points are checked against a table computed by hand from its story (see
``tests/year_world.py`` and the rules in ``YEAR_TOML``). Scored on 15 January of the next year,
after the year end, so that every item of the year is settled (never_reported, not forecast).
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from decimal import Decimal

import pytest
from year_world import YEAR, YEAR_TOML, build_year

from calendars import ChinaCalendar
from workflow.config import Config
from workflow.dates.clock import SHANGHAI
from workflow.errors import Conflict, InvalidInput, PermissionDenied
from workflow.evaluation.appeals import decide_appeal, file_appeal, list_appeals
from workflow.evaluation.bonus import add_bonus
from workflow.evaluation.freeze import frozen_row, store, thaw
from workflow.evaluation.rules import ScoringRules, parse_rules
from workflow.evaluation.scores import evaluate, score_plan

AS_OF = date(YEAR + 1, 1, 15)
NOW = datetime(YEAR + 1, 1, 8, 9, tzinfo=SHANGHAI)
CAL = ChinaCalendar()
RULES = parse_rules(tomllib.loads(YEAR_TOML)["scoring"])


@pytest.fixture(scope="module")
def calendar():
    return CAL


@pytest.fixture
def year(db, office):
    return build_year(db, office)


@pytest.fixture
def config(tmp_path, database_url):
    return Config(tmp_path, tmp_path, database_url, raw=tomllib.loads(YEAR_TOML))


def _sheet(db, world, rules=RULES):
    with db.session() as s:
        return score_plan(s, world["plan_id"], AS_OF, calendar=CAL, rules=rules)


# unit: (sum of the rows, card points, given back by the indicator cap, bonus, score, rank)
BY_HAND = {
    "甲科": ("0", "0", "0", "0", "100", 1),
    "丁科": ("1", "0", "0", "0", "99", 2),
    "乙科": ("3", "2", "0", "0", "95", 3),  # 3 late → yellow card
    "戊科": ("3", "2", "0", "0", "95", 3),
    "丙科": ("37", "5", "26", "0", "84", 5),  # 12 × 3 in 二 capped at 10; 13 late → red card
}


@pytest.mark.parametrize("unit", list(BY_HAND))
def test_each_unit_by_hand(db, year, unit):
    ev = _sheet(db, year)
    u = next(x for x in ev.units if x.unit == unit)
    rows, cards, relief, bonus, score, rank = BY_HAND[unit]
    got = (u.deductions, u.cards, u.relief, u.bonus, u.score, u.rank)
    assert got == (
        Decimal(rows),
        Decimal(cards),
        Decimal(relief),
        Decimal(bonus),
        Decimal(score),
        rank,
    )


def test_default_rules_have_no_adjustments(db, year):
    """The defaults reproduce the plain sum of the rows (today's results)."""
    ev = _sheet(db, year, ScoringRules())
    assert ev.adjustments == []
    for u in ev.units:
        assert u.cards == u.relief == u.bonus == 0
        assert u.score == max(Decimal(0), Decimal(100) - min(u.deductions, Decimal(100)))
    # 丙科: 12 × never_reported 3, July's one-off 1 + 3 working days (1–3 Aug) × 0.1
    assert {u.unit: u.score for u in ev.units}["丙科"] == Decimal("62.7")


def test_every_point_names_its_rule(db, year):
    ev = _sheet(db, year)
    basis = ev.rule_basis()
    assert set(basis) == {"late", "never_reported", "indicator_cap", "yellow_card", "red_card"}
    assert basis["red_card"] == "红牌：逾期（含年底未报送）达 6 项，扣 5 分（不再另计黄牌）"
    assert "每个单位最多扣 10 分" in basis["indicator_cap"]
    notes = {(x.unit, x.rule): x.note for x in ev.adjustments}
    assert notes[("丙科", "indicator_cap")] == (
        "指标“二、强化重要政策发布，加大同步解读力度”扣分 36 分，按权重最多扣 10 分，退回 26 分"
    )
    assert notes[("乙科", "yellow_card")] == "逾期（含年底未报送）3 项，达 3 项出示黄牌，扣 2 分"
    data = ev.to_dict()
    assert data["rule_basis"] == basis
    assert {"unit": "丙科", "rule": "red_card", "rule_label": "红牌", "points": 5.0}.items() <= {
        **next(a for a in data["adjustments"] if a["rule"] == "red_card")
    }.items()


def test_bonus_and_an_upheld_appeal_move_the_table(db, year, office, config):
    """丁科 gets 2 + 2 bonus points (capped at 3); 戊科's appeal of April is upheld."""
    with db.session() as s:
        for pts in ("2", "2"):
            add_bonus(
                s, office, "丁科", YEAR, pts, "经验做法被自治区采用", "宁政办发〔2023〕1号", NOW
            )
    aid = year["戊科"]["monthly"][4][0]
    with db.session() as s:
        appeal = file_appeal(
            s,
            year["戊科"]["caller"],
            str(aid),
            "系统故障未能按时报送",
            "故障工单 2023-0501",
            NOW,
            config=config,
        )
        appeal_id = appeal.id
    with db.session() as s:
        decide_appeal(s, office, appeal_id, True, "经核实系平台故障", NOW, config=config)
    ev = _sheet(db, year)
    table = {u.unit: (u.score, u.rank) for u in ev.units}
    assert table == {
        "丁科": (Decimal(102), 1),  # 100 − 1 + min(4, 3)
        "甲科": (Decimal(100), 2),
        "戊科": (Decimal(98), 3),  # one late waived: 2 late, no yellow card
        "乙科": (Decimal(95), 4),
        "丙科": (Decimal(84), 5),
    }
    waived = [r for r in ev.rows if r.waived]
    assert [(r.assignment_id, r.rule, r.waiver_reason) for r in waived] == [
        (aid, "late", "申诉 #1 成立：经核实系平台故障")
    ]
    assert [(a["id"], a["unit"], a["state"]) for a in ev.appeals] == [(appeal_id, "戊科", "upheld")]


def test_appeal_permissions_and_refusals(db, year, office, config):
    mine = year["乙科"]["monthly"][3][0]
    other = year["甲科"]["monthly"][3][0]
    unit = year["乙科"]["caller"]
    with db.session() as s:
        with pytest.raises(PermissionDenied, match="本单位"):
            file_appeal(s, unit, str(other), "理由", None, NOW, config=config)
        with pytest.raises(InvalidInput, match="没有扣分"):
            file_appeal(s, year["甲科"]["caller"], str(other), "理由", None, NOW, config=config)
        with pytest.raises(InvalidInput, match="没有扣分"):
            file_appeal(s, unit, f"{mine}:returned", "理由", None, NOW, config=config)
        with pytest.raises(InvalidInput, match="理由"):
            file_appeal(s, unit, str(mine), "  ", None, NOW, config=config)
        first = file_appeal(s, unit, f"{mine}:late", "理由", None, NOW, config=config)
        with pytest.raises(Conflict, match="待处理的申诉"):
            file_appeal(s, unit, str(mine), "再次", None, NOW, config=config)
        with pytest.raises(PermissionDenied, match="仅办公室"):
            decide_appeal(s, unit, first.id, True, "自己同意", NOW, config=config)
        decide_appeal(s, office, first.id, False, "理由不成立", NOW, config=config)
        with pytest.raises(Conflict, match="已于"):
            decide_appeal(s, office, first.id, True, "改判", NOW, config=config)
        assert [a["state"] for a in list_appeals(s, unit)] == ["rejected"]
        assert list_appeals(s, year["甲科"]["caller"]) == []


def test_appeal_deadline(db, year, tmp_path, database_url):
    raw = tomllib.loads(YEAR_TOML)
    raw["scoring"]["appeal_until"] = "2024-01-07"
    config = Config(tmp_path, tmp_path, database_url, raw=raw)
    aid = year["乙科"]["monthly"][3][0]
    with db.session() as s, pytest.raises(InvalidInput, match="申诉期已于 2024-01-07 截止"):
        file_appeal(s, year["乙科"]["caller"], str(aid), "理由", None, NOW, config=config)


def test_frozen_year_keeps_its_numbers(db, year, office, config):
    with db.session() as s:
        ev = score_plan(s, year["plan_id"], AS_OF, calendar=CAL, rules=RULES)
        store(s, office, ev, NOW)
    # later: a bonus is refused, and even a changed rule set does not move the sheet
    with db.session() as s, pytest.raises(Conflict, match="已于 2024-01-08 由办公室封存"):
        add_bonus(s, office, "丁科", YEAR, "2", "迟到的加分", "文件", NOW)
    later = Config(config.config_dir, config.data_dir, config.database_url, raw={})
    with db.session() as s:
        again = evaluate(s, office, None, date(YEAR + 1, 6, 1), config=later, year=YEAR)
        assert again.frozen is not None and again.frozen["as_of"] == AS_OF.isoformat()
        assert [(u.unit, u.score) for u in again.units] == [(u.unit, u.score) for u in ev.units]
        assert again.rows == ev.rows and again.adjustments == ev.adjustments
        assert thaw(frozen_row(s, YEAR)).rules == RULES
        with pytest.raises(Conflict, match="重复封存"):
            store(s, office, ev, NOW)

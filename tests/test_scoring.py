"""Year-end deductions on a real database, built through the real lifecycle; rules from TOML."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import unit_caller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_world import (
    CAL,
    REPORT,
    RULES,
    YEAR_END,
    at,
    names,
    new_assignment,
    new_event,
    new_monthly,
    new_plan,
    play,
)
from sqlmodel import select

from workflow.config import load_config
from workflow.dates.clock import SHANGHAI
from workflow.directory.plans import find_plan
from workflow.directory.units import add_unit
from workflow.errors import ConfigError, Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.evaluation.deductions import Facts, assess
from workflow.evaluation.scores import (
    ScoringRules,
    load_rules,
    parse_row_id,
    parse_rules,
    restrict,
    score_plan,
    waive,
)
from workflow.storage.models import ExtensionRequest, History, Waiver
from workflow.tasks.assignments import add_task
from workflow.tasks.lifecycle import fire

SEP30 = date(2026, 9, 30)
JUN30 = date(2026, 6, 30)

# name, due, steps, {rule: points}, working days late of the late/never rows
SCENARIOS = [
    ("on_time", SEP30, [(date(2026, 9, 29), "report", REPORT)], {}, None),
    (
        "one_working_day_late",
        JUN30,
        [(date(2026, 7, 1), "expire", {}), (date(2026, 7, 1), "report", REPORT)],
        {"late": Decimal(1), "late_days": Decimal("0.5")},
        1,
    ),
    (
        "late_across_national_day",  # 9 calendar days, 2 working days (8 and 9 October)
        SEP30,
        [(date(2026, 10, 1), "expire", {}), (date(2026, 10, 9), "report", REPORT)],
        {"late": Decimal(1), "late_days": Decimal(1)},
        2,
    ),
    (
        "never_reported",
        SEP30,
        [(date(2026, 10, 1), "expire", {})],
        {"never_reported": Decimal(5)},
        CAL.working_days_between(SEP30, YEAR_END),
    ),
    (
        "extended_then_on_time",
        SEP30,
        [
            (date(2026, 9, 25), "request_extension", {"to": date(2026, 10, 30)}),
            (date(2026, 9, 28), "approve_extension", {}),
            (date(2026, 10, 29), "report", REPORT),
        ],
        {},
        None,
    ),
    (
        "extension_refused",
        SEP30,
        [
            (date(2026, 9, 25), "request_extension", {"to": date(2026, 10, 30)}),
            (date(2026, 9, 28), "refuse_extension", {}),
            (date(2026, 10, 1), "expire", {}),
            (date(2026, 10, 9), "report", REPORT),
        ],
        {"late": Decimal(1), "late_days": Decimal(1)},
        2,
    ),
    (
        "returned_twice",
        SEP30,
        [
            (date(2026, 9, 21), "report", REPORT),
            (date(2026, 9, 22), "return", {"reason": "缺少链接"}),
            (date(2026, 9, 23), "report", REPORT),
            (date(2026, 9, 24), "return", {"reason": "仍缺少链接"}),
            (date(2026, 9, 28), "report", REPORT),
            (date(2026, 9, 29), "verify", {}),
        ],
        {"returned": Decimal(1)},
        None,
    ),
    (
        "cancelled_after_being_overdue",
        SEP30,
        [(date(2026, 10, 1), "expire", {}), (date(2026, 10, 15), "cancel", {"reason": "任务调整"})],
        {},
        None,
    ),
    (
        "per_day_cap_reached",  # 44 working days late: 22 by the day, capped at 3
        JUN30,
        [(date(2026, 7, 1), "expire", {}), (date(2026, 8, 31), "report", REPORT)],
        {"late": Decimal(1), "late_days": Decimal(3)},
        CAL.working_days_between(JUN30, date(2026, 8, 31)),
    ),
    # the whole year's work (issue 16): added by hand without --plan, events, targets
    (
        "hand_added_late",  # `task add` without --plan joins the plan of 2026
        JUN30,
        [(date(2026, 7, 1), "report", REPORT)],
        {"late": Decimal(1), "late_days": Decimal("0.5")},
        1,
    ),
    (
        "policy_interpretation_late",  # 政策解读 of 25 September: due 30 September; event_late 0.5
        date(2026, 9, 25),
        [(date(2026, 10, 1), "expire", {}), (date(2026, 10, 9), "report", REPORT)],
        {"late": Decimal("0.5"), "late_days": Decimal(1)},
        2,
    ),
    (
        "policy_interpretation_on_time",
        date(2026, 9, 25),
        [(date(2026, 9, 29), "report", REPORT)],
        {},
        None,
    ),
    (
        "monthly_target_met",  # 每月至少更新2条: March, 2 counted
        3,
        [(date(2026, 3, 30), "report", {**REPORT, "count": 2})],
        {},
        None,
    ),
    (
        "monthly_target_missed",  # 1 counted of 2: one period short (target_short 0.5)
        3,
        [(date(2026, 3, 30), "report", {**REPORT, "count": 1})],
        {"target": Decimal("0.5")},
        None,
    ),
]
# event time limits are judged by the event_* keys: here a late 政策解读 costs 0.5, not 1
YEAR_RULES = replace(RULES, event=(("late_task", Decimal("0.5")),))


def _build(s, office, plan, name: str, due):
    """How a scenario's work enters: by hand (no --plan), as an event, as a monthly target."""
    unit = f"{name}科"
    if name == "hand_added_late":
        created = add_unit(s, office, unit, at(date(2026, 1, 5)))
        _, (a,) = add_task(s, office, "手工新增的任务", [created.name], due, at(date(2026, 1, 5)))
        return unit_caller(created), a.id
    if name.startswith("policy_interpretation"):
        return new_event(s, office, unit, due, ref=f"{name}号文")
    if name.startswith("monthly_target"):
        return new_monthly(s, office, plan, unit, due)
    return new_assignment(s, office, plan, unit, due)


@pytest.fixture
def year_end_sheet(db, office):
    """Every scenario as its own unit of one plan, scored as of 31 December 2026."""
    ids = {}
    with db.session() as s:
        plan = new_plan(s)
        plan_id = plan.id
        for name, due, _, _, _ in SCENARIOS:
            ids[name] = _build(s, office, plan, name, due)
    for name, _, steps, _, _ in SCENARIOS:
        unit, aid = ids[name]
        play(db, office, unit, aid, steps)
    with db.session() as s:
        return score_plan(s, plan_id, YEAR_END, calendar=CAL, rules=YEAR_RULES), ids


def test_scenario_points(year_end_sheet):
    """The table: each scenario's rows (rule → points), working days late and unit total."""
    ev, ids = year_end_sheet
    actual, expected = {}, {}
    for name, _, _, points, days in SCENARIOS:
        _, aid = ids[name]
        rows = [r for r in ev.rows if r.assignment_id == aid]
        unit = [u for u in ev.units if u.unit == f"{name}科"]
        actual[name] = (
            {r.rule: r.points for r in rows},
            {r.days_late for r in rows if r.rule not in ("returned", "target")},
            [(u.deducted, u.score) for u in unit],
        )
        total = sum(points.values(), Decimal(0))
        expected[name] = (
            points,
            set() if days is None else {days},
            # a cancelled task never counts, not even for the on-time rate: the unit is absent
            [] if name.startswith("cancelled") else [(total, Decimal(100) - total)],
        )
        assert all(r.row_id == f"{aid}:{r.rule}" and r.unit == f"{name}科" for r in rows)
    assert actual == expected


def test_year_end_evidence_ranks_and_rates(db, year_end_sheet):
    ev, ids = year_end_sheet
    _, aid = ids["late_across_national_day"]
    row = next(r for r in ev.rows if r.row_id == f"{aid}:late_days")
    assert (row.due, row.report_date, row.days_late) == (SEP30, date(2026, 10, 9), 2)
    assert row.note == "截止 2026-09-30，2026-10-09 报送，逾期 2 个工作日"
    assert not row.forecast and not ev.forecast
    # an approved extension moves the due date the on-time rate uses
    unit = next(u for u in ev.units if u.unit == "extended_then_on_time科")
    assert (unit.due, unit.on_time, unit.on_time_rate) == (1, 1, 1.0)
    # a refused request leaves the due date: the rows are counted from 30 September
    _, refused = ids["extension_refused"]
    assert {(r.due, r.report_date) for r in ev.rows if r.assignment_id == refused} == {
        (SEP30, date(2026, 10, 9))
    }
    with db.session() as s:
        statuses = {r.assignment_id: r.status for r in s.exec(select(ExtensionRequest)).all()}
    assert statuses == {ids["extended_then_on_time"][1]: "approved", refused: "refused"}
    # a capped row explains the cap
    _, aid = ids["per_day_cap_reached"]
    row = next(r for r in ev.rows if r.row_id == f"{aid}:late_days")
    assert row.days_late == 44
    assert "按日计 22 分，已按单项上限计 3 分" in row.note
    # ranks: highest score first, ties share a rank
    by_unit = {u.unit: u for u in ev.units}
    assert [u.rank for u in ev.units] == sorted(u.rank for u in ev.units)
    # the four units without deductions share rank 1; then 0.5 (target) is 5th, 1 point 6th
    assert {u.unit for u in ev.units if u.rank == 1} == {
        "on_time科",
        "extended_then_on_time科",
        "policy_interpretation_on_time科",
        "monthly_target_met科",
    }
    assert by_unit["monthly_target_missed科"].rank == 5
    assert by_unit["returned_twice科"].rank == 6
    assert by_unit["never_reported科"].rank == len(ev.units)
    assert by_unit["returned_twice科"].on_time_rate == 1.0
    assert by_unit["never_reported科"].on_time_rate == 0.0
    assert by_unit["on_time科"].score == Decimal(100)
    scores = [u.score for u in ev.units]
    assert scores == sorted(scores, reverse=True)
    # the same record and date give the same sheet
    with db.session() as s:
        again = score_plan(s, ev.plan_id, YEAR_END, calendar=CAL, rules=YEAR_RULES)
    assert again.to_dict() == ev.to_dict()


def test_every_row_says_which_work_it_came_from(db, year_end_sheet):
    ev, ids = year_end_sheet
    source = {r.assignment_id: (r.source, r.source_label, r.plan_id) for r in ev.rows}
    assert source[ids["hand_added_late"][1]] == ("manual", "手工新增", ev.plan_id)
    assert source[ids["policy_interpretation_late"][1]] == (
        "event",
        "事件时限：政策解读",
        ev.plan_id,
    )
    assert source[ids["monthly_target_missed"][1]] == ("ledger", "工作台账", ev.plan_id)
    assert ev.sources == {"ledger": 2, "manual": 9, "event": 2}  # cancelled work not counted


def test_a_missed_target_shows_its_evidence(year_end_sheet):
    ev, ids = year_end_sheet
    (row,) = [r for r in ev.rows if r.assignment_id == ids["monthly_target_missed"][1]]
    assert (row.rule, row.rule_label, row.target, row.reported_count) == (
        "target",
        "未达量化指标",
        2,
        1,
    )
    assert row.note == (
        "量化指标“每月至少更新2条”：本期（2026-03）应 2 条，计 1 条，差 1 条；"
        "报送：2026-03-30 报送 1 条"
    )
    assert row.to_dict()["target"] == 2 and row.to_dict()["reported_count"] == 1


def test_a_target_is_judged_once_the_period_is_over(db, office):
    with db.session() as s:
        plan = new_plan(s)
        unit, aid = new_monthly(s, office, plan, "专栏科", 3)
        plan_id = plan.id
    play(db, office, unit, aid, [(date(2026, 3, 20), "report", {**REPORT, "count": 1})])
    assert sheet(db, plan_id, date(2026, 3, 30)).rows == []  # March is not over yet
    # "as of D" is the end of day D: at the end of 31 March the month is over
    assert [r.rule for r in sheet(db, plan_id, date(2026, 3, 31)).rows] == ["target"]
    assert [r.rule for r in sheet(db, plan_id, date(2026, 4, 1)).rows] == ["target"]
    # returned and reported again with enough: the shortfall is gone
    play(
        db,
        office,
        unit,
        aid,
        [
            (date(2026, 4, 2), "return", {"reason": "数量不足"}),
            (date(2026, 4, 3), "report", {**REPORT, "count": 3}),
        ],
    )
    rows = sheet(db, plan_id, YEAR_END).rows
    assert {r.rule for r in rows} == {"late", "late_days"}  # reported again after March


# -- during the year: the forecast ----------------------------------------------------------------
@pytest.fixture
def one_task(db, office):
    with db.session() as s:
        plan = new_plan(s)
        unit, aid = new_assignment(s, office, plan, "政务公开科", SEP30)
        return plan.id, unit, aid


def sheet(db, plan_id, as_of, rules=RULES):
    with db.session() as s:
        return score_plan(s, plan_id, as_of, calendar=CAL, rules=rules)


def test_forecast_counts_an_open_task_as_late_up_to_as_of(db, office, one_task):
    plan_id, unit, aid = one_task
    play(db, office, unit, aid, [(date(2026, 10, 1), "expire", {})])
    assert sheet(db, plan_id, date(2026, 9, 29)).rows == []  # due tomorrow: not late yet
    # "as of D" is the end of day D: unreported at the end of its due day, it is late (0 days)
    due_day = sheet(db, plan_id, date(2026, 9, 30))
    assert {r.rule: (r.points, r.days_late) for r in due_day.rows} == {"late": (Decimal(1), 0)}
    ev = sheet(db, plan_id, date(2026, 10, 9))
    assert ev.forecast
    assert {r.rule: (r.points, r.days_late, r.forecast) for r in ev.rows} == {
        "late": (Decimal(1), 2, True),
        "late_days": (Decimal(1), 2, True),
    }
    assert (
        "截至 2026-10-09 仍未报送（预测：按今日报送计；到年底仍未报送则改按年底未报送扣分）"
        in ev.rows[0].note
    )
    # once the year is over the same task is "never reported" instead
    assert {r.rule for r in sheet(db, plan_id, YEAR_END).rows} == {"never_reported"}


def test_a_past_date_ignores_what_happened_later(db, office, one_task):
    plan_id, unit, aid = one_task
    play(
        db,
        office,
        unit,
        aid,
        [
            (date(2026, 10, 1), "expire", {}),
            (date(2026, 10, 12), "extend", {"new_due": date(2026, 10, 30), "reason": "补批延期"}),
            (date(2026, 10, 20), "report", REPORT),
        ],
    )
    before = sheet(db, plan_id, date(2026, 10, 9))  # extension not yet approved on 9 October
    assert {r.rule: r.due for r in before.rows} == {"late": SEP30, "late_days": SEP30}
    assert sheet(db, plan_id, YEAR_END).rows == []  # extended, then reported in time


def test_a_returned_report_no_longer_stands(db, office, one_task):
    plan_id, unit, aid = one_task
    play(
        db,
        office,
        unit,
        aid,
        [
            (date(2026, 9, 29), "report", REPORT),
            (date(2026, 10, 8), "return", {"reason": "缺少链接"}),
            (date(2026, 10, 9), "report", REPORT),
        ],
    )
    assert sheet(db, plan_id, date(2026, 10, 1)).rows == []  # the report stood on 1 October
    rows = sheet(db, plan_id, YEAR_END).rows
    assert {r.rule: r.report_date for r in rows} == {
        "late": date(2026, 10, 9),
        "late_days": date(2026, 10, 9),
    }


def test_report_date_is_the_shanghai_date(db, office, one_task):
    plan_id, unit, aid = one_task
    # 30 September 23:30 in Shanghai is 15:30 UTC: still on time
    with db.session() as s:
        fire(s, aid, "report", unit, now=datetime(2026, 9, 30, 23, 30, tzinfo=SHANGHAI), **REPORT)
    assert sheet(db, plan_id, YEAR_END).rows == []


def test_returned_each_and_unit_cap(db, office):
    with db.session() as s:
        plan = new_plan(s)
        unit, aid = new_assignment(s, office, plan, "办公室文秘科", SEP30)
        others = [new_assignment(s, office, plan, f"{n}号科", JUN30)[1] for n in range(2)]
        plan_id = plan.id
    steps = []
    for i in range(4):
        steps += [
            (date(2026, 9, 1 + 2 * i), "report", REPORT),
            (date(2026, 9, 2 + 2 * i), "return", {"reason": "不全"}),
        ]
    play(db, office, unit, aid, [*steps, (date(2026, 9, 20), "report", REPORT)])
    rules = replace(RULES, returned_each=True, unit_cap=Decimal("2.5"))
    ev = sheet(db, plan_id, YEAR_END, rules)
    row = next(r for r in ev.rows if r.assignment_id == aid)
    assert (row.rule, row.points, row.note) == ("returned", Decimal(3), "报送被退回 4 次")
    u = next(u for u in ev.units if u.unit == "办公室文秘科")
    assert (u.deductions, u.deducted, u.capped, u.score) == (
        Decimal(3),
        Decimal("2.5"),
        True,
        Decimal("97.5"),
    )
    assert len(others) == 2 and all(u.score == Decimal("97.5") for u in ev.units)
    assert [u.rank for u in ev.units] == [1, 1, 1]


def test_score_never_below_zero_with_a_small_base(db, office):
    with db.session() as s:
        plan = new_plan(s)
        for title in ("公开指南", "年度报告", "政策解读"):
            new_assignment(s, office, plan, f"{title}科", JUN30, title)
        plan_id = plan.id
    ev = sheet(db, plan_id, YEAR_END, replace(RULES, base=Decimal(4)))
    assert all(u.deducted == Decimal(4) and u.score == 0 for u in ev.units)  # 扣完为止


def test_roles_setting_leaves_cooperating_units_out(db, office):
    with db.session() as s:
        plan = new_plan(s)
        for name in ("牵头处", "配合处"):
            add_unit(s, office, name, at(date(2026, 1, 5)))
        _, assignments = add_task(
            s,
            office,
            "政策解读",
            ["配合处"],
            JUN30,
            at(date(2026, 1, 5)),
            lead=["牵头处"],
            plan_id=plan.id,
        )
        for a in assignments:
            a.role = "cooperating" if a.role == "responsible" else a.role
            s.add(a)
        plan_id = plan.id
    assert {u.unit for u in sheet(db, plan_id, YEAR_END).units} == {"牵头处", "配合处"}
    only_lead = replace(RULES, roles=("lead", "responsible"))
    assert {u.unit for u in sheet(db, plan_id, YEAR_END, only_lead).units} == {"牵头处"}


# -- waivers --------------------------------------------------------------------------------------
def test_waiver_keeps_the_row_and_records_history(db, office, one_task):
    plan_id, unit, aid = one_task
    play(db, office, unit, aid, [(date(2026, 10, 9), "report", REPORT)])
    with db.session() as s:
        waive(s, office, aid, "late_days", "国庆期间系统停机，经核实属实", at(date(2027, 1, 5)))
    ev = sheet(db, plan_id, YEAR_END)
    rows = {r.rule: r for r in ev.rows}
    assert (
        rows["late_days"].waived
        and rows["late_days"].waiver_reason == "国庆期间系统停机，经核实属实"
    )
    assert rows["late_days"].points == Decimal(1) and rows["late_days"].counted == 0
    assert not rows["late"].waived
    (u,) = ev.units
    assert (u.deductions, u.waived, u.deducted, u.score) == (
        Decimal(1),
        Decimal(1),
        Decimal(1),
        Decimal(99),
    )
    with db.session() as s:
        h = s.exec(select(History).where(History.action == "waive")).one()
    assert (h.assignment_id, h.actor, h.data["rule"], h.reason) == (
        aid,
        "办公室",
        "late_days",
        "国庆期间系统停机，经核实属实",
    )


def test_waiver_refusals(db, office, one_task):
    _, unit, aid = one_task
    when = at(date(2027, 1, 5))
    with db.session() as s:
        with pytest.raises(PermissionDenied, match="仅办公室"):
            waive(s, unit, aid, "late", "理由", when)
        with pytest.raises(InvalidInput, match="需要说明理由"):
            waive(s, office, aid, "late", "  ", when)
        with pytest.raises(InvalidInput, match="未知扣分规则"):
            waive(s, office, aid, "early", "理由", when)
        with pytest.raises(NotFound, match="#999"):
            waive(s, office, 999, "late", "理由", when)
        waive(s, office, aid, "late", "理由", when)
    with db.session() as s, pytest.raises(Conflict, match="已于 2027-01-05 由办公室免扣"):
        waive(s, office, aid, "late", "再次", when)
    with db.session() as s:
        assert len(s.exec(select(Waiver)).all()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12:late_days", (12, "late_days")),
        (" 7：逾期完成 ", (7, "late")),
        ("3:returned", (3, "returned")),
    ],
)
def test_row_ids(text, expected):
    assert parse_row_id(text) == expected


@pytest.mark.parametrize("text", ["12", "late:12", "12:early", ":late", "x:late"])
def test_bad_row_ids(text):
    with pytest.raises(InvalidInput, match="扣分行"):
        parse_row_id(text)


def test_unit_sees_only_its_own_rows(db, office):
    with db.session() as s:
        plan = new_plan(s)
        a_unit, _ = new_assignment(s, office, plan, "甲科", JUN30)
        new_assignment(s, office, plan, "乙科", JUN30)
        ev = score_plan(s, plan.id, YEAR_END, calendar=CAL, rules=RULES)
        mine = restrict(ev, s, a_unit)
        assert {u.unit for u in mine.units} == {"甲科"} and {r.unit for r in mine.rows} == {"甲科"}
        assert {u.unit for u in restrict(ev, s, office, "乙科").units} == {"乙科"}
        with pytest.raises(InvalidInput, match="只能查看本单位"):
            restrict(ev, s, a_unit, "乙科")


def test_find_plan(db):
    with db.session() as s:
        with pytest.raises(NotFound, match="还没有工作计划"):
            find_plan(s, None)
        p1 = new_plan(s, 2025)
        assert find_plan(s, None).id == p1.id
        p2 = new_plan(s, 2026)
        assert find_plan(s, "2026").id == p2.id
        assert find_plan(s, str(p1.id)).id == p1.id
        with pytest.raises(InvalidInput, match="有多个工作计划"):
            find_plan(s, None)
        with pytest.raises(NotFound, match="不存在"):
            find_plan(s, "2030")
        with pytest.raises(InvalidInput, match="编号或年份"):
            find_plan(s, "二〇二六")


# -- rules ----------------------------------------------------------------------------------------
def test_default_rules():
    rules = parse_rules({})
    assert rules == ScoringRules()
    assert (rules.base, rules.late_task, rules.late_day, rules.late_day_cap) == (
        100,
        1,
        Decimal("0.1"),
        1,
    )
    assert (rules.never_reported, rules.returned_after, rules.returned, rules.unit_limit) == (
        3,
        2,
        Decimal("0.5"),
        100,
    )


def test_rules_from_the_office_toml(tmp_path):
    (tmp_path / "duban.toml").write_text(
        "[scoring]\nbase = 4\nlate_task = 0.2\nlate_day = 0.02\nunit_cap = 2\nroles = ['lead', 'responsible']\n",
        encoding="utf-8",
    )
    rules = load_rules(
        load_config({"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_DATA_DIR": str(tmp_path)})
    )
    assert (rules.base, rules.late_task, rules.late_day, rules.unit_limit) == (
        4,
        Decimal("0.2"),
        Decimal("0.02"),
        2,
    )
    assert rules.roles == ("lead", "responsible")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"late_day": -1}, "late_day 应为不小于 0 的数字（分），而不是 -1"),
        ({"late_task": "1分"}, "late_task 应为不小于 0 的数字"),
        ({"base": 0}, "base 应大于 0"),
        ({"unit_cap": True}, "unit_cap 应为不小于 0 的数字"),
        ({"never_reported": float("inf")}, "never_reported 应为不小于 0 的数字"),
        ({"returned_after": 0}, "returned_after 应为 1 到 1000 之间的整数"),
        ({"returned_after": 1.5}, "returned_after 应为 1 到 1000 之间的整数"),
        ({"returned_each": "yes"}, "returned_each 应为 true 或 false"),
        ({"roles": ["leader"]}, "roles 应为非空列表"),
        ({"late_days": 1}, "未知设置 late_days"),
    ],
)
def test_bad_rules_are_one_chinese_line(raw, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        parse_rules(raw, "/etc/duban/duban.toml")
    assert "/etc/duban/duban.toml 的 [scoring]" in str(info.value) and "\n" not in str(info.value)


# -- properties -----------------------------------------------------------------------------------
points = st.decimals(min_value=0, max_value=50, places=2)
rules_st = st.builds(
    ScoringRules,
    base=st.decimals(min_value=1, max_value=100, places=1),
    late_task=points,
    late_day=points,
    late_day_cap=points,
    never_reported=points,
    returned_after=st.integers(1, 4),
    returned=points,
    returned_each=st.booleans(),
    unit_cap=points,
)
days = st.dates(date(2026, 1, 1), date(2027, 3, 31))


def _within_caps(rows, rules: ScoringRules, max_returns: int) -> None:
    for r in rows:
        assert r.points >= 0
        if r.rule == "late":
            assert r.points == rules.late_task
        elif r.rule == "late_days":
            assert rules.late_day_cap == 0 or r.points <= rules.late_day_cap
            assert r.points <= rules.late_day * r.days_late
        elif r.rule == "never_reported":
            assert r.points == rules.never_reported
        else:
            assert r.points <= rules.returned * max(1, max_returns)


@given(rules=rules_st, due=days, report=st.none() | days, as_of=days, returned=st.integers(0, 6))
@settings(max_examples=300, deadline=None)
def test_one_assignment_stays_within_the_caps(rules, due, report, as_of, returned):
    if report is not None and report > as_of:
        report = None
    rows = assess(Facts(due, report, returned), as_of, YEAR_END, rules, CAL)
    _within_caps(rows, rules, returned)
    assert len({r.rule for r in rows}) == len(rows)
    if report is not None and report <= due and returned < rules.returned_after:
        assert rows == []


task_st = st.tuples(
    st.integers(0, 300),  # due: days after 5 January 2026
    st.none() | st.integers(-20, 120),  # report: days after the due date
    st.integers(0, 3),  # returns before that report
)


@given(
    rules=rules_st,
    tasks=st.lists(st.lists(task_st, min_size=1, max_size=3), min_size=1, max_size=3),
    as_of=days,
)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_plan_deductions_stay_within_the_caps(db, office, rules, tasks, as_of):
    """Random plans built through the lifecycle: no negative points, nothing above a cap."""
    with db.session() as s:
        plan = new_plan(s)
        plan_id = plan.id
        built = []
        for unit_tasks in tasks:
            unit = add_unit(s, office, f"随机{next(names)}科", at(date(2026, 1, 5)))
            for i, (due_offset, report_offset, returns) in enumerate(unit_tasks):
                due = date(2026, 1, 5) + timedelta(due_offset)
                _, (a,) = add_task(
                    s, office, f"任务{i}", [unit.name], due, at(date(2026, 1, 5)), plan_id=plan.id
                )
                built.append((unit_caller(unit), a.id, due, report_offset, returns))
    for unit, aid, due, report_offset, returns in built:
        steps = []
        start = due - timedelta(30)
        for k in range(returns):
            steps += [
                (start + timedelta(2 * k), "report", REPORT),
                (start + timedelta(2 * k + 1), "return", {"reason": "退回"}),
            ]
        if report_offset is not None:
            steps.append((due + timedelta(report_offset), "report", REPORT))
        play(db, office, unit, aid, steps)
    ev = sheet(db, plan_id, as_of, rules)
    _within_caps(ev.rows, rules, 3)
    for u in ev.units:
        assert 0 <= u.deducted <= rules.unit_limit
        assert u.deducted == min(u.deductions, rules.unit_limit)
        assert 0 <= u.score <= rules.base
        assert u.deductions == sum(
            (r.points for r in ev.rows if r.unit_id == u.unit_id), Decimal(0)
        )

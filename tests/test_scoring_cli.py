"""``duban score`` and ``duban score waive`` through the real CLI on a real database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from dbsnap import snapshot
from scoring_world import SCORING_TOML, build_world

from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.directory.tokens import issue_token
from workflow.storage.db import Database

OFFICE = Caller(role="office", name="办公室")
OFFICE_NOW = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)


@pytest.fixture
def world(cli_env, duban):
    """The shared small plan in the CLI's database, with the test rules in its duban.toml."""
    Path(cli_env["DUBAN_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(cli_env["DUBAN_CONFIG_DIR"], "duban.toml").write_text(SCORING_TOML, encoding="utf-8")
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    try:
        yield build_world(db, OFFICE), db
    finally:
        db.engine.dispose()


def test_score_json_ranks_units_with_evidence(duban, world):
    data = duban.json("score", "--plan", "2026", "--as-of", "2026-12-31")
    assert data["forecast"] is False and data["as_of"] == "2026-12-31"
    units = {u["unit"]: u for u in data["units"]}
    assert {n: (u["rank"], u["score"], u["deducted"]) for n, u in units.items()} == {
        "办公室": (1, 100.0, 0.0),
        "信息中心": (2, 99.0, 1.0),
        "法规处": (3, 98.0, 2.0),
        "审批处": (4, 95.0, 5.0),
    }
    assert units["法规处"]["on_time_rate"] == 0.0 and units["办公室"]["on_time_rate"] == 1.0
    _, aid = world[0]["法规处"]
    row = next(r for r in data["deductions"] if r["row"] == f"{aid}:late_days")
    assert row == {
        "row": f"{aid}:late_days",
        "unit": "法规处",
        "task_id": row["task_id"],
        "task_number": None,
        "task": "发布规范性文件的政策解读 <b>",
        "assignment_id": aid,
        "period": "",
        "rule": "late_days",
        "rule_label": "逾期工作日",
        "due": "2026-09-30",
        "original_due": "2026-09-30",
        "report_date": "2026-10-09",
        "working_days_late": 2,
        "points": 1.0,
        "forecast": False,
        "waived": False,
        "waiver_reason": None,
        "waived_by": None,
        "note": "截止 2026-09-30，2026-10-09 报送，逾期 2 个工作日",
        "source": "manual",
        "source_label": "手工新增",
        "plan_id": world[0]["plan_id"],
        "target": None,
        "reported_count": None,
    }


def test_score_table_without_plan_and_detail(duban, world):
    out = duban.ok("score", "--as-of", "2026-12-31", "--detail").stdout
    for text in (
        "排名",
        "按时完成率",
        "审批处",
        "95",
        "扣分明细",
        "年底未报送",
        "逾期工作日",
        "2026-10-09",
    ):
        assert text in out
    _, aid = world[0]["审批处"]
    assert f"{aid}:never_reported" in out
    short = duban.ok("score", "--as-of", "2026-12-31")
    assert "扣分明细" not in short.stdout and "--detail" in short.stdout


def test_score_during_the_year_is_a_forecast(duban, world):
    result = duban.ok("score", "--plan", "1", "--as-of", "2026-10-09")
    assert "以上为预测" in result.stderr
    data = duban.json("score", "--as-of", "2026-10-09")
    approvals = {u["unit"]: u["deducted"] for u in data["units"]}
    assert approvals["审批处"] == 2.0  # 1 for late + 2 working days × 0.5, if nothing changes
    assert data["forecast"] is True


def test_score_for_one_unit(duban, world):
    data = duban.json("score", "--as-of", "2026-12-31", "--unit", "法规处")
    assert [u["unit"] for u in data["units"]] == ["法规处"]
    assert {r["unit"] for r in data["deductions"]} == {"法规处"}
    assert data["units"][0]["rank"] == 3  # the rank among all units


def test_a_unit_sees_only_itself(duban, world):
    _, db = world
    with db.session() as s:
        token = issue_token(s, OFFICE, "审批处", OFFICE_NOW)
    data = duban.json("score", "--as-of", "2026-12-31", token=token)
    assert [u["unit"] for u in data["units"]] == ["审批处"]
    result = duban("score", "--as-of", "2026-12-31", "--unit", "法规处", token=token)
    assert result.exit_code == 2 and "只能查看本单位" in result.stderr


def test_waive_then_the_row_shows_the_reason(duban, world):
    (w, db) = world
    _, aid = w["法规处"]
    out = duban.json("score", "waive", f"{aid}:late_days", "--reason", "国庆期间系统故障，经核实")
    assert out["row"] == f"{aid}:late_days" and out["actor"] == "办公室"
    data = duban.json("score", "--as-of", "2026-12-31")
    row = next(r for r in data["deductions"] if r["row"] == f"{aid}:late_days")
    assert row["waived"] is True and row["waiver_reason"] == "国庆期间系统故障，经核实"
    unit = next(u for u in data["units"] if u["unit"] == "法规处")
    assert (unit["deducted"], unit["waived"], unit["score"]) == (1.0, 1.0, 99.0)
    history = duban.json("task", "show", str(aid))["history"]
    assert history[-1]["action"] == "waive" and history[-1]["reason"] == "国庆期间系统故障，经核实"
    detail = duban.ok("score", "--as-of", "2026-12-31", "--detail").stdout
    assert "已免扣" in detail and "免扣理由：国庆期间系统" in detail
    again = duban("score", "waive", f"{aid}:逾期工作日", "--reason", "重复")
    assert again.exit_code == 5 and "已于" in again.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["score", "waive", "12-late", "--reason", "x"], 2, "扣分行“12-late”无效"),
        (["score", "waive", "999:late", "--reason", "x"], 3, "任务 #999 不存在"),
        (["score", "waive", "1:late", "--reason", " "], 2, "需要说明理由"),
        (["score", "--plan", "2031"], 3, "工作计划 #2031 不存在"),
        (["score", "--as-of", "2026-02-30"], 2, "--as-of 日期无效"),
    ],
)
def test_bad_input_is_one_chinese_line(duban, world, args, code, message):
    before = snapshot(world[1].engine)
    result = duban(*args)
    assert result.exit_code == code
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert snapshot(world[1].engine) == before


def test_only_the_office_waives(duban, world):
    w, db = world
    unit_caller, aid = w["审批处"]
    with db.session() as s:
        token = issue_token(s, OFFICE, "审批处", OFFICE_NOW)
    before = snapshot(db.engine)
    result = duban("score", "waive", f"{aid}:never_reported", "--reason", "自己申请", token=token)
    assert result.exit_code == 4 and "仅办公室" in result.stderr
    assert snapshot(db.engine) == before


def test_bad_scoring_config(duban, world, cli_env):
    Path(cli_env["DUBAN_CONFIG_DIR"], "duban.toml").write_text(
        "[scoring]\nlate_day = -0.5\n", encoding="utf-8"
    )
    result = duban("score", "--as-of", "2026-12-31")
    assert result.exit_code == 7
    assert "[scoring] late_day 应为不小于 0 的数字（分），而不是 -0.5" in result.stderr
    assert result.stderr.count("\n") == 1


def test_rules_command(duban, world):
    data = duban.json("score", "rules")
    assert data["late_day"] == 0.5 and data["never_reported"] == 5.0 and data["unit_cap"] == 0.0
    out = duban.ok("score", "rules").stdout
    assert "每逾期 1 个工作日扣 0.5 分，单项最多扣 3 分" in out and "扣完为止" in out


# -- the whole year (issue 16) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["score"], "还没有可考核的任务"),
        (["score", "--year", "2026"], "还没有可考核的任务"),
        (["plan", "list"], "还没有工作计划"),
        (["task", "list"], "没有符合条件的任务"),
    ],
)
def test_an_empty_office_is_not_an_error(duban, args, words):
    result = duban.ok(*args)
    assert words in result.stdout and "提示：" in result.stdout and result.stderr == ""
    assert duban.json(*args) == []


def test_hand_added_work_and_events_count_in_the_year(duban, cli_env):
    Path(cli_env["DUBAN_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(cli_env["DUBAN_CONFIG_DIR"], "duban.toml").write_text(
        SCORING_TOML + "event_late = 0.5\n", encoding="utf-8"
    )
    duban.ok("unit", "add", "法规处")
    duban.ok("unit", "add", "办公室")
    (added,) = duban.json("task", "add", "清理过期文件", "--unit", "法规处", "--due", "2026-06-30")
    plans = duban.json("plan", "list")
    assert [(p["year"], p["title"]) for p in plans] == [
        (2026, "2026年度督办任务（手工新增、事件时限）")
    ]
    assert added["plan_id"] == plans[0]["id"]
    event = duban.json(
        "event",
        "add",
        "政策解读",
        "--date",
        "2026-09-25",
        "--unit",
        "办公室",
        "--ref",
        "粤卫〔2026〕5号",
    )
    assert event["plan_id"] == plans[0]["id"] and event["due"] == "2026-09-30"
    unit_token = duban.json("token", "issue", "法规处")["token"]
    office_unit = duban.json("token", "issue", "办公室")["token"]
    for token, aid, when in ((unit_token, added["id"], "2026-07-01T10:00"),
                             (office_unit, event["id"], "2026-10-09T10:00")):  # fmt: skip
        duban.env["DUBAN_NOW"] = when  # the fixture's own env (a copy in client mode)
        duban.ok("task", "report", str(aid), "--text", "已完成", "--count", "2", token=token)
    for args in (["--year", "2026"], ["--plan", str(plans[0]["id"])], []):
        data = duban.json("score", "--as-of", "2026-12-31", *args)
        rows = {(r["unit"], r["rule"]): r for r in data["deductions"]}
        assert rows[("法规处", "late")]["source_label"] == "手工新增"
        assert rows[("办公室", "late")]["source_label"] == "事件时限：政策解读"
        assert rows[("办公室", "late")]["points"] == 0.5  # event_late
        assert rows[("法规处", "late")]["points"] == 1.0
        assert data["sources"] == {"manual": 1, "event": 1}
    shown = duban.json("task", "show", str(added["id"]))
    assert shown["reports"][0]["count"] == 2


def test_report_count_is_checked(duban, world):
    w, db = world
    _, aid = w["审批处"]
    with db.session() as s:
        token = issue_token(s, OFFICE, "审批处", OFFICE_NOW)
    before = snapshot(db.engine)
    result = duban("task", "report", str(aid), "--text", "x", "--count", "-1", token=token)
    assert result.exit_code == 2 and "--count" in result.stderr
    assert snapshot(db.engine) == before


def test_several_years_need_a_year(duban, world):
    w, db = world
    duban.ok("task", "add", "明年的任务", "--unit", "法规处", "--due", "2027-03-31")
    result = duban("score", "--as-of", "2028-01-05")
    assert result.exit_code == 2 and "有多个年度的工作（2026、2027）" in result.stderr
    assert duban.json("score", "--as-of", "2026-12-31")["year"] == 2026  # as_of's year
    data = duban.json("score", "--year", "2027", "--as-of", "2027-12-31")
    assert [r["task"] for r in data["deductions"]] == ["明年的任务"]

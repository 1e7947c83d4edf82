"""Review fixes for the year-end evaluation, its exported files and the calendar commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbsnap import snapshot
from scoring_world import SCORING_TOML, build_world

from workflow.directory.roles import Caller
from workflow.storage.db import Database

OFFICE = Caller(role="office", name="办公室")


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


# -- waive: only a row that is in the sheet ------------------------------------------------------
def test_waiving_a_row_nobody_was_charged_is_refused(duban, cli_env, world):
    w, _ = world
    _, on_time = w["办公室"]  # reported on time, never returned: no deduction at all
    _, late = w["法规处"]  # late, but never returned
    before = snapshot(cli_env["DUBAN_DATABASE_URL"])
    for row in (f"{on_time}:late", f"{late}:returned", f"{late}:never_reported"):
        result = duban("score", "waive", row, "--reason", "经核实")
        assert result.exit_code == 2, result.output
        assert "没有扣分" in result.stderr and "duban score --detail" in result.stderr
        assert "\n" not in result.stderr.strip()
    assert snapshot(cli_env["DUBAN_DATABASE_URL"]) == before


def test_a_forecast_row_can_be_waived_before_year_end(duban, world):
    """DUBAN_NOW is 2026-03-02: the never-reported row exists only in the year-end forecast."""
    w, _ = world
    _, never = w["审批处"]
    duban.ok("score", "waive", f"{never}:never_reported", "--reason", "已以纸质件报送，经核实")
    data = duban.json("score", "--as-of", "2026-12-31")
    row = next(r for r in data["deductions"] if r["row"] == f"{never}:never_reported")
    assert row["waived"] is True


def test_waive_by_a_unit_is_refused_before_anything_is_computed(duban, world):
    w, db = world
    from datetime import datetime

    from workflow.dates.clock import SHANGHAI
    from workflow.directory.tokens import issue_token

    with db.session() as s:
        token = issue_token(s, OFFICE, "法规处", datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    _, late = w["法规处"]
    result = duban("score", "waive", f"{late}:returned", "--reason", "x", token=token)
    assert result.exit_code != 0 and "仅办公室" in result.stderr


# -- ledger export: units' differing due dates grouped by date ------------------------------------
# -- ledger export: one due date per row, a unit's extension in its state ------------------------
def test_ledger_one_due_date_per_row_extension_in_state(tmp_path, db, office):
    from datetime import date, datetime

    from openpyxl import load_workbook
    from scoring_world import new_assignment, new_plan

    from workflow.dates.clock import SHANGHAI
    from workflow.directory.units import add_unit
    from workflow.ledger.export import export_ledger_xlsx, ledger_table
    from workflow.storage.models import Assignment
    from workflow.tasks.assignments import add_task

    when = datetime(2026, 1, 5, 10, tzinfo=SHANGHAI)
    with db.session() as s:
        plan = new_plan(s)
        for name in ("办公室", "法规处", "宣传与对外交流合作科"):
            add_unit(s, office, name, when)
        _, items = add_task(
            s,
            office,
            "政策解读",
            ["办公室", "法规处", "宣传与对外交流合作科"],
            date(2026, 11, 30),
            when,
            plan_id=plan.id,
        )
        extended = next(a for a in items if a.unit_id != items[0].unit_id)
        s.get(Assignment, extended.id).due = date(2026, 12, 14)
        new_assignment(s, office, plan, "信息中心", date(2026, 11, 30))  # one unit: a date cell
        plan_id = plan.id
    with db.session() as s:
        table = ledger_table(s, plan_id)
        export_ledger_xlsx(s, plan_id, tmp_path / "台账.xlsx")
    header = next(r for r in table.rows if r.kind == "header").values
    due_col, state_col = header.index("截止日期"), header.index("状态")
    tasks = [r for r in table.rows if r.kind == "task"]
    # one date per row (issue 17): the ledger's date; the unit given more time says so in 状态
    assert [r.values[due_col] for r in tasks] == [date(2026, 11, 30), date(2026, 11, 30)]
    states = tasks[0].values[state_col].split("\n")
    assert sum("延期至 2026-12-14" in line for line in states) == 1
    ws = load_workbook(tmp_path / "台账.xlsx").active
    cell = next(c for row in ws.iter_rows() for c in row if c.value == tasks[0].values[state_col])
    assert cell.alignment.vertical == "top"


# -- calendar commands ------------------------------------------------------------------------------
def test_calendar_add_zero_says_which_case_applies(duban):
    off = duban.ok("calendar", "add", "2026-10-03", "0").stdout
    assert off.startswith("2026-10-08（周四）") and "2026-10-03 是休息日，顺延至下一个工作日" in off
    on = duban.json("calendar", "add", "2026-10-08", "0")
    assert on["result"] == "2026-10-08" and on["meaning"] == "2026-10-08 当天（工作日，无需顺延）"


def test_calendar_month_grid_has_equal_columns(duban):
    """2027-01 has marks only from Friday on: the seven columns still have one width."""
    out = duban("calendar", "show", "2027-01").stdout
    header = next(line for line in out.splitlines() if "一" in line and "日" in line)
    cells = [c for c in header.split("┃")[1:-1]]
    assert len(cells) == 7 and len({len(c) for c in cells}) == 1

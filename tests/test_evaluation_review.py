"""Review fixes for the year-end evaluation, its exported files and the calendar commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbsnap import snapshot
from scoring_world import SCORING_TOML, build_world

from workflow.db import Database
from workflow.directory.roles import Caller

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

    from workflow.clock import SHANGHAI
    from workflow.directory.tokens import issue_token

    with db.session() as s:
        token = issue_token(s, OFFICE, "法规处", datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    _, late = w["法规处"]
    result = duban("score", "waive", f"{late}:returned", "--reason", "x", token=token)
    assert result.exit_code != 0 and "仅办公室" in result.stderr


# -- the detail sheet: a total that adds up, and a width that prints ------------------------------
@pytest.fixture
def evaluation(db):
    from datetime import date, datetime

    from scoring_world import CAL, RULES

    from workflow.clock import SHANGHAI
    from workflow.evaluation.scores import score_plan, waive

    world = build_world(db, OFFICE)
    _, aid = world["法规处"]
    with db.session() as s:
        waive(s, OFFICE, aid, "late_days", "经核实", datetime(2027, 1, 5, 9, tzinfo=SHANGHAI))
    with db.session() as s:
        return score_plan(s, world["plan_id"], date(2026, 12, 31), calendar=CAL, rules=RULES)


def test_detail_sheet_ends_with_a_total_matching_the_summary(tmp_path, evaluation):
    from openpyxl import load_workbook

    from workflow.evaluation.workbook import write_evaluation_xlsx

    ev = evaluation
    wb = load_workbook(write_evaluation_xlsx(ev, tmp_path / "考核.xlsx"))
    detail = wb["扣分明细"]
    last = 3 + len(ev.rows) + 1
    assert detail.max_row == last
    assert detail.cell(last, 1).value == f"合计（{len(ev.rows)} 条，其中免扣 1 条）"
    points, counted = detail.cell(last, 12).value, detail.cell(last, 13).value
    assert points == float(sum(r.points for r in ev.rows))
    summary = [[c.value for c in row] for row in wb["考核汇总"].iter_rows(min_row=4)]
    assert counted == sum(r[4] for r in summary)  # 扣分合计（未封顶）, unit by unit
    assert points - counted == sum(r[5] for r in summary)  # 免扣分值
    assert detail.auto_filter.ref == f"A3:P{3 + len(ev.rows)}"  # the total is not filtered


def test_detail_sheet_fits_a4_landscape(tmp_path, evaluation):
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    from workflow.evaluation.workbook import write_evaluation_xlsx

    detail = load_workbook(write_evaluation_xlsx(evaluation, tmp_path / "考核.xlsx"))["扣分明细"]
    widths = [detail.column_dimensions[get_column_letter(i)].width for i in range(1, 17)]
    # ~190 character widths print at about 80% on A4 landscape (was 254: about 60%)
    assert sum(widths) <= 195
    assert detail.column_dimensions["E"].width == 4  # 期次 is empty in this plan
    assert detail.page_setup.orientation == "landscape" and detail.page_setup.fitToWidth == 1


def test_html_detail_ends_with_a_total_and_prints_landscape(evaluation):
    from workflow.evaluation.scores import fmt_points
    from workflow.evaluation.workbook import evaluation_html

    ev = evaluation
    page = evaluation_html(ev)
    counted = sum(r.counted for r in ev.rows)
    waived = sum(r.points for r in ev.rows) - counted
    total = f"合计（{len(ev.rows)} 条，其中免扣 1 条）"
    assert total in page and f"{fmt_points(counted)}（另免扣 {fmt_points(waived)}）" in page
    assert "<tfoot" not in page  # a tfoot would be repeated on every printed page
    assert "size: A4 landscape" in page and "thead { display: table-header-group; }" in page


# -- ledger export: one due date per row, a unit's extension in its state ------------------------
def test_ledger_one_due_date_per_row_extension_in_state(tmp_path, db, office):
    from datetime import date, datetime

    from openpyxl import load_workbook
    from scoring_world import new_assignment, new_plan

    from workflow.clock import SHANGHAI
    from workflow.directory.units import add_unit
    from workflow.ledger.export import export_ledger_xlsx, ledger_table
    from workflow.models import Assignment
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

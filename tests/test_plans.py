"""``duban plan list|show``: which plans were imported and where their assignments stand."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import YINCHUAN_DIRECTORY, add_directory, build_yinchuan_xlsx, write_xlsx


@pytest.fixture
def imported(duban, office_db, tmp_path: Path):
    with office_db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
    duban.ok("import", build_yinchuan_xlsx(tmp_path / "银川市卫健委2023年任务落实台账.xlsx"))
    return duban


def test_no_plans_yet(duban):
    assert duban.json("plan", "list") == []
    assert "duban import" in duban.ok("plan", "list").stdout
    missing = duban("plan", "show")
    assert missing.exit_code == 3 and "还没有工作计划" in missing.stderr


def test_list_and_show_an_imported_plan(imported):
    [listed] = imported.json("plan", "list")
    assert listed["year"] == 2023 and "任务落实台账" in listed["title"]
    assert listed["report_dates"] == ["2023-07-31", "2023-11-30"]
    assert listed["tasks"] == 14 and listed["assignments"] == listed["states"]["assigned"] > 0
    shown = imported.json("plan", "show", "2023")
    assert (
        shown == imported.json("plan", "show", str(listed["id"])) == imported.json("plan", "show")
    )
    assert shown["source_file"].endswith(".xlsx")
    table = imported.ok("plan", "list").stdout
    assert "已逾期" in table and "07-31、11-30" in table


def test_counts_follow_the_lifecycle(imported):
    [first] = imported.json("task", "list")[:1]
    imported.ok("task", "cancel", str(first["id"]), "--reason", "任务调整")
    states = imported.json("plan", "show")["states"]
    assert states["cancelled"] == 1


def test_two_plans_of_one_year_need_the_id(imported, tmp_path: Path):
    rows = [["2023年补充任务"], ["序号", "工作任务", "责任单位"], [1, "补充公开", "办公室"]]
    imported.ok("import", write_xlsx(tmp_path / "补充.xlsx", rows))
    assert len(imported.json("plan", "list")) == 2
    ambiguous = imported("plan", "show", "2023")
    assert ambiguous.exit_code == 2 and "请用计划编号指定" in ambiguous.stderr
    assert imported("plan", "show", "1999").exit_code == 3
    bad = imported("plan", "show", "二〇二三")
    assert bad.exit_code == 2 and "应为计划编号或年份" in bad.stderr

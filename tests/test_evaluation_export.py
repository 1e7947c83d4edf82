"""The evaluation workbook and HTML report, read back (openpyxl, html.parser)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from dbsnap import snapshot
from openpyxl import load_workbook
from scoring_world import CAL, RULES, YEAR_END, build_world

from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.evaluation.scores import score_plan, waive
from workflow.storage.db import Database

OFFICE = Caller(role="office", name="办公室")


@pytest.fixture
def evaluation(db):
    world = build_world(db, OFFICE)
    _, aid = world["法规处"]
    with db.session() as s:
        waive(
            s,
            OFFICE,
            aid,
            "late_days",
            "国庆期间系统故障，经核实",
            datetime(2027, 1, 5, 9, tzinfo=SHANGHAI),
        )
    with db.session() as s:
        return score_plan(s, world["plan_id"], YEAR_END, calendar=CAL, rules=RULES), world


def test_cli_export_writes_both_files(duban, cli_env, tmp_path):
    Path(cli_env["DUBAN_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    build_world(db, OFFICE)
    db.engine.dispose()
    xlsx, html = tmp_path / "out" / "考核.xlsx", tmp_path / "out" / "考核.html"
    xlsx.parent.mkdir()
    data = duban.json(
        "export",
        "evaluation",
        "--plan",
        "2026",
        str(xlsx),
        "--html",
        str(html),
        "--as-of",
        "2026-12-31",
    )
    assert (
        data["files"] == [str(xlsx), str(html)] and data["units"] == 4 and data["deductions"] == 4
    )
    assert load_workbook(xlsx).sheetnames == ["考核汇总", "扣分明细", "扣分规则"]
    assert "bar counted" in html.read_text(encoding="utf-8")
    only_html = tmp_path / "out" / "report.HTML"
    result = duban.ok("export", "evaluation", str(only_html), "--as-of", "2026-10-09")
    assert "已导出" in result.stdout and "预测" in result.stderr
    assert only_html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in xlsx.parent.iterdir()) == [
        "report.HTML",
        "考核.html",
        "考核.xlsx",
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["x.xls"], 2, "文件名应以 .xlsx 或 .html 或 .htm 结尾"),
        (["x.xlsx", "--html", "x.pdf"], 2, "文件名应以 .html 或 .htm 结尾"),
        (["missing/x.xlsx"], 2, "目录 missing 不存在"),
        ([], 2, "请给出导出文件名"),
        (["x.html", "--html", "x.html"], 2, "不能写入同一个文件"),
        (["--plan", "2031", "x.xlsx"], 3, "工作计划 #2031 不存在"),
    ],
)
def test_cli_export_refusals(duban, cli_env, tmp_path, monkeypatch, args, code, message):
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    build_world(db, OFFICE)
    before = snapshot(db.engine)
    monkeypatch.chdir(tmp_path)
    result = duban("export", "evaluation", *args)
    assert result.exit_code == code and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert list(tmp_path.glob("x.*")) == [] and snapshot(db.engine) == before
    db.engine.dispose()

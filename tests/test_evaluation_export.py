"""The evaluation workbook and HTML report, read back (openpyxl, html.parser)."""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dbsnap import snapshot
from openpyxl import load_workbook
from scoring_world import CAL, RULES, YEAR_END, build_world

from workflow.clock import SHANGHAI
from workflow.db import Database
from workflow.directory.roles import Caller
from workflow.evaluation.scores import score_plan, waive
from workflow.evaluation.workbook import (
    DETAIL_COLUMNS,
    SUMMARY_COLUMNS,
    evaluation_html,
    write_evaluation_xlsx,
)

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


def test_workbook_reads_back(tmp_path, evaluation):
    ev, world = evaluation
    path = write_evaluation_xlsx(ev, tmp_path / "考核.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["考核汇总", "扣分明细", "扣分规则"]

    summary = wb["考核汇总"]
    assert summary["A1"].value == "2026年政务公开工作要点 政务公开绩效考核扣分汇总"
    assert summary["A2"].value == "截至 2026-12-31；基础分 100 分"
    assert [c.value for c in summary[3]] == [name for name, _ in SUMMARY_COLUMNS]
    assert summary.freeze_panes == "C4"
    assert summary.print_title_rows == "$3:$3"
    assert summary.column_dimensions["B"].width == 24
    body = [[c.value for c in row] for row in summary.iter_rows(min_row=4)]
    assert [r[:4] for r in body] == [
        [1, "办公室", 100, 0],
        [2, "信息中心", 99, 1],
        [2, "法规处", 99, 1],
        [4, "审批处", 95, 5],
    ]
    fagui = body[2]
    assert (fagui[4], fagui[5], fagui[6], fagui[7], fagui[8], fagui[9]) == (1, 1, 2, 1, 0, 0)
    assert (
        summary.cell(4, 10).number_format == "0.0%" and summary.cell(4, 3).number_format == "0.00"
    )

    detail = wb["扣分明细"]
    assert [c.value for c in detail[3]] == [name for name, _ in DETAIL_COLUMNS]
    assert detail.freeze_panes == "C4" and detail.auto_filter.ref == f"A3:P{3 + len(ev.rows)}"
    rows = {r[0]: r for r in ([c.value for c in row] for row in detail.iter_rows(min_row=4))}
    _, aid = world["法规处"]
    late_days = rows[f"{aid}:late_days"]
    assert late_days[1:7] == [
        "法规处",
        None,
        "发布规范性文件的政策解读 <b>",
        None,
        aid,
        "逾期工作日",
    ]
    assert late_days[7:10] == [datetime(2026, 9, 30), datetime(2026, 9, 30), datetime(2026, 10, 9)]
    assert late_days[10:] == [
        2,
        1,
        0,
        "是",
        "国庆期间系统故障，经核实",
        "截止 2026-09-30，2026-10-09 报送，逾期 2 个工作日",
    ]
    _, never = world["审批处"]
    assert rows[f"{never}:never_reported"][9] == "未报送"
    assert rows[f"{never}:never_reported"][11] == 5
    # layout: dates formatted, long text wrapped at the top, waived row shaded, rows grown
    row_no = 4 + list(rows).index(f"{aid}:late_days")
    assert detail.cell(row_no, 8).number_format == "yyyy-mm-dd"
    assert (
        detail.cell(row_no, 16).alignment.wrap_text
        and detail.cell(row_no, 16).alignment.vertical == "top"
    )
    assert detail.cell(row_no, 1).fill.fgColor.rgb.endswith("E8F3E8")
    assert detail.row_dimensions[row_no].height >= 18
    assert detail.cell(3, 1).font.b

    rules = [[c.value for c in row] for row in wb["扣分规则"].iter_rows(min_row=4)]
    assert ["逾期工作日", "逾期工作日：每逾期 1 个工作日扣 0.5 分，单项最多扣 3 分"] in rules


def test_forecast_is_said_in_the_workbook(tmp_path, db):
    world = build_world(db, OFFICE)
    with db.session() as s:
        ev = score_plan(s, world["plan_id"], date(2026, 10, 9), calendar=CAL, rules=RULES)
    wb = load_workbook(write_evaluation_xlsx(ev, tmp_path / "预测.xlsx"))
    assert "2026 年尚未结束，为预测" in wb["考核汇总"]["A2"].value
    labels = [row[6].value for row in wb["扣分明细"].iter_rows(min_row=4)]
    assert "逾期完成（预测）" in labels


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_with_a_chart(evaluation):
    ev, _ = evaluation
    page = evaluation_html(ev)
    parsed = _Collect()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    assert "svg" in tags and "script" not in tags and "link" not in tags and "img" not in tags
    # no outside resources: the only URL is the SVG namespace
    assert re.findall(r"https?://[^\"' <]+", page) == ["http://www.w3.org/2000/svg"]
    counted = [a for t, a in parsed.tags if t == "rect" and a.get("class") == "counted"]
    waived = [a for t, a in parsed.tags if t == "rect" and a.get("class") == "waived"]
    assert len(counted) == len(ev.units) == 4
    widths = [float(a["width"]) for a in counted]
    assert widths[0] == 0 and widths[-1] == max(widths)  # 审批处 lost most: longest bar
    assert len(waived) == 1 and float(waived[0]["width"]) > 0
    text = "".join(parsed.text)
    assert "发布规范性文件的政策解读 <b>" in text and "<b>" not in page.replace("&lt;b&gt;", "")
    assert "国庆期间系统故障，经核实" in text and "年底未报送" in text


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
    assert "<svg" in html.read_text(encoding="utf-8")
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

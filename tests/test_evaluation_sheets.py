"""The sheets a committee signs: the workbook and the HTML report, read back.

The shared small plan (scoring_world.build_world) plus a task whose title a unit typed as a
formula, one waived row; scored at year end with the test rules.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from scoring_world import CAL, REPORT, RULES, YEAR_END, at, build_world, play

from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.evaluation.report import evaluation_html
from workflow.evaluation.scores import score_plan, waive
from workflow.evaluation.workbook import (
    HEADER_ROW,
    LINE_HEIGHT,
    SUMMARY_COLUMNS,
    detail_columns,
    lines_for,
    write_evaluation_xlsx,
)
from workflow.tasks.assignments import add_task

OFFICE = Caller(role="office", name="办公室")
TYPED = ['=HYPERLINK("http://evil.example/","点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)"]
MADE_ON = date(2027, 1, 6)


@pytest.fixture
def sheet(db):
    world = build_world(db, OFFICE)
    _, aid = world["法规处"]
    with db.session() as s:
        waive(s, OFFICE, aid, "late_days", "国庆期间系统故障，经核实", at(date(2027, 1, 5)))
        _, typed = add_task(
            s, OFFICE, TYPED[0], ["审批处"], date(2026, 6, 30), at(date(2026, 1, 5)),
            content="要求", plan_id=world["plan_id"],
        )  # fmt: skip
    unit = world["审批处"][0]
    play(db, OFFICE, unit, typed[0].id, [(date(2026, 7, 1), "report", REPORT)])
    with db.session() as s:
        ev = score_plan(s, world["plan_id"], YEAR_END, calendar=CAL, rules=RULES)
    return ev, world, typed[0].id


def _values(ws):
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_workbook_for_the_committee(tmp_path, sheet):
    ev, world, typed = sheet
    path = write_evaluation_xlsx(
        ev, tmp_path / "考核.xlsx", office="市卫健委办公室", made_on=MADE_ON
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["考核汇总", "扣分明细", "扣分规则"]
    summary, detail = wb["考核汇总"], wb["扣分明细"]
    # title, 制表单位 / 制表日期, scope, header
    assert summary["A1"].value == "2026年政务公开工作要点 政务公开绩效考核扣分汇总表"
    assert "制表单位：市卫健委办公室" in summary["A2"].value
    assert (
        "制表日期：2027-01-06" in summary["A2"].value
        and "考核截至：2026-12-31" in summary["A2"].value
    )
    assert summary["A3"].value.startswith("考核范围：工作计划 #")
    assert [c.value for c in summary[HEADER_ROW]] == [n for n, _ in SUMMARY_COLUMNS]
    ranked = [r[:4] for r in _values(summary)[HEADER_ROW : HEADER_ROW + 4]]
    assert ranked == [[1, "办公室", 100, 0], [2, "信息中心", 99, 1], [2, "法规处", 99, 1],
                      [4, "审批处", 93.5, 6.5]]  # fmt: skip
    # the detail: Chinese rule names as columns, one row per task, parts side by side
    header = [c.value for c in detail[HEADER_ROW]]
    assert header == [n for n, _ in detail_columns(ev)]
    assert header[8:12] == ["逾期完成", "逾期工作日扣分", "年底未报送", "报送被退回"]
    rows = _values(detail)[HEADER_ROW:]
    text = "\n".join(str(v) for row in _values(detail) for v in row if v is not None)
    assert not re.search(r"\d+:(late|late_days|never_reported|returned|target)\b", text)
    _, fagui = world["法规处"]
    line = next(r for r in rows if r[2] == fagui)
    assert line[1] == "法规处" and line[3] == "手工新增" and line[7] == 2
    assert line[8:12] == [1, 1, None, None]  # 逾期完成 1 and 逾期工作日 1 on the same row
    assert line[12:14] == [1, 1]  # 免扣 1 (逾期工作日), counted 1 (逾期完成)
    assert "已免扣逾期工作日 1 分：国庆期间系统故障，经核实" in line[14]
    # text a unit typed stays text, never a formula
    typed_row = next(r for r in rows if r[2] == typed)
    assert typed_row[4] == TYPED[0]
    cell = next(c for c in detail[HEADER_ROW + 1 + rows.index(typed_row)] if c.value == TYPED[0])
    assert cell.data_type == "s"
    # a subtotal per unit, a total that matches the summary
    subtotals = [r for r in rows if isinstance(r[0], str) and "小计" in r[0]]
    assert [r[0] for r in subtotals] == [
        "信息中心 小计（1 项任务）", "法规处 小计（1 项任务）", "审批处 小计（2 项任务）",
    ]  # fmt: skip
    approvals = subtotals[-1]
    assert approvals[8:12] == [1, 0.5, 5, None] and approvals[13] == 6.5
    total = next(r for r in rows if isinstance(r[0], str) and r[0].startswith("合计"))
    assert total[0] == f"合计（4 项任务，{len(ev.rows)} 项扣分）"
    assert total[13] == float(sum(u.deductions for u in ev.units))
    assert total[12] == float(sum(u.waived for u in ev.units))
    # the lines the committee signs
    assert any("审核人" in str(r[0]) for r in rows) and any("制表人" in str(r[0]) for r in rows)


def test_workbook_prints_and_never_clips(tmp_path, sheet):
    ev, _, _ = sheet
    wb = load_workbook(write_evaluation_xlsx(ev, tmp_path / "考核.xlsx"))
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
        assert ws.HeaderFooter.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(HEADER_ROW + 1))
        merged = {r.min_row for r in ws.merged_cells.ranges if r.min_col == 1 and r.max_col > 2}
        widths = [ws.column_dimensions[chr(65 + i)].width for i in range(ws.max_column)]
        for row in ws.iter_rows(min_row=HEADER_ROW):
            height = ws.row_dimensions[row[0].row].height
            for cell in row:
                if not isinstance(cell.value, str) or not cell.value:
                    continue
                width = sum(widths) if cell.row in merged else widths[cell.column - 1]
                lines = lines_for(cell.value, width)
                assert height >= LINE_HEIGHT * lines, (ws.title, cell.coordinate, cell.value)
                if cell.row not in merged:
                    assert cell.alignment.wrap_text or lines == 1
    detail = wb["扣分明细"]
    widths = [detail.column_dimensions[chr(65 + i)].width for i in range(detail.max_column)]
    assert sum(widths) <= 195  # prints at about 80% on A4 landscape


def test_forecast_is_said_in_the_workbook(tmp_path, db):
    world = build_world(db, OFFICE)
    with db.session() as s:
        ev = score_plan(s, world["plan_id"], date(2026, 10, 9), calendar=CAL, rules=RULES)
    wb = load_workbook(write_evaluation_xlsx(ev, tmp_path / "预测.xlsx"))
    assert "2026 年尚未结束，为预测" in wb["考核汇总"]["A2"].value
    rows = _values(wb["扣分明细"])
    assert any(r[6] == "未报送（预测）" for r in rows)
    assert any(isinstance(r[14], str) and r[14].startswith("（预测）") for r in rows)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_and_escaped(sheet):
    ev, _, _ = sheet
    page = evaluation_html(ev, office="市卫健委办公室", made_on=MADE_ON)
    parsed = _Collect()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    assert not {"script", "link", "img", "iframe"} & set(tags)
    assert not any("href" in a or "src" in a for _, a in parsed.tags)  # typed links stay text
    assert "<a " not in page and "&#34;http://evil.example/&#34;" in page
    text = "".join(parsed.text)
    assert TYPED[0] in text and "发布规范性文件的政策解读 <b>" in text and "<b>" not in page
    bars = [a for t, a in parsed.tags if t == "span" and "bar counted" in a.get("class", "")]
    waived = [a for t, a in parsed.tags if t == "span" and "bar waived" in a.get("class", "")]
    assert len(bars) == len(ev.units) == 4 and len(waived) == 1
    assert bars[-1]["style"] == "width:100.0%"  # 审批处 lost most: the full bar
    for words in ("制表单位（盖章）：市卫健委办公室", "审核人", "制表日期：2027-01-06", "小计",
                  "合计（4 项任务", "逾期工作日扣分", "事件时限任务", "counter(page)"):  # fmt: skip
        assert words in page, words
    assert "late_days" not in text and "never_reported" not in text


PHONE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>?</title></head><body
style="margin:0"><iframe id="f" style="width:390px;height:3000px;border:0" srcdoc="{page}"></iframe>
<script>
window.onload = function () {{
  var doc = document.getElementById("f").contentDocument;
  var wide = [];
  doc.querySelectorAll("body *").forEach(function (e) {{
    if (e.getBoundingClientRect().right > 390.5) wide.push(e.tagName + "." + e.className);
  }});
  var n = doc.querySelectorAll("tr").length;
  document.title = "W" + doc.documentElement.scrollWidth + " N" + n + " " + wide.slice(0, 5).join(",");
}};
</script></body></html>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")
def test_html_fits_a_phone(tmp_path, sheet):
    """Rendered by headless Chromium in a 390 px frame: nothing wider than the screen."""
    ev, _, _ = sheet
    page = evaluation_html(ev)
    path = tmp_path / "phone.html"
    path.write_text(PHONE.format(page=html.escape(page, quote=True)), encoding="utf-8")
    out = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=800,3000",
         "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    found = re.search(r"<title>W(\d+) N(\d+) ?(.*?)</title>", out.stdout)
    assert found, out.stderr[-500:]
    assert int(found.group(2)) > 10  # the report's table rows were laid out
    assert int(found.group(1)) <= 390 and found.group(3) == "", found.group(0)


def test_points_add_up_in_the_html(sheet):
    ev, _, _ = sheet
    page = evaluation_html(ev)
    counted = sum((r.counted for r in ev.rows), Decimal(0))
    assert f'<td class="num" data-label="计入扣分">{counted.normalize():f}</td>' in page
    assert datetime(2026, 1, 1, tzinfo=SHANGHAI)  # (the fixture's clock is Shanghai time)

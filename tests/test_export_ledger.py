"""Ledger export: write .xlsx/.csv from a real database, read them back, check the cells."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import unit_caller
from openpyxl import load_workbook

from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.directory.units import add_unit
from workflow.errors import InvalidInput, NotFound, PermissionDenied
from workflow.ledger.export import (
    EVENT_SECTION,
    HEADERS,
    export_ledger,
    export_ledger_csv,
    export_ledger_xlsx,
    ledger_table,
)
from workflow.storage.models import Assignment, Plan, Task
from workflow.tasks.assignments import create_assignment
from workflow.tasks.lifecycle import fire

TITLE = "银川市卫生健康委员会2023年政务公开工作要点任务落实台账"
S1 = "一、围绕重点领域，加大主动公开力度"
S2 = "二、强化重要政策发布，加大同步解读力度"
S2A = "（一）政策文件"
T0 = datetime(2023, 3, 1, 9, 0, tzinfo=SHANGHAI)
AS_OF = date(2023, 12, 5)


@pytest.fixture
def plan(db, office):
    """A small 2023 银川-shaped plan: 4 tasks in 2 sections, reports in several states."""
    with db.session() as s:
        units = {
            name: add_unit(s, office, name, T0)
            for name in (
                "办公室",
                "健康综合科",
                "财务审计科",
                "法规与综合监督科",
                "宣传与对外交流合作科",
            )
        }
        p = Plan(
            year=2023,
            title=TITLE,
            issuer="银川市卫生健康委员会",
            report_dates=["2023-07-31", "2023-11-30"],
        )
        s.add(p)
        s.flush()

        def task(section, number, title, units_, due, **kw):
            t = Task(
                plan_id=p.id,
                section_path=section,
                number=number,
                title=title,
                content=kw.get("content", f"{title}的具体要求"),
                metric=kw.get("metric"),
                deadline_text=kw.get("deadline_text", "11月"),
                lead_units=kw.get("lead", []),
                responsible_units=[n for n in units_ if n not in kw.get("lead", [])],
                cooperating_units=kw.get("coop", []),
                created_at=T0,
            )
            s.add(t)
            s.flush()
            out = []
            for name in units_ + kw.get("coop", []):
                for period, d in due if isinstance(due, list) else [("", due)]:
                    role = "cooperating" if name in kw.get("coop", []) else "responsible"
                    role = "lead" if name in kw.get("lead", []) else role
                    out.append(
                        create_assignment(
                            s, t, units[name], due=d, actor=office, now=T0, role=role, period=period
                        )
                    )
            return t, out

        _, a1 = task([S1], "4", "抓好公共卫生知识的宣传普及。", ["健康综合科"], date(2023, 11, 30),
                     metric="查看本部门发布情况")  # fmt: skip
        _, a2 = task([S1], "3", "抓好自身建设信息公开。", ["财务审计科", "法规与综合监督科"], date(2023, 11, 30),
                     coop=["办公室"])  # fmt: skip
        _, a3 = task(
            [S2, S2A], "6", "加强政策文件精准发布。", ["宣传与对外交流合作科"], date(2023, 11, 30),
            lead=["宣传与对外交流合作科"],
        )  # fmt: skip
        _, a4 = task(
            [S2, S2A],
            "13",
            "坚持正向激励。",
            ["办公室"],
            [("2023-07-31", date(2023, 7, 31)), ("2023-11-30", date(2023, 11, 30))],
            deadline_text="长期坚持",
        )
        ids = {
            "health": a1[0].id,
            "finance": a2[0].id,
            "legal": a2[1].id,
            "coop": a2[2].id,
            "publicity": a3[0].id,
            "office_q3": a4[0].id,
            "office_q4": a4[1].id,
        }
        callers = {k: unit_caller(units[n]) for k, n in [("health", "健康综合科"), ("finance", "财务审计科"),
                   ("legal", "法规与综合监督科"), ("office", "办公室")]}  # fmt: skip
        plan_id = p.id

    def at(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, 10, 0, tzinfo=SHANGHAI)

    # health reports on time and is verified
    with db.session() as s:
        fire(s, ids["health"], "report", callers["health"], now=at(date(2023, 7, 20)),
             text="已发布健康科普作品12篇", evidence=["https://wjw.yinchuan.gov.cn/1.html"])  # fmt: skip
        fire(s, ids["health"], "verify", office, now=at(date(2023, 7, 21)))
    # finance reports; legal does not (overdue as of 12-05); the office reports Q3 late
    with db.session() as s:
        fire(
            s,
            ids["finance"],
            "report",
            callers["finance"],
            now=at(date(2023, 11, 28)),
            text="预决算已公开",
        )
        fire(s, ids["legal"], "start", callers["legal"], now=at(date(2023, 8, 1)))
        fire(s, ids["office_q3"], "expire", Caller.system(), now=at(date(2023, 8, 1)))
        fire(
            s,
            ids["office_q3"],
            "report",
            callers["office"],
            now=at(date(2023, 8, 3)),
            text="上半年考核已完成",
        )
    return plan_id, ids


def read_xlsx(path: Path):
    wb = load_workbook(path)
    ws = wb.active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    return wb, ws, rows


def test_xlsx_layout_and_cells(db, plan, tmp_path):
    plan_id, _ = plan
    path = tmp_path / "台账.xlsx"
    with db.session() as s:
        summary = export_ledger_xlsx(s, plan_id, path, as_of=AS_OF)
    assert (summary.tasks, summary.format) == (4, "xlsx")
    _, ws, rows = read_xlsx(path)

    assert rows[0][0] == TITLE
    assert rows[1][0] == "填报单位：银川市卫生健康委员会　　状态截至：2023-12-05"
    assert rows[2][0] == "请于2023年7月31日、2023年11月30日前报送进展落实情况"
    assert rows[3] == HEADERS
    assert HEADERS[:8] == ["序号", "工作任务", "具体要求", "量化指标", "牵头单位", "责任单位", "完成时限", "进展落实情况"]  # fmt: skip
    assert [r[0] for r in rows[4:]] == [S1, "4", "3", S2, S2A, "6", "13"]

    by_number = {r[0]: dict(zip(HEADERS, r, strict=True)) for r in rows[4:] if r[1]}
    health = by_number["4"]
    assert health["工作任务"] == "抓好公共卫生知识的宣传普及。"
    assert health["量化指标"] == "查看本部门发布情况"
    assert health["责任单位"] == "健康综合科"
    assert health["牵头单位"] is None
    assert by_number["6"]["牵头单位"] == "宣传与对外交流合作科"
    assert health["完成时限"] == "11月"
    assert health["进展落实情况"] == (
        "已发布健康科普作品12篇（2023-07-20报送，佐证：https://wjw.yinchuan.gov.cn/1.html）"
    )
    assert health["状态"] == "已核验"
    assert health["截止日期"] == datetime(2023, 11, 30)  # a real date cell
    assert health["是否逾期"] is None

    shared = by_number["3"]
    assert shared["责任单位"] == "财务审计科、法规与综合监督科；协办：办公室"
    assert shared["进展落实情况"] == "财务审计科：预决算已公开（2023-11-28报送）"
    assert shared["状态"] == "财务审计科：已报送\n法规与综合监督科：办理中\n办公室：已分派"
    assert shared["是否逾期"] == "法规与综合监督科：逾期\n办公室：逾期"

    ongoing = by_number["13"]
    assert ongoing["完成时限"] == "长期坚持"
    assert ongoing["进展落实情况"] == "上半年考核已完成（2023-08-03报送，逾期报送）"
    assert ongoing["状态"] == "已分派（2023-11-30，已报送 1/2）"
    assert ongoing["截止日期"] == datetime(2023, 11, 30)
    assert ongoing["是否逾期"] == "逾期"  # the 11-30 period is open on 12-05

    assert by_number["6"]["进展落实情况"] is None
    assert by_number["6"]["是否逾期"] == "逾期"


def test_xlsx_opens_without_cleanup(db, plan, tmp_path):
    plan_id, _ = plan
    path = tmp_path / "台账.xlsx"
    with db.session() as s:
        export_ledger_xlsx(s, plan_id, path, as_of=AS_OF)
    wb, ws, rows = read_xlsx(path)
    assert ws.freeze_panes == "A5"  # title, 填报单位 line, report dates, header stay in view
    assert ws.print_title_rows == "$4:$4"
    assert ws.column_dimensions["C"].width == 50  # 具体要求
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABCDEFGHIJK")
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:L1", "A2:L2", "A3:L3", "A5:L5", "A8:L8", "A9:L9"} <= merged  # 12 columns
    task_row = 6
    assert ws.cell(task_row, 3).alignment.wrap_text
    assert ws.cell(task_row, 3).alignment.vertical == "top"
    assert ws.cell(4, 1).font.b
    assert ws.row_dimensions[7].height >= 15 * 3  # three lines in 状态 of the shared task
    assert ws.cell(task_row, 10).number_format == "yyyy-mm-dd"
    assert ws.page_setup.orientation == "landscape"


def test_csv_is_utf8_with_bom_and_same_rows(db, plan, tmp_path):
    plan_id, _ = plan
    xlsx, csv_path = tmp_path / "a.xlsx", tmp_path / "a.csv"
    with db.session() as s:
        export_ledger_xlsx(s, plan_id, xlsx, as_of=AS_OF)
        summary = export_ledger_csv(s, plan_id, csv_path, as_of=AS_OF)
    assert summary.format == "csv"
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    assert rows[0] == [TITLE]
    assert rows[3] == HEADERS
    assert [r[0] for r in rows[4:]] == [S1, "4", "3", S2, S2A, "6", "13"]
    _, _, xrows = read_xlsx(xlsx)
    for crow, xrow in zip(rows[4:], xrows[4:], strict=True):
        if len(crow) == 1:
            continue
        expected = [
            v.date().isoformat() if isinstance(v, datetime) else ("" if v is None else str(v))
            for v in xrow
        ]
        assert crow == expected


def test_without_as_of_only_recorded_states_count(db, plan):
    plan_id, _ = plan
    with db.session() as s:
        table = ledger_table(s, plan_id)
    marks = {r.values[0]: r.values[10] for r in table.rows if r.kind == "task"}
    # the 11-30 ones are not expired yet; the late report of 13's first period still shows
    assert marks == {"4": "", "3": "", "6": "", "13": "逾期报送"}
    assert "状态截至" not in table.rows[1].values[0]


def test_event_tasks_come_last(db, plan, office):
    from calendars import ChinaCalendar
    from workflow.tasks.events import add_event

    plan_id, _ = plan
    with db.session() as s:
        add_event(s, office, "依申请公开", date(2023, 9, 1), "办公室", "申请 2023-01",
                  calendar=ChinaCalendar(), now=T0, plan_id=plan_id)  # fmt: skip
        table = ledger_table(s, plan_id, as_of=AS_OF)
    tail = table.rows[-2:]
    assert tail[0].kind == "section" and tail[0].values[0] == EVENT_SECTION
    assert tail[1].values[1] == "依申请公开：申请 2023-01"
    assert tail[1].values[6] == "20个工作日内"
    assert tail[1].values[10] == "逾期"


def test_export_refusals(db, plan, tmp_path, office):
    plan_id, _ = plan
    with db.session() as s:
        with pytest.raises(InvalidInput):
            export_ledger(s, office, plan_id, tmp_path / "a.docx")
        with pytest.raises(NotFound):
            export_ledger(s, office, 99, tmp_path / "a.xlsx")
        with pytest.raises(InvalidInput):
            export_ledger(s, office, plan_id, tmp_path / "missing" / "a.xlsx")
        with pytest.raises(PermissionDenied):
            export_ledger(
                s, Caller(role="unit", name="办公室", unit_id=1), plan_id, tmp_path / "a.xlsx"
            )
        # by year, when one plan has it
        summary = export_ledger(s, office, 2023, tmp_path / "a.xlsx", as_of=AS_OF)
        assert summary.plan_id == plan_id
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in {".xlsx", ".csv"}) == ["a.xlsx"]


def test_exported_file_reads_back_as_a_ledger(db, plan, tmp_path):
    """The importer's own reader and parser find the same tasks in the exported file."""
    from workflow.ledger.parse import parse_ledger
    from workflow.ledger.readers import read_source

    plan_id, _ = plan
    for suffix in (".xlsx", ".csv"):
        path = tmp_path / f"2023台账{suffix}"
        with db.session() as s:
            (export_ledger_xlsx if suffix == ".xlsx" else export_ledger_csv)(
                s, plan_id, path, as_of=AS_OF
            )
        parsed = parse_ledger(read_source(path))
        assert parsed.title == TITLE
        # (the importer drops a title's closing 。)
        assert [(t.section_path, t.number, t.title) for t in parsed.tasks] == [
            ([S1], "4", "抓好公共卫生知识的宣传普及"),
            ([S1], "3", "抓好自身建设信息公开"),
            ([S2, S2A], "6", "加强政策文件精准发布"),
            ([S2, S2A], "13", "坚持正向激励"),
        ]
        assert [t.deadline_text for t in parsed.tasks] == ["11月", "11月", "11月", "长期坚持"]
        shared = parsed.tasks[1]
        assert [(m.name, m.role) for m, _ in shared.units] == [
            ("财务审计科", "responsible"),
            ("法规与综合监督科", "responsible"),
            ("办公室", "cooperating"),
        ]


def test_cli_export_ledger(duban, tmp_path):
    from workflow.storage.db import Database

    db = Database(duban.env["DUBAN_DATABASE_URL"])
    with db.session() as s:
        s.add(Plan(year=2023, title=TITLE))
    db.engine.dispose()
    out = tmp_path / "out.xlsx"
    result = duban.json("export", "ledger", "--plan", "2023", str(out), "--as-of", "2023-12-05")
    assert result["format"] == "xlsx" and result["tasks"] == 0 and result["as_of"] == "2023-12-05"
    assert load_workbook(out).active["A1"].value == TITLE
    bad = duban("export", "ledger", "--plan", "2030", str(tmp_path / "x.xlsx"))
    assert bad.exit_code == NotFound.exit_code
    assert bad.stderr.startswith("错误：工作计划") and "Traceback" not in bad.output
    wrong = duban("export", "ledger", "--plan", "2023", str(tmp_path / "x.pdf"))
    assert wrong.exit_code == InvalidInput.exit_code and ".xlsx 或 .csv" in wrong.stderr


# -- issue 15/17: round trip, one date per row, text that is never a formula -----------------


@pytest.fixture
def imported(db, office, tmp_path):
    """The Yinchuan ledger imported, then worked on: reports (one typed like a formula), a
    late report, an extension."""
    from ledgers import YINCHUAN_DIRECTORY, add_directory, build_yinchuan_xlsx
    from sqlmodel import select

    from calendars import ChinaCalendar
    from workflow.ledger.importing import import_ledger
    from workflow.storage.models import Assignment, Unit

    with db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
    with db.session() as s:
        result = import_ledger(
            s, office, build_yinchuan_xlsx(tmp_path / "银川2023台账.xlsx"),
            calendar=ChinaCalendar(), now=T0,
        )  # fmt: skip
    with db.session() as s:
        rows = s.exec(select(Assignment, Unit).join(Unit).order_by(Assignment.id)).all()
        first, second, third = rows[0], rows[1], rows[2]
        fire(s, first[0].id, "report", unit_caller(first[1]), now=T0,
             text="=HYPERLINK(\"http://evil.example\",\"点此查看\")", evidence=["+cmd|' /C calc'!A0"])  # fmt: skip
        fire(s, second[0].id, "report", unit_caller(second[1]), now=T0, text="@SUM(1+1) 已完成")
        fire(s, third[0].id, "extend", office, now=T0, reason="等待上级文件",
             new_due=date(2023, 12, 15))  # fmt: skip
    return result.plan["id"], third[0].id


def _snapshot(db):
    from sqlmodel import select

    from workflow.storage.models import Assignment, History, Plan

    with db.session() as s:
        plan = s.exec(select(Plan)).one()
        rows = [
            (a.id, a.task_id, a.unit_id, a.role, a.period, a.state, a.due, a.original_due)
            for a in s.exec(select(Assignment).order_by(Assignment.id)).all()
        ]
        tasks = [
            (t.id, t.source_key, t.title, t.content, t.lead_units, t.responsible_units)
            for t in s.exec(select(Task).order_by(Task.id)).all()
        ]
        history = len(s.exec(select(History)).all())
        return plan.report_dates, tasks, rows, history


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_exported_ledger_imports_back_unchanged(db, office, imported, tmp_path, suffix):
    from calendars import ChinaCalendar
    from workflow.ledger.importing import import_ledger

    plan_id, _ = imported
    before = _snapshot(db)
    assert before[0] == ["2023-07-31", "2023-11-30"]
    path = tmp_path / f"导出{suffix}"
    with db.session() as s:
        export_ledger(s, office, plan_id, path, as_of=AS_OF)
    for dry_run in (True, False):
        with db.session() as s:
            result = import_ledger(
                s, office, path, calendar=ChinaCalendar(), now=T0, dry_run=dry_run
            )
        assert not result.changed and result.changes == [], result.changes
        assert result.plan["action"] == "unchanged"
        assert result.plan["report_dates"] == ["2023-07-31", "2023-11-30"]
    assert _snapshot(db) == before  # report dates, 长期坚持's periods, ids, history: as they were


def test_one_due_date_per_row_and_extensions_in_the_state(db, office, imported):
    plan_id, extended = imported
    with db.session() as s:
        table = ledger_table(s, plan_id, as_of=AS_OF)
        assert s.get(Assignment, extended).due == date(2023, 12, 15)
    rows = [r for r in table.rows if r.kind == "task"]
    headers = table.headers
    assert "牵头单位" not in headers  # the Yinchuan ledger names no lead: no empty column
    due, state = headers.index("截止日期"), headers.index("状态")
    assert all(isinstance(r.values[due], date) for r in rows)
    row = next(r for r in rows if "延期至 2023-12-15" in r.values[state])
    assert row.values[due] == date(2023, 11, 30)  # the ledger's date; the extension in 状态


def test_typed_text_is_text_in_xlsx_and_escaped_in_csv(db, office, imported, tmp_path):
    plan_id, _ = imported
    xlsx, csv_path = tmp_path / "a.xlsx", tmp_path / "a.csv"
    with db.session() as s:
        export_ledger(s, office, plan_id, xlsx, as_of=AS_OF)
        export_ledger(s, office, plan_id, csv_path, as_of=AS_OF)
    ws = load_workbook(xlsx).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    typed = [c for c in cells if "HYPERLINK" in c.value or "@SUM" in c.value]
    assert typed and all(c.data_type == "s" for c in typed)
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    text = csv_path.read_text(encoding="utf-8-sig")
    records = list(csv.reader(text.splitlines(keepends=True)))
    values = [v for r in records for v in r]
    assert any(v.startswith("'=HYPERLINK") for v in values)
    assert any("@SUM" in v for v in values)  # inside "单位：…": harmless there
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)


def test_rows_are_tall_enough_for_their_text(db, office, imported, tmp_path):
    from workflow.writing.files import lines_needed

    plan_id, _ = imported
    path = tmp_path / "a.xlsx"
    with db.session() as s:
        export_ledger(s, office, plan_id, path, as_of=AS_OF)
        table = ledger_table(s, plan_id, as_of=AS_OF)
    ws = load_workbook(path).active
    widths = dict(table.columns)
    for r, row in enumerate(table.rows, start=1):
        if row.kind != "task":
            continue
        for name, value in zip(table.headers, row.values, strict=True):
            text = value.isoformat() if isinstance(value, date) else str(value or "")
            # at least 15 pt for every line Excel wraps the cell into, whatever the font
            assert ws.row_dimensions[r].height >= 15 * lines_needed(text, widths[name]) + 3


def test_a_task_of_many_units_is_one_row_cut_at_excels_limits(db, office, tmp_path):
    """300 units' reports in one cell: the row is as tall as Excel allows, the text is cut at
    Excel's 32,767 characters (as openpyxl cuts it), control characters dropped; the CSV keeps
    everything."""
    from workflow.ledger.export import MAX_ROW_POINTS
    from workflow.storage.models import Report

    text = "已按要求完成相关信息公开，专栏已更新，详见门户网站政务公开专栏。" * 3 + "\x07"
    with db.session() as s:
        p = Plan(year=2023, title=TITLE, report_dates=["2023-11-30"])
        s.add(p)
        s.flush()
        task = Task(plan_id=p.id, section_path=[S1], number="1", title="全面公开", created_at=T0,
                    responsible_units=["各单位"])  # fmt: skip
        s.add(task)
        s.flush()
        for i in range(300):
            unit = add_unit(s, office, f"第{i + 1}单位", T0)
            a = create_assignment(s, task, unit, due=date(2023, 11, 30), actor=office, now=T0)
            s.add(Report(assignment_id=a.id, text=f"{text}{i}", evidence=[], actor="u",
                         created_at=T0))  # fmt: skip
        plan_id = p.id
    xlsx, csv_path = tmp_path / "a.xlsx", tmp_path / "a.csv"
    with db.session() as s:
        assert export_ledger(s, office, plan_id, xlsx, as_of=AS_OF).tasks == 1
        export_ledger(s, office, plan_id, csv_path, as_of=AS_OF)
    ws = load_workbook(xlsx).active
    report = ws.cell(6, HEADERS.index("进展落实情况")).value
    assert ws.cell(6, 1).value == "1" and ws.row_dimensions[6].height == MAX_ROW_POINTS
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines(keepends=True)))
    full = rows[-1][HEADERS.index("进展落实情况") - 1]  # (no 牵头单位 column in the CSV either)
    assert full.count("\n") == 299 and len(full) > 32767
    assert report == full[:32767].replace("\x07", "")
    assert report.startswith(f"第1单位：{text[:-1]}0（2023-03-01报送）\n第2单位：")

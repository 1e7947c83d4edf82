"""The ledger import against files shaped like the ones Chinese offices really send.

Each test builds a real file (openpyxl / python-docx / csv in GBK or with a BOM) in a shape seen
in the field and checks what the office expects: every task right, or a Chinese warning or error
naming file, sheet/table, row and column — never a silent wrong task.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import dbsnap
import openpyxl
import pytest
from ledgers import write_docx, write_xlsx
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.directory.units import add_unit
from workflow.errors import LedgerError
from workflow.ledger.importing import import_ledger, read_ledger
from workflow.storage.models import Assignment, Plan, Task

NOW = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)
LATER = datetime(2023, 4, 3, 1, 0, tzinfo=UTC)
CALENDAR = ChinaCalendar()
TITLE = "某市卫生健康委员会2023年政务公开工作任务分解表"
H4 = ["序号", "工作任务", "责任单位", "完成时限"]

# name, aliases, groups
DIRECTORY: list[tuple[str, list[str], list[str]]] = [
    ("办公室", [], ["各科室", "委机关各科室"]),
    ("财务科", [], ["各科室", "委机关各科室"]),
    ("政策法规科", ["法规科"], ["各科室", "委机关各科室"]),
    ("医政医管科", ["医政科"], ["各科室", "委机关各科室"]),
    ("疾控科", [], ["各科室", "委机关各科室"]),
    ("规划科", [], ["各科室", "委机关各科室"]),
    ("海域处", ["审批处"], []),
    ("第一人民医院", [], ["各单位", "委属各单位", "委属各医疗卫生单位"]),
    ("疾控中心", [], ["各单位", "委属各单位", "委属各医疗卫生单位"]),
]
DEPARTMENTS = ["办公室", "财务科", "政策法规科", "医政医管科", "疾控科", "规划科"]
AFFILIATES = ["第一人民医院", "疾控中心"]


def read(path: Path, **kw):
    return read_ledger(path, calendar=CALENDAR, **kw)


def by_number(planned) -> dict[str, object]:
    return {t.parsed.number: t for t in planned.tasks}


def units_of(planned_task) -> list[tuple[str, str]]:
    return [(m.name, m.role) for m, _ in planned_task.parsed.units]


def dues(planned_task) -> list[str]:
    return [d.due.isoformat() for d in planned_task.deadline.dues]


def snapshot(db) -> dict[str, list[tuple]]:
    return dbsnap.snapshot(db.engine)  # the office's data, not the server's bookkeeping


def run(db, office, path: Path, now: datetime = NOW, **kw):
    with db.session() as s:
        return import_ledger(s, office, path, calendar=CALENDAR, now=now, **kw)


@pytest.fixture
def directory(db, office):
    with db.session() as s:
        for name, aliases, groups in DIRECTORY:
            add_unit(s, office, name, NOW, aliases=aliases, groups=groups)


# -- xlsx: columns, headers, numbers, sections ----------------------------------------------------
def test_separate_lead_responsible_and_cooperating_columns(tmp_path: Path) -> None:
    """牵头单位 / 责任单位 / 配合单位 / 协办单位 columns; header cells broken or spaced out."""
    rows = [
        [TITLE],
        ["序号", "工作任务", "牵头\n单位", "责任\n单位", "配合单位", "协办单位", "完 成 时 限"],
        ["一、主动公开"],
        ["1、", "公开预算决算", "委办公室", "财务科", "规划科", "/", "11月底前"],
        ["2", "公开卫生监督信息", "", "疾控科", "", "医政科", "6月底前"],
    ]
    planned = read(write_xlsx(tmp_path / "a.xlsx", rows, merges=["A1:G1", "A3:G3"]))
    tasks = by_number(planned)
    assert list(tasks) == ["1", "2"]
    assert units_of(tasks["1"]) == [
        ("委办公室", "lead"),
        ("财务科", "responsible"),
        ("规划科", "cooperating"),
    ]
    assert units_of(tasks["2"]) == [("疾控科", "responsible"), ("医政科", "cooperating")]
    assert dues(tasks["1"]) == ["2023-11-30"] and dues(tasks["2"]) == ["2023-06-30"]
    assert tasks["1"].parsed.section_path == ["一、主动公开"]


def test_number_styles_and_subsections(tmp_path: Path) -> None:
    """序号 "1、" "（1）" "1.1"; a sub-section "（一）…" row inside a section; a section written
    only in the 序号 column (not merged) and one merged across the whole width."""
    rows = [
        [TITLE],
        H4,
        ["一、主动公开"],  # 序号 column only
        ["1、", "公开预算", "财务科", "11月底前"],
        ["（一）重点领域信息公开"],  # merged below
        ["（1）", "公开医疗信息", "医政科", "11月底前"],
        ["1.1", "公开疾控信息", "疾控科", "11月底前"],
        ["二", "政策解读", None, None],  # numeral in 序号, title beside it
        ["（二）", "解读材料", None, None],
        ["2", "发布解读", "政策法规科", "年底前"],
    ]
    planned = read(write_xlsx(tmp_path / "n.xlsx", rows, merges=["A1:D1", "A5:D5"]))
    got = [(t.parsed.number, t.parsed.title, t.parsed.section_path) for t in planned.tasks]
    assert got == [
        ("1", "公开预算", ["一、主动公开"]),
        ("（1）", "公开医疗信息", ["一、主动公开", "（一）重点领域信息公开"]),
        ("1.1", "公开疾控信息", ["一、主动公开", "（一）重点领域信息公开"]),
        ("2", "发布解读", ["二、政策解读", "（二）解读材料"]),
    ]
    assert len({t.parsed.key for t in planned.tasks}) == 4


def _deadline_rows(cells: list[object]) -> list[list[object]]:
    return [[TITLE], H4, *[[str(i), f"任务{i}", "办公室", c] for i, c in enumerate(cells, 1)]]


def test_deadline_cells_as_excel_stores_them(tmp_path: Path) -> None:
    """Real dates, datetimes, dotted and slashed dates, words; a month-only date format."""
    cells: list[object] = [
        datetime(2023, 11, 30),
        datetime(2023, 11, 30, 17, 30),
        date(2023, 6, 30),
        "2023.11.30",
        "2023/11/30",
        "11月30日",
        "2023年底",
        "12月中旬前",
        "持续推进",
        "全年",
        datetime(2023, 9, 1),  # typed "2023年9月", shown with a month-only format
    ]
    path = write_xlsx(tmp_path / "d.xlsx", _deadline_rows(cells), merges=["A1:D1"])
    wb = openpyxl.load_workbook(path)
    wb.active.cell(13, 4).number_format = 'yyyy"年"m"月"'
    wb.active.cell(3, 4).number_format = 'yyyy"年"m"月"d"日"'
    wb.save(path)
    planned = read(path, report_dates=[date(2023, 7, 31), date(2023, 11, 30)])
    t = by_number(planned)
    assert dues(t["1"]) == ["2023-11-30"] and t["1"].parsed.deadline_text == "2023年11月30日"
    assert dues(t["2"]) == ["2023-11-30"] and "17:30" in t["2"].parsed.deadline_text
    assert "17:30:00" not in t["2"].parsed.deadline_text
    assert dues(t["3"]) == ["2023-06-30"]
    assert dues(t["4"]) == dues(t["5"]) == dues(t["6"]) == ["2023-11-30"]
    assert dues(t["7"]) == ["2023-12-29"]  # 12-31 is a Sunday: the last working day before
    assert dues(t["8"]) == ["2023-12-20"]
    for n in ("9", "10"):
        assert t[n].deadline.kind == "ongoing" and dues(t[n]) == ["2023-07-31", "2023-11-30"]
    # what the office sees is "2023年9月": the end of September, not the 1st
    assert t["11"].parsed.deadline_text == "2023年9月"
    assert dues(t["11"]) == ["2023-09-28"]  # 9-29…10-8 is the National Day holiday
    assert not planned.warnings


def test_unreadable_deadlines_warn_with_the_cell(tmp_path: Path) -> None:
    """ "即时" and a bare serial number (a date cell formatted as 常规) are not guessed: the plan
    default applies and a warning names the cell; the serial's date is offered as a hint."""
    path = write_xlsx(tmp_path / "u.xlsx", _deadline_rows(["即时", 45230]), merges=["A1:D1"])
    planned = read(path)
    t = by_number(planned)
    assert t["1"].deadline.kind == t["2"].deadline.kind == "unreadable"
    assert dues(t["2"]) == ["2023-12-29"]
    text = "\n".join(planned.warnings)
    assert "u.xlsx：工作表“台账”第3行D列（完成时限）：无法识别完成时限「即时」" in text
    assert "u.xlsx：工作表“台账”第4行D列（完成时限）：无法识别完成时限「45230」" in text
    assert "2023年10月31日" in text  # the hint: what that serial number means as a date


def test_a_cell_naming_several_dates_keeps_every_date(tmp_path: Path) -> None:
    """ "6月、12月", dates on two lines, "6月启动，12月底前完成": one obligation per date, never
    only the first date (the December check silently dropped)."""
    cells = [
        "6月、12月",
        "10月31日前\n11月30日前",
        "6月启动，12月底前完成",
        "上半年完成，下半年巩固",
    ]
    path = write_xlsx(tmp_path / "m.xlsx", _deadline_rows(cells), merges=["A1:D1"])
    t = by_number(read(path))
    assert dues(t["1"]) == ["2023-06-30", "2023-12-29"]
    assert dues(t["2"]) == ["2023-10-31", "2023-11-30"]
    assert dues(t["3"]) == ["2023-06-30", "2023-12-29"]
    assert dues(t["4"]) == ["2023-06-30", "2023-12-29"]
    assert [d.period for d in t["1"].deadline.dues] == ["2023-06-30", "2023-12-29"]


# -- unit cells --------------------------------------------------------------------------------
def test_unit_cells_as_offices_write_them(db, office, directory, tmp_path: Path) -> None:
    rows = [
        [TITLE],
        H4,
        ["1", "各科室和各单位", "各科室、各单位", "11月"],
        ["2", "委属医疗卫生单位", "委属各医疗卫生单位", "11月"],
        ["3", "全角逗号和空格", "办公室，财务科　", "11月"],
        ["4", "空格分隔", "办公室 财务科  规划科", "11月"],
        ["5", "前缀", "委办公室、局财务科", "11月"],
        ["6", "全角括号别名", "海域处（审批处）", "11月"],
        ["7", "半角括号别名", "海域处(审批处)", "11月"],
        ["8", "牵头配合", "委办公室牵头，各科室配合", "11月"],
    ]
    result = run(db, office, write_xlsx(tmp_path / "u.xlsx", rows, merges=["A1:D1"]), dry_run=True)
    units = {v.number: [(u["name"], u["role"]) for u in v.units] for v in result.tasks}
    resp = lambda *names: [(n, "responsible") for n in names]  # noqa: E731
    assert units["1"] == resp(*DEPARTMENTS, *AFFILIATES)
    assert units["2"] == resp(*AFFILIATES)
    assert units["3"] == resp("办公室", "财务科")
    assert units["4"] == resp("办公室", "财务科", "规划科")
    assert units["5"] == resp("办公室", "财务科")
    assert units["6"] == units["7"] == resp("海域处")
    assert units["8"] == [("办公室", "lead")] + [
        (n, "cooperating") for n in DEPARTMENTS if n != "办公室"
    ]


def test_trailing_deng_names_the_units_written_and_warns(db, office, directory, tmp_path: Path):
    """ "办公室、财务科等": the units written get the task; the 等 is said out loud."""
    rows = [[TITLE], H4, ["1", "公开预算", "办公室、财务科等", "11月"]]
    result = run(db, office, write_xlsx(tmp_path / "e.xlsx", rows, merges=["A1:D1"]), dry_run=True)
    assert [u["name"] for u in result.tasks[0].units] == ["办公室", "财务科"]
    text = "\n".join(result.warnings)
    assert "e.xlsx：工作表“台账”第3行C列（责任单位）" in text and "等" in text


def test_unknown_unit_names_the_cell_and_changes_nothing(db, office, directory, tmp_path: Path):
    rows = [[TITLE], H4, ["1", "公开预算", "办公室、信息中心", "11月"]]
    before = snapshot(db)
    with pytest.raises(LedgerError) as err:
        run(db, office, write_xlsx(tmp_path / "x.xlsx", rows, merges=["A1:D1"]))
    assert "x.xlsx：工作表“台账”第3行C列（责任单位）：单位“信息中心”不在单位名录中" in str(
        err.value
    )
    assert snapshot(db) == before


# -- docx ----------------------------------------------------------------------------------------
def test_docx_title_row_tables_per_section_repeated_header_and_bullets(tmp_path: Path) -> None:
    """A contact table before the ledger; a merged title row; one table per section with the
    header repeated (also mid-table, as Word repeats it over pages); a cell of several
    paragraphs with bullets; an empty trailing row."""
    path = write_docx(
        tmp_path / "t.docx",
        [
            TITLE,
            "联系人",
            {"rows": [["姓名", "职务", "联系电话"], ["张三", "科长", "12345678"]]},
            {
                "rows": [
                    ["2023年政务公开任务分解表", "", "", ""],
                    H4,
                    ["一、主动公开", "", "", ""],
                    ["1", "公开预算\n• 部门预算\n• 部门决算", "财务科", "11月底前"],
                    ["", "", "", ""],
                ],
                "merges": [(0, 0, 0, 3), (2, 0, 2, 3)],
            },
            {
                "rows": [
                    H4,
                    ["二、政策解读", "", "", ""],
                    ["2", "解读政策", "政策法规科", "年底前"],
                    H4,
                    ["3", "回应关切", "办公室\n医政科", "上半年"],
                ],
                "merges": [(1, 0, 1, 3)],
            },
        ],
    )
    planned = read(path)
    got = [(t.parsed.number, t.parsed.section_path, dues(t)) for t in planned.tasks]
    assert got == [
        ("1", ["一、主动公开"], ["2023-11-30"]),
        ("2", ["二、政策解读"], ["2023-12-29"]),
        ("3", ["二、政策解读"], ["2023-06-30"]),
    ]
    assert "部门预算" in planned.tasks[0].parsed.title
    assert units_of(planned.tasks[2]) == [("办公室", "responsible"), ("医政科", "responsible")]
    assert planned.parsed.title == TITLE
    assert not planned.warnings


def test_docx_contact_table_after_the_ledger_is_not_read_as_tasks(tmp_path: Path) -> None:
    """A 联系人 table of the same width after the ledger: skipped with a warning, never tasks
    named after people with units called "电话"."""
    path = write_docx(
        tmp_path / "c.docx",
        [
            TITLE,
            {"rows": [H4, ["1", "公开预算", "财务科", "11月底前"]]},
            "各科室联系人",
            {"rows": [["科室", "联系人", "电话", "邮箱"], ["财务科", "张三", "12345", "a@b.cn"]]},
        ],
    )
    planned = read(path)
    assert [t.parsed.title for t in planned.tasks] == ["公开预算"]
    assert any("第2个表格" in w and "跳过" in w for w in planned.warnings)


@pytest.mark.parametrize("contact", ["0951-5012345", "13800138000", "zhangsan@yc.gov.cn"])
def test_docx_headerless_contact_table_numbered_like_the_ledger_is_skipped(
    tmp_path: Path, contact: str
) -> None:
    """Same width, a 序号 of "1", no header of its own: a phone or e-mail cell gives it away."""
    path = write_docx(
        tmp_path / "c.docx",
        [
            TITLE,
            {"rows": [H4, ["1", "公开预算", "财务科", "11月底前"]]},
            "联系方式",
            {"rows": [["1", "财务科", "张三", contact], ["2", "办公室", "李四", "13900139000"]]},
        ],
    )
    planned = read(path)
    assert [t.parsed.title for t in planned.tasks] == ["公开预算"]
    assert any("联系人表" in w and "跳过" in w for w in planned.warnings)


def test_docx_continuation_with_a_written_date_is_still_the_ledger(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "d.docx",
        [
            TITLE,
            {"rows": [H4, ["1", "公开预算", "财务科", "11月底前"]]},
            {"rows": [["2", "公开决算", "财务科", "2023-12-29"]]},
        ],
    )
    assert [t.parsed.title for t in read(path).tasks] == ["公开预算", "公开决算"]


def test_docx_table_split_without_repeated_header_continues(tmp_path: Path) -> None:
    """A ledger table split in two (the header not repeated) still reads as one ledger."""
    path = write_docx(
        tmp_path / "s.docx",
        [
            TITLE,
            {"rows": [H4, ["1", "公开预算", "财务科", "11月底前"]]},
            {"rows": [["2", "公开决算", "财务科", "12月底前"], ["3", "解读", "办公室", "年底前"]]},
        ],
    )
    assert [t.parsed.number for t in read(path).tasks] == ["1", "2", "3"]


# -- csv -----------------------------------------------------------------------------------------
def test_gbk_csv_from_wps_with_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "wps.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([TITLE, "", "", "", ""])
        w.writerow(["序号", "工作任务", "具体要求", "责任单位", "完成时限"])
        w.writerow(
            ["1", "公开预算", "按要求公开。\r\n2023年11月20日前完成", "财务科\r\n办公室", ""]
        )
        w.writerow(["2", "公开决算", "决算公开", "财务科，办公室", "6月底前"])
    planned = read(path)
    t = by_number(planned)
    assert dues(t["1"]) == ["2023-11-20"] and t["1"].deadline_text == "2023年11月20日前"
    assert (
        units_of(t["1"])
        == units_of(t["2"])
        == [("财务科", "responsible"), ("办公室", "responsible")]
    )
    assert t["1"].parsed.content == "按要求公开。\n2023年11月20日前完成"


def test_bom_csv_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow([TITLE])
        w.writerow(["序号", "工作任务", "具体要求", "责任单位", "完成时限"])
        w.writerow(["1", "公开预算", "预算;决算,都要公开", "财务科;办公室", "11月"])
    t = by_number(read(path))
    assert t["1"].parsed.content == "预算;决算,都要公开"
    assert units_of(t["1"]) == [("财务科", "responsible"), ("办公室", "responsible")]


# -- re-import -----------------------------------------------------------------------------------
def _plan_rows(title: str = TITLE, deadline2: str = "11月底前", units3: str = "疾控科"):
    return [
        [title],
        H4,
        ["一、主动公开"],
        ["1", "公开预算", "财务科", "11月底前"],
        ["2", "公开决算", "财务科", deadline2],
        ["3", "公开疾控信息", units3, "年底前"],
    ]


def test_reimport_after_one_deadline_and_one_unit_changed(db, office, directory, tmp_path):
    first = write_xlsx(tmp_path / "v1.xlsx", _plan_rows(), merges=["A1:D1", "A3:D3"])
    run(db, office, first)
    edited = write_xlsx(
        tmp_path / "v1.xlsx",
        _plan_rows(deadline2="10月底前", units3="医政科"),
        merges=["A1:D1", "A3:D3"],
    )
    before = snapshot(db)
    preview = run(db, office, edited, now=LATER, dry_run=True)
    assert snapshot(db) == before
    assert preview.counts == {
        "tasks_created": 0,
        "tasks_updated": 2,
        "tasks_removed": 0,
        "assignments_created": 1,
        "assignments_updated": 1,
        "assignments_cancelled": 1,
        "assignments_reopened": 0,
    }
    assert preview.changes == [
        "任务 2“公开决算”的完成时限：“11月底前” → “10月底前”",
        "任务 2“公开决算”的分派 财务科（一次性）：截止日期 2023-11-30 → 2023-10-31",
        "任务 3“公开疾控信息”的责任单位：疾控科 → 医政医管科",
        "任务 3“公开疾控信息”新增分派：医政医管科（一次性，截止 2023-12-29）",
        "撤销任务 3“公开疾控信息”的分派：疾控科",
    ]
    assert {v.number: v.status for v in preview.tasks} == {
        "1": "unchanged",
        "2": "updated",
        "3": "updated",
    }
    applied = run(db, office, edited, now=LATER)
    assert applied.counts == preview.counts and applied.changes == preview.changes
    assert not run(db, office, edited, now=LATER).changed


def test_a_second_plan_of_the_same_year_is_its_own_plan(db, office, directory, tmp_path):
    run(db, office, write_xlsx(tmp_path / "a.xlsx", _plan_rows(), merges=["A1:D1", "A3:D3"]))
    other = "某市卫生健康委员会2023年政务公开重点工作任务清单"
    result = run(
        db, office, write_xlsx(tmp_path / "b.xlsx", _plan_rows(title=other), merges=["A1:D1"])
    )
    assert result.plan["action"] == "create" and result.counts["tasks_created"] == 3
    assert result.counts["assignments_cancelled"] == 0  # the first plan is left alone
    with db.session() as s:
        plans = s.exec(select(Plan)).all()
        assert sorted(p.title for p in plans) == sorted([TITLE, other])
        assert len(s.exec(select(Task)).all()) == 6
        assert all(a.state == "assigned" for a in s.exec(select(Assignment)).all())


def test_a_ledger_without_title_row_warns_that_the_file_name_is_the_plan(
    db, office, directory, tmp_path
):
    """A CSV exported without its title row: the plan is named after the file, and saying so is
    what keeps the office from creating a second plan by importing "台账(修改).csv"."""
    rows = [H4, ["1", "公开预算", "财务科", "11月"]]
    path = tmp_path / "台账.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    result = run(db, office, path, plan_year=2023)
    assert result.plan["title"] == "台账"
    assert any("没有标题行" in w and "“台账”" in w for w in result.warnings)
    titled = write_xlsx(tmp_path / "t.xlsx", [[TITLE], *rows], merges=["A1:D1"])
    assert not any("没有标题行" in w for w in run(db, office, titled).warnings)

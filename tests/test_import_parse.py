"""The ledger parser over real built files: both seeds in every format, unit cells, headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import (
    JIANGMEN,
    YINCHUAN,
    build_jiangmen_csv,
    build_jiangmen_docx,
    build_jiangmen_xlsx,
    build_yinchuan_csv,
    build_yinchuan_docx,
    build_yinchuan_xlsx,
    jiangmen_sections,
    write_csv,
    write_docx,
    write_xlsx,
    yinchuan_sections,
)

from workflow.errors import LedgerError
from workflow.ledger.headers import column_role, detect_header
from workflow.ledger.parse import parse_ledger
from workflow.ledger.parsed import first_sentence, strip_number
from workflow.ledger.readers import read_source
from workflow.ledger.readers.document import Row
from workflow.ledger.units_cell import split_unit_cell

YINCHUAN_BUILDERS = {
    "xlsx": lambda p: build_yinchuan_xlsx(p / "yinchuan.xlsx"),
    "docx": lambda p: build_yinchuan_docx(p / "yinchuan.docx"),
    "csv-bom": lambda p: build_yinchuan_csv(p / "yinchuan.csv", "utf-8-sig"),
    "csv-utf8": lambda p: build_yinchuan_csv(p / "yinchuan.csv", "utf-8"),
    "csv-gbk": lambda p: build_yinchuan_csv(p / "yinchuan.csv", "gbk"),
}
JIANGMEN_BUILDERS = {
    "docx": lambda p: build_jiangmen_docx(p / "jiangmen.docx"),
    "xlsx": lambda p: build_jiangmen_xlsx(p / "jiangmen.xlsx"),
    "csv-gbk": lambda p: build_jiangmen_csv(p / "jiangmen.csv", "gbk"),
    "csv-bom": lambda p: build_jiangmen_csv(p / "jiangmen.csv", "utf-8-sig"),
}


def parse(path: Path):
    return parse_ledger(read_source(path))


# -- both seeds, every task ------------------------------------------------------------------
@pytest.mark.parametrize("fmt", YINCHUAN_BUILDERS)
def test_yinchuan_every_task(tmp_path: Path, fmt: str) -> None:
    ledger = parse(YINCHUAN_BUILDERS[fmt](tmp_path))
    assert ledger.title == "银川市卫生健康委员会2023年政务公开工作要点任务落实台账"
    assert ledger.issuer == "银川市卫生健康委员会"
    assert ledger.title_year() == 2023
    assert "分别于2023年7月31日、11月30日前报送" in ledger.intro
    assert not any("填报单位" in p for p in ledger.preamble)
    assert len(ledger.tasks) == 14
    seed = {t["number"]: t for s in yinchuan_sections() for t in s["tasks"]}
    for task in ledger.tasks:
        section, title, _units, _dues, deadline = YINCHUAN[task.number]
        assert task.section_path == [section]
        assert task.title == title
        assert (
            task.content == seed[task.number]["content"]
        )  # multi-paragraph cells keep their lines
        assert task.metric == seed[task.number]["metric"]
        assert task.deadline_text == deadline  # also where the 完成时限 cell is merged down
        written = [(m.name, m.role) for m, _ in task.units]
        assert written == [(n, "responsible") for n in seed[task.number]["units"].split("、")]
    assert [t.key for t in ledger.tasks] == [f"n:{n}" for n in range(1, 15)]
    assert "\n对重要政策文件和解读材料" in ledger.tasks[6].content


@pytest.mark.parametrize("fmt", JIANGMEN_BUILDERS)
def test_jiangmen_every_task(tmp_path: Path, fmt: str) -> None:
    ledger = parse(JIANGMEN_BUILDERS[fmt](tmp_path))
    assert ledger.title == "江门市卫生健康局2021年政务公开工作要点分工方案"
    assert ledger.title_year() == 2021
    assert [t.number for t in ledger.tasks] == [str(n) for n in range(1, 31)]
    items = [i for s in jiangmen_sections() for i in s["items"]]
    for task, item in zip(ledger.tasks, items, strict=True):
        section, title, _units, _dues, _deadline = JIANGMEN[task.number]
        assert task.section_path == [section], task.number
        assert task.title == title
        assert task.content == strip_number(item["requirement"])[1]
        assert task.deadline_text is None  # no 完成时限 column: deadlines come from the text


def test_jiangmen_continuation_rows_stay_under_their_heading(tmp_path: Path) -> None:
    """Row "4.及时反馈…" has no 工作任务 of its own (merged cell / empty cell)."""
    for build in JIANGMEN_BUILDERS.values():
        ledger = parse(build(tmp_path))
        four = ledger.tasks[3]
        assert four.section_path == ["三、做好政府网站专栏信息公开"]
        assert [(m.name, m.role) for m, _ in four.units] == [("局主办科室", "responsible")]


def test_jiangmen_unit_roles_as_written(tmp_path: Path) -> None:
    ledger = parse(build_jiangmen_docx(tmp_path / "j.docx"))
    roles = {t.number: [(m.name, m.role) for m, _ in t.units] for t in ledger.tasks}
    assert roles["5"] == [("局防控办", "lead"), ("各工作组", "cooperating")]
    assert roles["15"] == [("局宣教科", "lead"), ("办公室", "lead"), ("各科室", "cooperating")]
    assert roles["23"] == [("局办公室", "lead"), ("财务科", "cooperating")]
    assert roles["17"] == [("局各科室", "responsible")]


# -- unit cells --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("局政法科", [("局政法科", "responsible", ())]),
        ("财务审计科、法规与综合监督科、办公室", [("财务审计科", "responsible", ()), ("法规与综合监督科", "responsible", ()), ("办公室", "responsible", ())]),
        ("办公室，财务科;宣传科；督查科/法规科", [(n, "responsible", ()) for n in ("办公室", "财务科", "宣传科", "督查科", "法规科")]),
        ("办公室\n财务科", [("办公室", "responsible", ()), ("财务科", "responsible", ())]),
        ("/", []),
        ("", []),
        ("无", []),
        ("局办公室主办,财务科协办", [("局办公室", "lead", ()), ("财务科", "cooperating", ())]),
        ("局宣教科、办公室主办,各科室协办", [("局宣教科", "lead", ()), ("办公室", "lead", ()), ("各科室", "cooperating", ())]),
        ("局防控办主办、各工作组协办", [("局防控办", "lead", ()), ("各工作组", "cooperating", ())]),
        ("局主办科室", [("局主办科室", "responsible", ())]),
        ("海域处（审批处）", [("海域处", "responsible", ("审批处",))]),
        ("海域处(审批处)、办公室", [("海域处", "responsible", ("审批处",)), ("办公室", "responsible", ())]),
        ("办公室（牵头）、财务科（配合）", [("办公室", "lead", ()), ("财务科", "cooperating", ())]),
        ("牵头单位：办公室；配合单位：财务科、宣传科", [("办公室", "lead", ()), ("财务科", "cooperating", ()), ("宣传科", "cooperating", ())]),
        ("委办公室牵头负责，各相关科室负责落实", [("委办公室", "lead", ()), ("各相关科室", "responsible", ())]),
        (" 办公室 ", [("办公室", "responsible", ())]),
    ],
)  # fmt: skip
def test_split_unit_cell(cell: str, expected: list) -> None:
    got = [(m.name, m.role, m.aliases) for m in split_unit_cell(cell, "responsible")]
    assert got == expected


def test_unit_cell_takes_the_column_role() -> None:
    assert [(m.name, m.role) for m in split_unit_cell("办公室、财务科", "lead")] == [
        ("办公室", "lead"),
        ("财务科", "lead"),
    ]
    assert [m.role for m in split_unit_cell("办公室", "cooperating")] == ["cooperating"]


# -- headers and titles ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("序号", "number"), ("工作任务", "task"), ("重点工作", "task"), ("内容", "task"),
        ("具体要求", "requirement"), ("主要内容", "requirement"), ("工作要求", "requirement"),
        ("量化指标", "metric"), ("牵头单位", "lead"), ("主办", "lead"), ("责任单位", "responsible"),
        ("责任科室（单位）", "responsible"), ("责任科室", "responsible"), ("协办", "cooperating"),
        ("配合单位", "cooperating"), ("完成时限", "deadline"), ("进展落实情况", "progress"),
        (" 完成\n时限 ", "deadline"), ("责任科室(单位)", "responsible"),
        ("银川市卫生健康委员会2023年政务公开工作要点任务落实台账", None), ("1", None),
    ],
)  # fmt: skip
def test_column_role(text: str, role: str | None) -> None:
    assert column_role(text) == role


def test_header_needs_two_columns_and_a_task() -> None:
    assert detect_header(Row(("序号", "重点工作", "责任单位"), 1, "")) is not None
    assert detect_header(Row(("工作任务", "具体要求", "责任科室"), 1, "")) is not None
    assert detect_header(Row(("序号", "完成时限"), 1, "")) is None
    assert detect_header(Row(("1", "抓好重点领域信息公开。", "办公室"), 1, "")) is None


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("1.加强行政执法信息公开。", "加强行政执法信息公开"),
        ("16. 建立舆情回应台账管理制度，认真核查。", "建立舆情回应台账管理制度，认真核查"),
        ("20.2021年11月20日前完成主动公开基层目录编制,并统一发布。", "2021年11月20日前完成主动公开基层目录编制,并统一发布"),
        ("（3）做好公开。其余内容", "做好公开"),
        ("第一段\n第二段", "第一段"),
        ("2.5万份宣传册发放到位。", "2.5万份宣传册发放到位"),
    ],
)  # fmt: skip
def test_first_sentence(text: str, title: str) -> None:
    assert first_sentence(text) == title


# -- other shapes --------------------------------------------------------------------------------
def test_other_column_names_sub_sections_and_a_lead_column(tmp_path: Path) -> None:
    rows = [
        ["某局2024年政务公开重点任务清单"],
        ["编号", "重点任务", "工作内容", "牵头单位", "配合单位", "时间节点"],
        ["一", "深化决策公开", None, None, None, None],
        ["（一）", "重大决策预公开", None, None, None, None],
        [1, "做好意见征集", "征集意见并反馈。", "办公室", "法规科、财务科", "6月底前"],
        [2, "公开采纳情况", "公开意见采纳情况。", "法规科", "/", "年底前"],
        ["（二）", "政策解读", None, None, None, None],
        [3, "同步解读", "政策文件与解读同步。", "宣传科", "", "长期坚持"],
    ]
    path = write_xlsx(tmp_path / "list.xlsx", rows)
    ledger = parse(path)
    assert [t.section_path for t in ledger.tasks] == [
        ["一、深化决策公开", "（一）重大决策预公开"],
        ["一、深化决策公开", "（一）重大决策预公开"],
        ["一、深化决策公开", "（二）政策解读"],
    ]
    assert [(m.name, m.role) for m, _ in ledger.tasks[0].units] == [
        ("办公室", "lead"),
        ("法规科", "cooperating"),
        ("财务科", "cooperating"),
    ]
    assert [(m.name, m.role) for m, _ in ledger.tasks[1].units] == [("法规科", "lead")]
    assert [t.deadline_text for t in ledger.tasks] == ["6月底前", "年底前", "长期坚持"]
    assert ledger.title_year() == 2024


def test_a_task_cell_of_several_paragraphs_gives_a_title_and_content(tmp_path: Path) -> None:
    """No 具体要求 column: the first sentence of a long 工作任务 cell is the title."""
    cell = "1.加强政策解读。\n围绕重大政策开展多种形式解读，\n解读材料与政策文件同步起草、同步审签、同步部署。"
    rows = [
        ["2024年政务公开工作任务"],
        ["序号", "工作任务", "责任单位", "完成时限"],
        [1, cell, "宣传科", "长期坚持"],
        [2, "公开预决算", "财务科", "年底前"],
    ]
    ledger = parse(write_xlsx(tmp_path / "list.xlsx", rows))
    first, second = ledger.tasks
    assert first.title == "加强政策解读"
    assert first.content == (
        "加强政策解读。\n围绕重大政策开展多种形式解读，\n解读材料与政策文件同步起草、同步审签、同步部署。"
    )
    assert (second.title, second.content) == ("公开预决算", None)


def test_an_item_over_several_rows_is_a_section_level(tmp_path: Path) -> None:
    """A 重点工作 cell merged over two rows: each row is its own task under that item."""
    rows = [
        ["序号", "重点工作", "具体要求", "责任单位", "完成时限"],
        [1, "抓好信息公开。", "1.公开预算。", "财务科", "11月"],
        [None, None, "2.公开决算。", "财务科", "11月"],
        [2, "抓好解读。", "做好解读。", "宣传科", "11月"],
    ]
    path = write_xlsx(tmp_path / "merged.xlsx", rows, merges=["A2:A3", "B2:B3"])
    ledger = parse(path)
    assert [(t.section_path, t.number, t.title) for t in ledger.tasks] == [
        (["抓好信息公开"], "1-1", "公开预算"),
        (["抓好信息公开"], "1-2", "公开决算"),
        ([], "2", "抓好解读"),
    ]
    assert len({t.key for t in ledger.tasks}) == 3


def test_header_under_a_merged_header_cell(tmp_path: Path) -> None:
    rows = [
        ["序号", "工作任务", "责任单位", None, "完成时限"],
        [None, None, "牵头", "配合", None],
        [1, "做好公开", "办公室", "财务科", "年底前"],
    ]
    path = write_xlsx(tmp_path / "two-line.xlsx", rows, merges=["A1:A2", "B1:B2", "C1:D1", "E1:E2"])
    ledger = parse(path)
    assert [(m.name, m.role) for m, _ in ledger.tasks[0].units] == [
        ("办公室", "lead"),
        ("财务科", "cooperating"),
    ]


def test_docx_table_without_header_continuing_the_ledger(tmp_path: Path) -> None:
    """A Word table split in two (page break) keeps the columns of the first."""
    first = {"rows": [["序号", "工作任务", "责任单位"], ["1", "甲任务", "办公室"]]}
    second = {"rows": [["2", "乙任务", "财务科"]]}
    other = {"rows": [["联系人", "电话"], ["张三", "123"]]}
    path = write_docx(
        tmp_path / "split.docx", ["2023年任务表", first, second, "附：联系方式", other]
    )
    ledger = parse(path)
    assert [t.title for t in ledger.tasks] == ["甲任务", "乙任务"]
    assert any("列数与表头不一致" in w for w in ledger.warnings)


def test_csv_with_semicolons_and_a_year_in_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "2022年台账.csv"
    path.write_text("序号;工作任务;责任单位\n1;做好公开;办公室\n", encoding="utf-8")
    ledger = parse(path)
    assert ledger.title == "2022年台账"
    assert ledger.title_year() == 2022
    assert [t.title for t in ledger.tasks] == ["做好公开"]


# -- errors ---------------------------------------------------------------------------------
def test_no_header_is_not_a_ledger(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "numbers.xlsx", [["姓名", "年龄"], ["张三", 30]], sheet="名单")
    with pytest.raises(LedgerError) as err:
        parse(path)
    assert "numbers.xlsx" in err.value.message and "工作表“名单”" in err.value.message
    assert "未找到表头" in err.value.message


def test_docx_without_tables(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "prose.docx", ["关于印发2023年工作要点的通知", "一、总体要求", "1.完善目录。"]
    )
    with pytest.raises(LedgerError, match="prose.docx：文档中没有表格"):
        parse(path)


def test_empty_table(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "empty.csv", [["2023年台账"], ["序号", "重点工作", "责任单位", "完成时限"]]
    )
    with pytest.raises(LedgerError) as err:
        parse(path)
    assert err.value.message == "empty.csv：第2行：表头下面没有任何任务（表格是空的）"


def test_task_without_unit(tmp_path: Path) -> None:
    rows = [["序号", "重点工作", "责任单位", "完成时限"], [1, "做好公开", "/", "11月"]]
    path = write_xlsx(tmp_path / "nounit.xlsx", rows)
    with pytest.raises(LedgerError) as err:
        parse(path)
    assert (
        err.value.message
        == "nounit.xlsx：工作表“台账”第2行C列（责任单位）：任务“做好公开”没有填写牵头或责任单位"
    )


def test_header_without_unit_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "x.csv", [["序号", "重点工作", "完成时限"], [1, "做好公开", "11月"]]
    )
    with pytest.raises(LedgerError, match="x.csv：第1行：表头中没有牵头单位或责任单位列"):
        parse(path)


def test_edited_sections_are_still_parsed(tmp_path: Path) -> None:
    sections = yinchuan_sections()
    sections[0]["tasks"][0]["units"] = "办公室主办，财务审计科协办"
    ledger = parse(build_yinchuan_xlsx(tmp_path / "e.xlsx", sections=sections))
    assert [(m.name, m.role) for m, _ in ledger.tasks[0].units] == [
        ("办公室", "lead"),
        ("财务审计科", "cooperating"),
    ]
    sections = jiangmen_sections()
    sections[0]["items"].append({"requirement": "31.新增一项要求。", "units": "局政法科"})
    ledger = parse(build_jiangmen_docx(tmp_path / "e.docx", sections=sections))
    assert len(ledger.tasks) == 31
    assert ledger.tasks[1].section_path == ["一、做好行政执法信息公开"]


@pytest.mark.parametrize("merged", [True, False])
@pytest.mark.parametrize("section", ["一、主要任务", "（一）工作内容", "二、重点工作"])
def test_short_section_right_under_the_header_is_a_section(
    tmp_path: Path, merged: bool, section: str
) -> None:
    """A section title made of column words ("主要任务") is not a second header line."""
    rows = [
        ["2026年政务公开工作任务分解表"],
        ["序号", "工作任务", "具体要求", "责任单位", "完成时限"],
        [section] + ([""] * 4 if merged else []),
        ["1", "更新公开指南", "修订政府信息公开指南。", "办公室", "6月底前"],
        ["2", "公开预决算", "按时公开部门预决算。", "财务科", "年底前"],
    ]
    path = write_xlsx(tmp_path / "plan.xlsx", rows, merges=["A3:E3"] if merged else [])
    ledger = parse(path)
    assert [(t.number, t.title, t.deadline_text) for t in ledger.tasks] == [
        ("1", "更新公开指南", "6月底前"),
        ("2", "公开预决算", "年底前"),
    ]
    assert all(t.section_path == [section] for t in ledger.tasks)


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("责任单位（牵头）", "lead"),
        ("责任单位(配合)", "cooperating"),
        ("责任科室（单位）", "responsible"),
        ("牵头单位", "lead"),
    ],
)
def test_a_role_in_brackets_names_the_unit_column(header: str, role: str) -> None:
    assert column_role(header) == role


@pytest.mark.parametrize(
    ("cell", "contact"),
    [
        ("13800138000", True),
        ("138 0013 8000", True),
        ("0951-5012345", True),
        ("（0750）3501234", True),
        ("zhangsan@jm.gov.cn", True),
        ("2023-11-30", False),
        ("2023.11", False),
        ("12345", False),  # a hotline number inside a task is not a contact list
        ("11月底前", False),
        ("办公室", False),
    ],
)
def test_contact_cells_give_a_contact_table_away(cell: str, contact: bool) -> None:
    from workflow.ledger.table import _contact_cell

    assert _contact_cell(cell) is contact

"""Ledgers as other offices send them (issue 15): each shape built here with openpyxl /
python-docx, in the seeds' spirit, and every task's title, content, number, units and roles
checked — header cells spanning columns, labelled role brackets, unit cells that carry more than
names, the plan's title from a notice; then the dry run's JSON through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import write_docx, write_xlsx

from workflow.ledger.parse import parse_ledger
from workflow.ledger.readers import read_source

TITLE = "海城市自然资源局2024年政务公开工作要点任务分解表"
REQ1 = "对出台的重要政策文件同步开展解读，解读材料与文件同步发布。"
REQ2 = "及时公开国土空间规划编制和审批信息，接受社会监督。"


def parse(path: Path):
    return parse_ledger(read_source(path))


def shape(ledger) -> list[tuple]:
    return [
        (t.number, t.title, t.content, [(m.name, m.role) for m, _ in t.units]) for t in ledger.tasks
    ]


# -- header cells spanning columns -----------------------------------------------------------


def test_xlsx_task_header_over_item_and_requirement(tmp_path: Path) -> None:
    """工作任务 merged over B:C — B the item, C its requirement text."""
    rows = [
        [TITLE],
        ["序号", "工作任务", None, "责任单位", "完成时限"],
        [1, "强化政策解读", REQ1, "办公室", "11月底前"],
        [2, "公开规划信息", REQ2, "国土空间规划处", "年底前"],
    ]
    ledger = parse(write_xlsx(tmp_path / "a.xlsx", rows, merges=["A1:E1", "B2:C2"]))
    assert shape(ledger) == [
        ("1", "强化政策解读", REQ1, [("办公室", "responsible")]),
        ("2", "公开规划信息", REQ2, [("国土空间规划处", "responsible")]),
    ]


def test_docx_content_header_over_number_and_text(tmp_path: Path) -> None:
    """内容 spanning two Word columns: the first holds 序号, the second the task."""
    rows = [
        ["内容", "内容", "牵头单位", "配合单位", "完成时限"],
        ["1", "强化政策解读", "办公室", "法规处", "11月"],
        ["2", "公开规划信息", "国土空间规划处", "/", "12月"],
    ]
    path = write_docx(tmp_path / "b.docx", [TITLE, {"rows": rows, "merges": [(0, 0, 0, 1)]}])
    assert shape(parse(path)) == [
        ("1", "强化政策解读", None, [("办公室", "lead"), ("法规处", "cooperating")]),
        ("2", "公开规划信息", None, [("国土空间规划处", "lead")]),
    ]


def test_docx_requirement_header_over_item_and_text_with_a_number_column(tmp_path: Path) -> None:
    rows = [
        ["序号", "具体要求", "具体要求", "责任单位"],
        ["1", "强化政策解读", REQ1, "办公室"],
        ["2", "3", REQ2, "国土空间规划处"],  # a number where the item should be: never a title
    ]
    path = write_docx(tmp_path / "c.docx", [TITLE, {"rows": rows, "merges": [(0, 1, 0, 2)]}])
    assert shape(parse(path)) == [
        ("1", "强化政策解读", REQ1, [("办公室", "responsible")]),
        ("2", REQ2.rstrip("。"), REQ2, [("国土空间规划处", "responsible")]),
    ]


def test_xlsx_task_header_over_section_and_task_name(tmp_path: Path) -> None:
    """工作任务 over A:B — A the section (merged down its rows), B the task's name."""
    rows = [
        [TITLE],
        ["工作任务", None, "具体要求", "责任单位"],
        ["一、政策解读", "强化政策解读", REQ1, "办公室"],
        [None, "回应社会关切", "及时回应热点。", "办公室"],
        ["二、规划公开", "公开规划信息", REQ2, "国土空间规划处"],
    ]
    path = write_xlsx(tmp_path / "d.xlsx", rows, merges=["A1:D1", "A2:B2", "A3:A4"])
    ledger = parse(path)
    assert [(t.section_path, t.title, t.content) for t in ledger.tasks] == [
        (["一、政策解读"], "强化政策解读", REQ1),
        (["一、政策解读"], "回应社会关切", "及时回应热点。"),
        (["二、规划公开"], "公开规划信息", REQ2),
    ]


def test_a_header_merged_with_its_data_keeps_one_column(tmp_path: Path) -> None:
    """Header and data both span the two columns: nothing is doubled."""
    rows = [
        ["序号", "工作任务", "工作任务", "责任单位"],
        ["1", "强化政策解读", "强化政策解读", "办公室"],
    ]
    merges = [(0, 1, 0, 2), (1, 1, 1, 2)]
    path = write_docx(tmp_path / "e.docx", [TITLE, {"rows": rows, "merges": merges}])
    assert shape(parse(path)) == [("1", "强化政策解读", None, [("办公室", "responsible")])]


# -- labelled role brackets and unit cells ----------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "（牵头单位：办公室、法规处；责任单位：国土空间规划处）",
        "(牵头单位:办公室、法规处;责任单位:国土空间规划处)",
        "牵头单位：办公室、法规处\n责任单位：国土空间规划处",
    ],
)
def test_labelled_roles_in_a_cell(tmp_path: Path, cell: str) -> None:
    rows = [[TITLE], ["序号", "工作任务", "责任单位"], [1, "强化政策解读", cell]]
    ledger = parse(write_xlsx(tmp_path / "f.xlsx", rows))
    assert shape(ledger)[0][3] == [
        ("办公室", "lead"),
        ("法规处", "lead"),
        ("国土空间规划处", "responsible"),
    ]


def test_labelled_roles_in_prose_brackets(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "g.docx",
        [
            "海城市自然资源局2024年政务公开工作实施方案",
            "一、重点任务",
            "1.强化政策解读。对出台的政策同步解读。（牵头单位：办公室、法规处；责任单位：国土空间规划处）",
            "2.公开规划信息。及时公开审批信息。(牵头单位:国土空间规划处;配合单位:办公室)",
        ],
    )
    assert shape(parse(path)) == [
        ("1", "强化政策解读", "对出台的政策同步解读。",
         [("办公室", "lead"), ("法规处", "lead"), ("国土空间规划处", "responsible")]),
        ("2", "公开规划信息", "及时公开审批信息。",
         [("国土空间规划处", "lead"), ("办公室", "cooperating")]),
    ]  # fmt: skip


def test_unit_cells_are_names_not_sentences(tmp_path: Path) -> None:
    rows = [
        [TITLE],
        ["序号", "工作任务", "牵头单位", "责任单位"],
        [1, "强化政策解读", "办公室", "法规处、审批处等局机关各处室"],
        [2, "公开规划信息", "国土空间规划处", "局机关各处室、局属各单位，按职责分工落实"],
        [3, "做好档案公开", "综合协调处（含办公室、档案室）", "/"],
        [4, "公开审批结果", "海域处\n（审批处）", "各处室根据职责分别负责"],
    ]
    ledger = parse(write_xlsx(tmp_path / "h.xlsx", rows))
    assert shape(ledger) == [
        ("1", "强化政策解读", None,
         [("办公室", "lead"), ("法规处", "responsible"), ("审批处", "responsible"),
          ("局机关各处室", "responsible")]),
        ("2", "公开规划信息", None,
         [("国土空间规划处", "lead"), ("局机关各处室", "responsible"),
          ("局属各单位", "responsible")]),
        ("3", "做好档案公开", None, [("综合协调处", "lead")]),
        ("4", "公开审批结果", None, [("海域处", "lead"), ("各处室", "responsible")]),
    ]  # fmt: skip
    aliases = {m.name: m.aliases for t in ledger.tasks for m, _ in t.units}
    assert aliases["海域处"] == ("审批处",)
    assert aliases["综合协调处"] == ("含办公室、档案室",)  # never split inside its brackets
    notes = [w for w in ledger.warnings if "不是单位名称" in w]
    assert len(notes) == 2
    assert "按职责分工落实" in notes[0] and "第4行D列" in notes[0]
    assert "根据职责分别负责" in notes[1]


# -- the plan's title and issuer --------------------------------------------------------------


@pytest.mark.parametrize(
    ("preamble", "title", "issuer"),
    [
        (
            ["关于印发《海城市自然资源局2024年政务公开工作要点》的通知", "各处室、局属各单位：",
             "现将《海城市自然资源局2024年政务公开工作要点》印发给你们，请认真贯彻落实。"],
            "海城市自然资源局2024年政务公开工作要点", "海城市自然资源局",
        ),
        (
            ["为深入贯彻落实政务公开工作要求，现制定本方案。", TITLE],
            TITLE, "海城市自然资源局",
        ),
        (
            ["关于印发《", "海城市自然资源局2024年政务公开工作要点》的通知"],
            "海城市自然资源局2024年政务公开工作要点", "海城市自然资源局",
        ),
    ],
    ids=["notice", "sentence-first", "broken-title"],
)  # fmt: skip
def test_plan_title_and_issuer(tmp_path: Path, preamble, title, issuer) -> None:
    rows = [["序号", "工作任务", "责任单位"], ["1", "强化政策解读", "办公室"]]
    path = write_docx(tmp_path / "2024年任务.docx", [*preamble, {"rows": rows}])
    ledger = parse(path)
    assert (ledger.title, ledger.issuer) == (title, issuer)


def test_lone_bracket_is_never_a_title(tmp_path: Path) -> None:
    rows = [["序号", "工作任务", "责任单位"], ["1", "强化政策解读", "办公室"]]
    path = write_docx(tmp_path / "2024年任务分解.docx", ["《", {"rows": rows}])
    assert parse(path).title == "2024年任务分解"


# -- the dry run shows what was read ---------------------------------------------------------


def test_dry_run_json_shows_title_content_and_number(duban, tmp_path: Path) -> None:
    for name in ("办公室", "国土空间规划处"):
        duban.ok("unit", "add", name)
    rows = [
        [TITLE],
        ["序号", "工作任务", None, "责任单位", "完成时限"],
        [1, "强化政策解读", REQ1, "办公室", "11月底前"],
        [2, "公开规划信息", REQ2, "国土空间规划处；按职责分工落实", "年底前"],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows, merges=["A1:E1", "B2:C2"])
    out = duban.json("import", str(path), "--dry-run")
    assert [(t["number"], t["title"], t["content"]) for t in out["tasks"]] == [
        ("1", "强化政策解读", REQ1),
        ("2", "公开规划信息", REQ2),
    ]
    assert out["plan"]["title"] == TITLE and out["plan"]["issuer"] == "海城市自然资源局"
    assert any("按职责分工落实" in w and "备注" in w for w in out["warnings"])

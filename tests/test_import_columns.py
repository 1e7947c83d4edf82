"""Import, round 3 (tables): every cell accounted for, column roles read from content, the
office's --columns. Ledgers of new shapes, built with openpyxl / python-docx / csv in the spirit
of the seeds (a city bureau's 任务分解表 with headers duban never saw)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import write_csv, write_docx, write_xlsx

from workflow.errors import InvalidInput
from workflow.ledger.choice import parse_columns
from workflow.ledger.parse import parse_ledger
from workflow.ledger.readers import read_source

TITLE = "某市司法局2024年政务公开工作任务分解表"
T1 = "围绕重大决策部署，做好政策文件解读工作，提高解读质量和实效。"
T2 = "完善基层政务公开标准目录，推动基层政务公开规范化、标准化。"
T3 = "及时公开行政复议决定书，接受社会监督，提升行政复议公信力。"
WRITERS = {
    "xlsx": lambda p, rows: write_xlsx(p.with_suffix(".xlsx"), rows),
    "csv": lambda p, rows: write_csv(p.with_suffix(".csv"), rows),
    "docx": lambda p, rows: write_docx(p.with_suffix(".docx"), [TITLE, {"rows": rows[1:]}]),
}


def parse(path: Path, columns: str | None = None):
    return parse_ledger(read_source(path), parse_columns(columns))


def task_fields(ledger) -> list[tuple]:
    return [
        (
            t.number,
            " / ".join(t.section_path),
            t.content,
            [(m.full, m.role) for m, _ in t.units],
            t.deadline_text,
        )
        for t in ledger.tasks
    ]


# a requirement column under any of these headers (or none) is the requirement, by its content
@pytest.mark.parametrize("fmt", WRITERS)
@pytest.mark.parametrize(
    "heading",
    [
        "细化分工",
        "工作内容",
        "主要内容",
        "具体措施",
        "工作措施",
        "任务内容",
        "目标任务",
        "推进举措安排",
        "",
    ],
)
def test_the_requirement_column_is_found_by_its_content(tmp_path, fmt, heading) -> None:
    rows = [
        [TITLE],
        ["序号", "重点任务", heading, "责任处室", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "法治督察处、行政复议处", "2024年12月底前"],
    ]
    ledger = parse(WRITERS[fmt](tmp_path / "分解表", rows))
    assert task_fields(ledger) == [
        ("1", "", T1, [("办公室", "responsible")], "2024年6月底前"),
        (
            "2",
            "",
            T2,
            [("法治督察处", "responsible"), ("行政复议处", "responsible")],
            "2024年12月底前",
        ),
    ]
    assert [t.title for t in ledger.tasks] == ["加强政策解读", "推进基层政务公开"]
    assert not ledger.warnings and not ledger.unused
    content = next(c for c in ledger.columns if c["letter"] == "C")
    assert content["role"] == "content" and content["header"] == heading
    assert content["how"] == (
        "header" if heading in ("细化分工", "工作内容", "主要内容") else content["how"]
    )


@pytest.mark.parametrize("fmt", WRITERS)
def test_an_unknown_column_is_named_in_a_warning_never_dropped(tmp_path, fmt) -> None:
    rows = [
        [TITLE],
        ["序号", "重点任务", "具体要求", "责任处室", "完成时限", "备注", "联络员"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前", "市委督办事项", "张三"],
        [2, "推进基层政务公开", T2, "法治督察处", "2024年12月底前", "", "李四"],
    ]
    ledger = parse(WRITERS[fmt](tmp_path / "分解表", rows))
    assert len(ledger.tasks) == 2
    by_header = {u.header: u for u in ledger.unused}
    assert by_header["备注"].texts == ["市委督办事项"] and by_header["备注"].rows
    assert by_header["联络员"].texts == ["张三", "李四"]
    text = "\n".join(ledger.warnings)
    assert "未使用的列「备注」" in text and "“市委督办事项”" in text
    assert "未使用的列「联络员」" in text and "“张三”、“李四”" in text
    # the office says what the column holds: nothing is left over
    chosen = parse(WRITERS[fmt](tmp_path / "分解表", rows), "备注=content,联络员=ignore")
    assert chosen.tasks[0].content == f"{T1}\n市委督办事项"
    assert not chosen.unused and not chosen.warnings


def test_a_goal_header_over_section_headings_is_the_section(tmp_path) -> None:
    rows = [
        [TITLE],
        ["目标", "序号", "重点任务", "具体措施", "牵头单位", "完成时限"],
        ["一、深化政策解读", 1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        ["一、深化政策解读", 2, "推进基层政务公开", T2, "法治督察处", "2024年12月底前"],
        ["二、做好依申请公开", 3, "公开复议决定", T3, "行政复议处", "长期坚持"],
    ]
    ledger = parse(write_xlsx(tmp_path / "a.xlsx", rows, merges=["A3:A4"]))
    assert [t.section_path for t in ledger.tasks] == [
        ["一、深化政策解读"], ["一、深化政策解读"], ["二、做好依申请公开"],
    ]  # fmt: skip
    assert all(t.metric is None for t in ledger.tasks)
    assert {c["letter"]: c["role"] for c in ledger.columns}["A"] == "section"
    assert not ledger.unused


def test_a_header_narrower_than_its_data_is_aligned_by_content(tmp_path) -> None:
    """The header's "工作任务" spanned the 序号 and the text column; saved as CSV it is one cell."""
    rows = [
        [TITLE],
        ["工作任务", "具体要求", "责任单位", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "法治督察处", "2024年12月底前"],
    ]
    ledger = parse(write_csv(tmp_path / "a.csv", rows))
    assert task_fields(ledger) == [
        ("1", "", T1, [("办公室", "responsible")], "2024年6月底前"),
        ("2", "", T2, [("法治督察处", "responsible")], "2024年12月底前"),
    ]
    assert [t.title for t in ledger.tasks] == ["加强政策解读", "推进基层政务公开"]
    assert not ledger.unused


def test_rows_under_a_merged_group_cell_left_blank_by_csv_continue_the_group(tmp_path) -> None:
    """序号, 任务 and 具体要求 merged down over three rows, one unit and deadline per row."""
    rows = [
        [TITLE],
        ["序号", "工作任务", "具体要求", "责任单位", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        ["", "", "", "法治督察处", "2024年6月底前"],
        ["", "", "", "行政复议处", ""],
        [2, "推进基层政务公开", T2, "律师工作处", "2024年12月底前"],
    ]
    ledger = parse(write_csv(tmp_path / "a.csv", rows))
    assert task_fields(ledger) == [
        (
            "1",
            "",
            T1,
            [
                ("办公室", "responsible"),
                ("法治督察处", "responsible"),
                ("行政复议处", "responsible"),
            ],
            "2024年6月底前",
        ),
        ("2", "", T2, [("律师工作处", "responsible")], "2024年12月底前"),
    ]
    assert not ledger.unused and not ledger.warnings


def test_a_second_content_column_and_progress_are_kept(tmp_path) -> None:
    rows = [
        [TITLE],
        ["序号", "工作任务", "工作内容", "具体措施", "责任单位", "完成时限", "进展情况"],
        [1, "加强政策解读", T1, T3, "办公室", "2024年6月底前", "已完成解读3件"],
    ]
    ledger = parse(write_xlsx(tmp_path / "a.xlsx", rows))
    (task,) = ledger.tasks
    assert task.content == f"{T1}\n{T3}" and task.progress == "已完成解读3件"
    assert not ledger.unused


def test_text_after_the_table_is_named(tmp_path) -> None:
    rows = [
        [TITLE],
        ["序号", "工作任务", "具体要求", "责任单位", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        ["注：各处室请于每季度末报送进展。"],
    ]
    ledger = parse(write_xlsx(tmp_path / "a.xlsx", rows))
    assert any(
        "第4行未识别为任务" in w and "各处室请于每季度末报送进展" in w for w in ledger.warnings
    )


@pytest.mark.parametrize(
    "columns, message",
    [
        ("细化分工=content", "--columns 中的列“细化分工”在表头中找不到"),
        ("具体要求=正文", "--columns 中“具体要求=正文”的用途“正文”无效"),
        ("具体要求", "--columns 的写法无效：“具体要求”"),
    ],
)
def test_a_bad_column_choice_is_one_line(tmp_path, columns, message) -> None:
    rows = [
        [TITLE],
        ["序号", "工作任务", "具体要求", "责任单位", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    with pytest.raises(InvalidInput) as err:
        parse(path, columns)
    assert err.value.message.startswith(message) and "\n" not in err.value.message


def test_columns_by_letter_and_by_chinese_role(tmp_path) -> None:
    rows = [
        [TITLE],
        ["序号", "工作任务", "具体要求", "责任单位", "配合", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "法治督察处", "2024年6月底前"],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    plain = parse(path)
    assert [(m.full, m.role) for m, _ in plain.tasks[0].units] == [
        ("办公室", "responsible"), ("法治督察处", "cooperating"),
    ]  # fmt: skip
    chosen = parse(path, "D=lead，配合=责任单位")
    assert [(m.full, m.role) for m, _ in chosen.tasks[0].units] == [
        ("办公室", "lead"), ("法治督察处", "responsible"),
    ]  # fmt: skip
    how = {c["letter"]: c["how"] for c in chosen.columns}
    assert how["D"] == how["E"] == "option" and how["A"] == "header"


# -- the doors: the dry run, --json, --columns (local and over the server), the web preview ----
BUREAU = [
    [TITLE],
    ["序号", "重点任务", "细化分工", "责任处室", "完成时限", "备注"],
    [1, "加强政策解读", T1, "办公室", "2024年6月底前", "市委督办事项"],
    [2, "推进基层政务公开", T2, "法治督察处、行政复议处", "2024年12月底前", ""],
]


def _bureau(office_db, tmp_path: Path) -> Path:
    from ledgers import add_directory

    with office_db.session() as s:
        add_directory(s, [(n, [], []) for n in ("办公室", "法治督察处", "行政复议处")])
    return write_xlsx(tmp_path / "司法局分解表.xlsx", BUREAU)


def test_the_dry_run_shows_text_roles_mapping_and_unused(duban, office_db, tmp_path) -> None:
    path = _bureau(office_db, tmp_path)
    out = duban.ok("import", path, "--dry-run")
    text = " ".join(out.stdout.split())
    assert "围绕重大决策部署" in text and "责任：法治督察处、行政复议处" in text
    assert "C列「细化分工」→ 具体要求（content，表头）" in text
    assert "F列「备注」→ 备注（不导入，提示）（remark，表头）" in text
    assert "未使用的列「备注」（工作表“台账”F列，第3行）：“市委督办事项”" in out.stderr

    data = duban.json("import", path, "--dry-run")
    assert {c["letter"]: c["role"] for c in data["columns"]} == {
        "A": "number", "B": "title", "C": "content", "D": "responsible", "E": "deadline",
        "F": "remark",
    }  # fmt: skip
    assert data["unused"] == [
        {"place": "工作表“台账”", "column": "F列", "header": "备注", "rows": [3],
         "texts": ["市委督办事项"], "paragraph": False},
    ]  # fmt: skip
    assert any("未使用的列「备注」" in w for w in data["warnings"])

    chosen = duban.json("import", path, "--dry-run", "--columns", "备注=content")
    assert chosen["tasks"][0]["content"] == f"{T1}\n市委督办事项"
    assert chosen["unused"] == [] and not any("未使用" in w for w in chosen["warnings"])
    assert next(c for c in chosen["columns"] if c["letter"] == "F")["how"] == "option"


@pytest.mark.parametrize(
    "columns, message",
    [
        ("备注=memo", "错误：--columns 中“备注=memo”的用途“memo”无效"),
        ("联络员=content", "错误：--columns 中的列“联络员”在表头中找不到"),
    ],
)
def test_a_bad_columns_option_writes_nothing(duban, office_db, tmp_path, columns, message) -> None:
    from test_import_cli import snapshot

    path = _bureau(office_db, tmp_path)
    before = snapshot(office_db)
    result = duban("import", path, "--columns", columns)
    assert result.exit_code == 2 and result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert snapshot(office_db) == before


def test_the_web_preview_changes_a_column_and_imports(office_db, cli_env, tmp_path, monkeypatch):
    import re

    from fastapi.testclient import TestClient
    from sqlmodel import select

    from workflow.config import load_config
    from workflow.storage.models import Task
    from workflow.web.app import create_app

    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    path = _bureau(office_db, tmp_path)
    client = TestClient(create_app(load_config(cli_env)))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/office/import").text).group(
        1
    )
    page = client.post(
        "/office/import",
        data={"csrf_token": csrf},
        files={"ledger": (path.name, path.read_bytes())},
    ).text
    assert (
        "未使用的列「备注」" in page and "围绕重大决策部署" in page and "法治督察处（责任）" in page
    )
    assert 'name="col:C"' in page and '<option value="content" selected>' in page
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
    form = {"csrf_token": csrf, "digest": digest, "columns": ""}
    form.update(
        {f"col:{c}": r for c, r in re.findall(r'name="was:([A-Z]+)" value="([a-z]*)"', page)}
    )
    form.update(
        {f"was:{c}": r for c, r in re.findall(r'name="was:([A-Z]+)" value="([a-z]*)"', page)}
    )
    form["col:F"] = "content"
    again = client.post("/office/import/preview", data=form).text
    assert "未使用的列" not in again and "已指定" in again
    assert 'name="columns" value="F=content"' in again
    bad = client.post("/office/import/preview", data={**form, "col:F": "memo"})
    assert bad.status_code == 400 and "用途“memo”无效" in bad.text
    done = client.post(
        "/office/import/confirm",
        data={"csrf_token": csrf, "digest": digest, "columns": "F=content"},
    )
    assert "已导入“司法局分解表.xlsx”" in done.text
    with office_db.session() as s:
        contents = [t.content for t in s.exec(select(Task).order_by(Task.id)).all()]
    assert contents == [f"{T1}\n市委督办事项", T2]


def test_a_text_header_over_the_number_column_saved_as_csv(tmp_path) -> None:
    """ "工作任务" merged over 序号 and title, saved as CSV: the next header cell is blank."""
    rows = [
        [TITLE],
        ["工作任务", "", "具体要求", "责任单位", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "法治督察处", "2024年12月底前"],
    ]
    ledger = parse(write_csv(tmp_path / "a.csv", rows))
    assert [(t.number, t.title, t.content) for t in ledger.tasks] == [
        ("1", "加强政策解读", T1), ("2", "推进基层政务公开", T2),
    ]  # fmt: skip
    assert not ledger.unused and not ledger.warnings


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_table_without_a_header_row_is_read_by_content(tmp_path, fmt) -> None:
    rows = [
        [TITLE],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "法治督察处、行政复议处", "2024年12月底前"],
        [3, "公开复议决定", T3, "行政复议处", "长期坚持"],
    ]
    path = (write_xlsx if fmt == "xlsx" else write_csv)(tmp_path / f"a.{fmt}", rows)
    ledger = parse(path)
    assert [(t.number, t.title, t.content, t.deadline_text) for t in ledger.tasks] == [
        ("1", "加强政策解读", T1, "2024年6月底前"),
        ("2", "推进基层政务公开", T2, "2024年12月底前"),
        ("3", "公开复议决定", T3, "长期坚持"),
    ]
    assert ledger.title == TITLE and not ledger.unused
    assert [c["role"] for c in ledger.columns] == [
        "number",
        "title",
        "content",
        "responsible",
        "deadline",
    ]
    assert {c["how"] for c in ledger.columns} == {"content"}


@pytest.mark.parametrize(
    "heading, role",
    [
        ("协同单位", "cooperating"),
        ("参与部门", "cooperating"),
        ("负责科室", "responsible"),
        ("", "responsible"),
    ],
)
def test_a_unit_column_beside_the_lead_takes_its_role_from_the_header_hint(tmp_path, heading, role):
    rows = [
        [TITLE],
        ["序号", "工作任务", "具体要求", "牵头单位", heading, "完成时限"],
        [1, "加强政策解读", T1, "办公室", "法治督察处", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "行政复议处", "各区司法局", "2024年12月底前"],
    ]
    ledger = parse(write_csv(tmp_path / "a.csv", rows))
    assert [[(m.full, m.role) for m, _ in t.units] for t in ledger.tasks] == [
        [("办公室", "lead"), ("法治督察处", role)],
        [("行政复议处", "lead"), ("各区司法局", role)],
    ]
    assert not ledger.unused


def test_a_column_of_directory_names_is_a_unit_column(tmp_path) -> None:
    """Short names the directory knows ("综合", "法规") are units, whatever the column's header."""
    rows = [
        [TITLE],
        ["序号", "工作任务", "具体要求", "牵头单位", "落实主体", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "综合、法规", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "办公室", "法规", "2024年12月底前"],
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    unknown = parse(path)
    assert [u.header for u in unknown.unused] == ["落实主体"]
    known = parse_ledger(read_source(path), None, frozenset({"办公室", "综合", "法规"}))
    assert [[(m.full, m.role) for m, _ in t.units] for t in known.tasks] == [
        [("办公室", "lead"), ("综合", "responsible"), ("法规", "responsible")],
        [("办公室", "lead"), ("法规", "responsible")],
    ]
    assert not known.unused


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_exported_ledger_reads_back_without_unused_columns(db, office, tmp_path, suffix) -> None:
    """duban's own 状态 / 截止日期 / 是否逾期 columns are its own computations, not lost words."""
    from datetime import date, datetime

    from ledgers import YINCHUAN_DIRECTORY, add_directory, build_yinchuan_xlsx

    from calendars import ChinaCalendar
    from workflow.dates.clock import SHANGHAI
    from workflow.ledger.export import export_ledger
    from workflow.ledger.importing import import_ledger

    now = datetime(2023, 3, 1, 9, 0, tzinfo=SHANGHAI)
    with db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
    with db.session() as s:
        first = import_ledger(
            s,
            office,
            build_yinchuan_xlsx(tmp_path / "银川.xlsx"),
            calendar=ChinaCalendar(),
            now=now,
        )
    path = tmp_path / f"导出{suffix}"
    with db.session() as s:
        export_ledger(s, office, first.plan["id"], path, as_of=date(2023, 12, 5))
    with db.session() as s:
        back = import_ledger(s, office, path, calendar=ChinaCalendar(), now=now, dry_run=True)
    assert not back.changed and back.unused == []
    assert not any("未使用" in w or "未识别" in w for w in back.warnings), back.warnings
    roles = {c["header"]: c["role"] for c in back.columns}
    assert roles["状态"] == roles["是否逾期"] == "derived" and roles["完成时限"] == "deadline"


def test_one_warning_per_unused_column_when_the_header_repeats(tmp_path) -> None:
    header = ["序号", "工作任务", "具体要求", "责任单位", "完成时限", "备注"]
    rows = [
        [TITLE],
        ["一、深化政策解读"],
        header,
        [1, "加强政策解读", T1, "办公室", "2024年6月底前", "重点"],
        ["二、做好依申请公开"],
        header,
        [2, "公开复议决定", T3, "行政复议处", "长期坚持", "新增"],
    ]
    ledger = parse(write_xlsx(tmp_path / "a.xlsx", rows))
    (unused,) = ledger.unused
    assert unused.rows == [4, 7] and unused.texts == ["重点", "新增"]
    assert sum("未使用的列「备注」" in w for w in ledger.warnings) == 1
    assert "第4、7行" in ledger.warnings[-1]


def test_short_target_tasks_beside_measures_are_the_titles(tmp_path) -> None:
    rows = [
        [TITLE],
        ["序号", "目标任务", "具体措施", "责任单位", "完成时限"],
        [1, "加强政策解读", T1, "办公室", "2024年6月底前"],
        [2, "推进基层政务公开", T2, "法治督察处", "2024年12月底前"],
    ]
    ledger = parse(write_xlsx(tmp_path / "a.xlsx", rows))
    assert [(t.title, t.content) for t in ledger.tasks] == [
        ("加强政策解读", T1), ("推进基层政务公开", T2),
    ]  # fmt: skip
    roles = {c["header"]: (c["role"], c["how"]) for c in ledger.columns}
    assert roles["目标任务"] == ("title", "content") and roles["具体措施"] == ("content", "header")

"""Plans written as prose (实施方案): the Sanming plan as .docx in both shapes, the review workbook.

Parser tests read real .docx files built with python-docx (``prose_docs``); import tests use a
real database; CLI tests run ``duban`` as the office.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import dbsnap
import pytest
from ledgers import add_directory, write_docx
from prose_docs import (
    SANMING_COUNTIES,
    SANMING_PARAGRAPHS,
    SANMING_RELATED_GROUP,
    SANMING_SECTIONS,
    SANMING_TASKS,
    SANMING_TITLE,
    build_sanming_docx,
    build_sanming_docx_styled,
    expected_section,
    sanming_directory,
)
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.errors import LedgerError
from workflow.ledger.importing import import_ledger, read_ledger
from workflow.ledger.parse import parse_ledger
from workflow.ledger.planning import plan_ledger
from workflow.ledger.prose import ProseLedger, bracket_units, run_together_dates, trailing_bracket
from workflow.ledger.readers import read_source
from workflow.ledger.readers.word_numbering import WordNumbering, format_number, paragraph_info
from workflow.ledger.review import write_review_ledger
from workflow.storage.models import Assignment, Task, Unit

CALENDAR = ChinaCalendar()
NOW = datetime(2017, 6, 12, 1, 0, tzinfo=UTC)
BUILDERS = {
    "typed": lambda p: build_sanming_docx(p / "sanming.docx"),
    "word-styles": lambda p: build_sanming_docx_styled(p / "sanming.docx"),
}


def parse(path: Path) -> ProseLedger:
    ledger = parse_ledger(read_source(path))
    assert isinstance(ledger, ProseLedger)
    return ledger


def narrow(text: str) -> str:
    """Bracket and comma widths unified (the Word shape writes them full-width)."""
    return text.replace("（", "(").replace("）", ")").replace("，", ",")


def snapshot(db) -> dict[str, list]:
    return dbsnap.snapshot(db.engine)  # the office's data, not the server's bookkeeping


# -- the Sanming plan, every task ---------------------------------------------------------------
@pytest.mark.parametrize("shape", BUILDERS)
def test_sanming_every_task(tmp_path: Path, shape: str) -> None:
    ledger = parse(BUILDERS[shape](tmp_path))
    assert ledger.title == SANMING_TITLE and ledger.title_year() == 2017
    assert len(ledger.tasks) == len(SANMING_TASKS) == 18
    for task, (sub, number, title, units) in zip(ledger.tasks, SANMING_TASKS, strict=True):
        assert [narrow(s) for s in task.section_path] == expected_section(sub)
        assert (task.number, task.title) == (number, title)
        assert [(m.name, m.role) for m, _ in task.units] == units, title
        assert task.content and task.title not in task.content[:10]
        assert task.bracket and task.bracket not in task.content  # units are not content
        assert task.row.where().startswith("正文第")
    first = ledger.tasks[0]
    assert first.content.startswith("各级医疗卫生计生单位要按照《福建省卫生计生委办公室转发")
    assert first.content.endswith("公开、管理等流程。")
    # keys: numbers repeat per sub-section, so they carry the section numerals
    assert ledger.tasks[0].key.startswith("n:二/") and len({t.key for t in ledger.tasks}) == 18


@pytest.mark.parametrize("shape", BUILDERS)
def test_paragraphs_that_are_not_tasks(tmp_path: Path, shape: str) -> None:
    ledger = parse(BUILDERS[shape](tmp_path))
    titles = {t.title for t in ledger.tasks}
    for text in (
        "加强责任落实",
        "强化考核监督",
        "推进能力建设",
        "紧紧围绕有关卫生计生重大决策部署",
    ):
        assert not any(text in t for t in titles)
    everything = " ".join(t.content or "" for t in ledger.tasks)
    assert "联系人" not in everything and "附件下载" not in everything
    assert all(narrow(t.section_path[0]) == "二、主要任务" for t in ledger.tasks)
    # the notice before the first heading is the preamble
    assert any("1125日前" in p for p in ledger.preamble)
    assert any(p.startswith("联系人") for p in ledger.preamble)


def test_word_numbering_is_computed(tmp_path: Path) -> None:
    path = build_sanming_docx_styled(tmp_path / "styled.docx")
    info = paragraph_info(path)
    prefixes = [i.prefix for _, i in sorted(info.items()) if i.prefix]
    assert prefixes[:6] == ["一、", "二、", "（一）", "1.", "2.", "3."]
    assert prefixes[6:8] == ["（二）", "1."]  # the task list restarts in each sub-section
    assert prefixes.count("1.") == 5 and "6." in prefixes and "三、" in prefixes
    assert {i.heading for i in info.values() if i.prefix in ("一、", "二、", "三、")} == {1}
    # the text itself holds no number: it comes from numbering.xml only
    import docx

    texts = [p.text for p in docx.Document(str(path)).paragraphs]
    assert "完善公开目录编制。" in next(t for t in texts if t.startswith("完善公开目录编制"))
    assert "主要任务" in texts and "二、主要任务" not in texts


@pytest.mark.parametrize(
    "n, fmt, shown",
    [
        (1, "decimal", "1"),
        (12, "decimal", "12"),
        (3, "chineseCounting", "三"),
        (10, "chineseCountingThousand", "十"),
        (12, "chineseCounting", "十二"),
        (25, "chineseCounting", "二十五"),
        (2, "ideographTraditional", "乙"),
        (3, "decimalEnclosedCircle", "③"),
        (4, "decimalFullWidth", "４"),
        (2, "lowerLetter", "b"),
        (4, "upperRoman", "IV"),
    ],
)
def test_word_number_formats(n: int, fmt: str, shown: str) -> None:
    assert format_number(n, fmt) == shown


def test_word_numbering_levels_restart() -> None:
    """Level 2 restarts under each level 1; a num with a start override is a list of its own;
    a paragraph style may carry the numbering (here "H1" based on "Base", which has it)."""
    from docx.oxml import parse_xml

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def lvl(ilvl: int, start: int, fmt: str, text: str) -> str:
        return (
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/></w:lvl>'
        )

    numbering = parse_xml(
        f"<w:numbering {ns}>"
        f'<w:abstractNum w:abstractNumId="0">{lvl(0, 1, "chineseCounting", "%1、")}'
        f"{lvl(1, 1, 'decimal', '%2.')}</w:abstractNum>"
        f'<w:abstractNum w:abstractNumId="1">{lvl(0, 5, "decimal", "(%1)")}</w:abstractNum>'
        '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
        '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
        '<w:num w:numId="3"><w:abstractNumId w:val="1"/>'
        '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        "</w:numbering>"
    )
    styles = parse_xml(
        f'<w:styles {ns}><w:style w:styleId="Base"><w:pPr><w:numPr><w:ilvl w:val="0"/>'
        '<w:numId w:val="1"/></w:numPr></w:pPr></w:style>'
        '<w:style w:styleId="H1"><w:basedOn w:val="Base"/></w:style></w:styles>'
    )
    word = WordNumbering(numbering, styles)

    def p(num: int, ilvl: int):
        return parse_xml(
            f'<w:p {ns}><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num}"/>'
            "</w:numPr></w:pPr></w:p>"
        )

    heading = parse_xml(f'<w:p {ns}><w:pPr><w:pStyle w:val="H1"/></w:pPr></w:p>')
    shown = [word.prefix(x) for x in (p(1, 0), p(1, 1), p(1, 1), heading, p(1, 1))]
    assert shown == ["一、", "1.", "2.", "二、", "1."]
    assert [word.prefix(p(2, 0)) for _ in range(2)] == ["(5)", "(6)"]
    assert word.prefix(p(3, 0)) == "(1)"
    assert word.prefix(parse_xml(f"<w:p {ns}/>")) == ""


# -- brackets, deadlines, broken dates -------------------------------------------------------------
@pytest.mark.parametrize(
    "bracket, expected",
    [
        ("委办公室牵头负责，各相关科室负责落实", [("委办公室", "lead"), ("各相关科室", "responsible")]),
        ("委规财科牵头落实", [("委规财科", "lead")]),
        (
            "各市属医疗卫生计生单位、各县市区卫生计生局分别负责落实和推动落实",
            [("各市属医疗卫生计生单位", "responsible"), ("各县市区卫生计生局", "responsible")],
        ),
        ("委办公室负责把关,各科室落实", [("委办公室", "lead"), ("各科室", "responsible")]),
        ("委宣传科牵头,各相关科室负责落实", [("委宣传科", "lead"), ("各相关科室", "responsible")]),
        ("委政法科、医政科、疾控监督科牵头落实", [("委政法科", "lead"), ("医政科", "lead"), ("疾控监督科", "lead")]),
        ("由办公室主办；财务科、法规科配合", [("办公室", "lead"), ("财务科", "cooperating"), ("法规科", "cooperating")]),
        ("宣传科牵头，信息中心协办", [("宣传科", "lead"), ("信息中心", "cooperating")]),
        ("委爱卫办负责落实", [("委爱卫办", "responsible")]),
    ],
)  # fmt: skip
def test_bracket_units(bracket: str, expected: list[tuple[str, str]]) -> None:
    assert [(m.name, m.role) for m in bracket_units(bracket)] == expected


def test_bracket_alias_is_kept() -> None:
    (mention,) = bracket_units("海域处（审批处）牵头")
    assert (mention.name, mention.aliases, mention.role) == ("海域处", ("审批处",), "lead")


@pytest.mark.parametrize(
    "text, bracket",
    [
        ("做好公开。（委规财科牵头落实）", "委规财科牵头落实"),
        ("做好公开。(委规财科牵头落实)。", "委规财科牵头落实"),
        ("做好公开（见附件1）。", None),  # no role word: not a unit bracket
        ("做好公开(2017年底前)", None),
        ("做好公开,按照《办法》(闽卫〔2015〕22号)执行。", None),
    ],
)
def test_trailing_bracket(text: str, bracket: str | None) -> None:
    assert trailing_bracket(text)[1] == bracket


def test_run_together_dates_warn_without_guessing() -> None:
    (warning,) = run_together_dates("将全年工作落实情况于1125日前报送市卫生计生委办公室。")
    assert "1125日前" in warning and "11月25日前" in warning and "未按日期处理" in warning
    (two,) = run_together_dates("于111日前报送")
    assert "1月11日前" in two and "11月1日前" in two
    assert run_together_dates("于11月25日前报送，20个工作日内答复，15日前完成") == []


def test_mangled_date_is_a_warning_not_a_report_date(tmp_path: Path) -> None:
    planned = read_ledger(build_sanming_docx(tmp_path / "sanming.docx"), calendar=CALENDAR)
    assert planned.year == 2017 and planned.report_dates == []
    assert planned.report_dates_source == "none"
    (warning,) = [w for w in planned.warnings if "1125日前" in w]
    assert warning.startswith("sanming.docx：正文第9段：") and "--report-dates" in warning


def test_deadline_phrases_from_the_text(tmp_path: Path) -> None:
    planned = read_ledger(build_sanming_docx(tmp_path / "sanming.docx"), calendar=CALENDAR)
    by_title = {t.parsed.title: t for t in planned.tasks}
    quarterly = by_title["建立健全动态扩展机制"]
    assert quarterly.deadline_text == "每季度" and quarterly.deadline.source == "text"
    assert len(quarterly.deadline.dues) == 4
    assert any(
        "“20个工作日内”、“15个工作日内”" in w and "duban event add" in w for w in planned.warnings
    )
    monthly = by_title["推进“互联网+政务服务”公开"]
    assert monthly.deadline_text == "每月" and len(monthly.deadline.dues) == 12
    event = by_title["严格落实政策解读“三同步”要求"]
    assert event.deadline.kind == "event_limit" and event.deadline.working_days == 3
    assert by_title["推进医疗卫生市场监管公开透明"].deadline_text == "年内"
    plain = by_title["完善公开目录编制"]
    assert plain.deadline.source == "plan_default"
    assert [d.due for d in plain.deadline.dues] == [date(2017, 12, 29)]  # last working day


def test_report_dates_option_overrides(tmp_path: Path) -> None:
    path = build_sanming_docx(tmp_path / "sanming.docx")
    planned = read_ledger(path, calendar=CALENDAR, report_dates=[date(2017, 11, 24)])
    assert planned.report_dates == [date(2017, 11, 24)]
    plain = next(t for t in planned.tasks if t.parsed.title == "完善公开目录编制")
    assert [d.due for d in plain.deadline.dues] == [date(2017, 11, 24)]


# -- odd paragraphs ----------------------------------------------------------------------------
def test_continuation_missing_units_and_marked_tasks(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            "某局2024年政务公开工作实施方案",
            "一、工作目标",
            "1.全面提升公开质量。（办公室牵头）",  # under 工作目标: not a task, a warning
            "二、重点任务",
            "（一）做好政策解读。政策文件公布后3个工作日内发布解读。（办公室牵头，各科室配合）",
            "（二）信息公开专栏",
            "1.更新公开目录。及时更新目录。",
            "目录更新后报办公室备案。（法规科负责）",  # continues item 1
            "2.做好年报。每年1月31日前发布年报。",  # no unit bracket
            "（三）加强培训。组织全员培训。",  # long, no bracket: a sub-section, warned
            "1.开展培训。（人事科负责落实）",
            "联系人：张三",
            "三、保障措施",
            "（一）加强组织领导。各科室要高度重视。",
        ],
    )
    ledger = parse(path)
    got = [
        (t.section_path, t.number, t.title, [(m.name, m.role) for m, _ in t.units])
        for t in ledger.tasks
    ]
    assert got == [
        (["二、重点任务"], "（一）", "做好政策解读", [("办公室", "lead"), ("各科室", "cooperating")]),
        (["二、重点任务", "（二）信息公开专栏"], "1", "更新公开目录", [("法规科", "responsible")]),
        (["二、重点任务", "（二）信息公开专栏"], "2", "做好年报", []),
        (["二、重点任务", "（三）加强培训"], "1", "开展培训", [("人事科", "responsible")]),
    ]  # fmt: skip
    assert ledger.tasks[1].content == "及时更新目录。\n目录更新后报办公室备案。"
    assert ledger.tasks[2].notes and "段末没有写明责任单位" in ledger.tasks[2].notes[0]
    warnings = "\n".join(ledger.warnings)
    assert (
        "正文第3段：“全面提升公开质量。（办公室牵头）”在“一、工作目标”部分，不作为任务导入"
        in warnings
    )
    assert "正文第10段：以“（三）”开头的段落末尾没有写明责任单位" in warnings


def test_word_heading_styles_without_numbers(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("某委2022年政务公开实施方案", style="Title")
    document.add_paragraph("重点任务", style="Heading 1")
    document.add_paragraph("政策解读", style="Heading 2")
    document.add_paragraph("1、及时解读。按要求解读政策。（委办公室牵头负责）")
    document.save(str(tmp_path / "h.docx"))
    ledger = parse(tmp_path / "h.docx")
    (task,) = ledger.tasks
    assert task.section_path == ["重点任务", "政策解读"] and task.number == "1"
    assert ledger.title == "某委2022年政务公开实施方案"


def test_prose_with_an_unrelated_table(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "plan.docx",
        [
            "2024年政务公开实施方案",
            "一、主要任务",
            "1.做好公开。按要求公开。（办公室负责）",
            {"rows": [["姓名", "电话"], ["张三", "123"]]},
        ],
    )
    assert [t.title for t in parse(path).tasks] == ["做好公开"]


def test_no_tasks_at_all(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "notice.docx", ["关于开会的通知", "请准时参加。", "联系人：张三"])
    with pytest.raises(LedgerError) as err:
        parse(path)
    assert err.value.message.startswith("notice.docx：文档中没有表格，也没有找到编号的任务段落")


# -- import: units that cannot be found ----------------------------------------------------------
def run(db, office, path: Path, **kw):
    with db.session() as s:
        return import_ledger(s, office, path, calendar=CALENDAR, now=NOW, **kw)


def test_unknown_units_warn_in_dry_run_and_refuse_import(db, office, tmp_path: Path) -> None:
    with db.session() as s:
        add_directory(s, sanming_directory(related=False))
    path = build_sanming_docx(tmp_path / "sanming.docx")
    before = snapshot(db)
    preview = run(db, office, path, dry_run=True)
    assert len(preview.tasks) == 18 and snapshot(db) == before
    unknown = [w for w in preview.warnings if "各相关科室" in w]
    assert len(unknown) == 4  # 二(二)1, 二(二)6, 二(五)1, 二(五)2
    assert unknown[0].startswith("sanming.docx：正文第39段：单位“各相关科室”不在单位名录中")
    assert "原文：1.将“五公开”纳入办文办会程序。" in unknown[0]
    assert unknown[0].endswith("（委办公室牵头负责,各相关科室负责落实）")
    first = preview.tasks[3]  # the known lead is still shown
    assert [(u["name"], u["role"]) for u in first.units] == [("办公室", "lead")]
    with pytest.raises(LedgerError) as err:
        run(db, office, path)
    message = err.value.message
    assert "\n" not in message
    assert message.startswith("sanming.docx：正文第39段：单位“各相关科室”不在单位名录中")
    assert "另有 3 段" in message and "--create-units" in message
    assert snapshot(db) == before
    result = run(db, office, path, create_units=True)
    assert result.created_units == [SANMING_RELATED_GROUP]
    assert result.counts["tasks_created"] == 18


def test_paragraph_without_units_refuses_even_with_create_units(db, office, tmp_path: Path) -> None:
    with db.session() as s:
        add_directory(s, sanming_directory(related=True))
    paragraphs = [
        p.replace("(委规财科牵头落实)", "") if p.startswith("4.推进重大建设项目") else p
        for p in SANMING_PARAGRAPHS
    ]
    path = build_sanming_docx(tmp_path / "sanming.docx", paragraphs)
    before = snapshot(db)
    preview = run(db, office, path, dry_run=True)
    view = next(t for t in preview.tasks if t.title == "推进重大建设项目信息公开")
    assert view.units == []
    (warning,) = [w for w in preview.warnings if "没有写明责任单位" in w]
    assert warning.startswith(
        "sanming.docx：正文第45段：任务“推进重大建设项目信息公开”没有写明责任单位"
    )
    assert "原文：4.推进重大建设项目信息公开。" in warning
    for kw in ({}, {"create_units": True}):
        with pytest.raises(
            LedgerError,
            match="^sanming.docx：正文第45段：任务“推进重大建设项目信息公开”没有写明责任单位",
        ):
            run(db, office, path, **kw)
    assert snapshot(db) == before


@pytest.mark.parametrize("shape", BUILDERS)
def test_import_resolves_groups_and_roles(db, office, tmp_path: Path, shape: str) -> None:
    with db.session() as s:
        add_directory(s, sanming_directory(related=True))
    result = run(db, office, BUILDERS[shape](tmp_path))
    assert result.counts["tasks_created"] == 18 and not result.created_units
    with db.session() as s:
        names = {u.id: u.name for u in s.exec(select(Unit)).all()}
        tasks = {t.title: t for t in s.exec(select(Task)).all()}
        roles = {
            (tasks_title, names[a.unit_id], a.role)
            for a in s.exec(select(Assignment)).all()
            for tasks_title in [next(t.title for t in tasks.values() if t.id == a.task_id)]
        }
    assert ("将“五公开”纳入办文办会程序", "办公室", "lead") in roles
    assert ("将“五公开”纳入办文办会程序", "宣传科", "responsible") in roles
    assert ("严格落实政策解读“三同步”要求", "办公室", "lead") in roles  # 把关
    assert {n for t, n, r in roles if t == "完善公开目录编制"} == {
        "三明市第一医院", "三明市疾病预防控制中心", *SANMING_COUNTIES,
    }  # fmt: skip
    assert {n for t, n, r in roles if t == "积极推进决策公开"} == set(SANMING_SECTIONS)
    assert tasks["推进医疗卫生市场监管公开透明"].lead_units == ["政法科", "医政科", "疾控监督科"]
    assert run(db, office, BUILDERS[shape](tmp_path)).changed is False  # idempotent


# -- the review workbook -------------------------------------------------------------------------
def test_review_workbook_reads_back(tmp_path: Path) -> None:
    planned = read_ledger(
        build_sanming_docx_styled(tmp_path / "sanming.docx"),
        calendar=CALENDAR,
        report_dates=[date(2017, 7, 31), date(2017, 11, 24)],
    )
    summary = write_review_ledger(planned, tmp_path / "review.xlsx")
    assert (summary.tasks, summary.flagged) == (18, 2)
    back = plan_ledger(parse_ledger(read_source(tmp_path / "review.xlsx")), calendar=CALENDAR)
    assert back.report_dates == planned.report_dates and back.report_dates_source == "intro"
    assert back.parsed.title == planned.parsed.title

    def shape(ledger):
        return [
            (t.parsed.key, t.parsed.section_path, t.parsed.number, t.parsed.title,
             t.parsed.content, t.deadline_text, [(m.name, m.role) for m, _ in t.parsed.units],
             [d.due for d in t.deadline.dues])
            for t in ledger.tasks
        ]  # fmt: skip

    assert shape(back) == shape(planned)
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "review.xlsx").active
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "序号")
    assert ws.freeze_panes == f"A{header + 1}"
    assert [ws.cell(header, c).value for c in range(1, 11)] == [
        "序号", "工作任务", "具体要求", "量化指标", "牵头单位", "责任单位", "配合单位", "完成时限",
        "原文位置", "备注",
    ]  # fmt: skip
    rows = {ws.cell(r, 2).value: r for r in range(header + 1, ws.max_row + 1)}
    r = rows["将“五公开”纳入办文办会程序"]
    assert (ws.cell(r, 5).value, ws.cell(r, 6).value, ws.cell(r, 9).value) == (
        "委办公室", "各相关科室", "正文第39段",
    )  # fmt: skip
    assert "20个工作日内" in ws.cell(rows["建立健全动态扩展机制"], 10).value
    notes = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert any(str(v).startswith("注：") and "1125日前" in str(v) for v in notes)
    assert ws.column_dimensions["C"].width > 40


def test_review_refuses_other_formats(tmp_path: Path) -> None:
    from workflow.errors import InvalidInput

    planned = read_ledger(build_sanming_docx(tmp_path / "s.docx"), calendar=CALENDAR)
    with pytest.raises(InvalidInput, match="只能写成 .xlsx"):
        write_review_ledger(planned, tmp_path / "review.csv")
    with pytest.raises(InvalidInput, match="目录"):
        write_review_ledger(planned, tmp_path / "missing" / "review.xlsx")


# -- the CLI, as a new user tries it ------------------------------------------------------------
def add_units(duban, related: bool) -> None:
    for name, _, groups in sanming_directory(related=related):
        args = [a for g in groups for a in ("--group", g)]
        duban.ok("unit", "add", name, *args)


def test_cli_round_trip(duban, tmp_path: Path) -> None:
    add_units(duban, related=True)
    docx_path = build_sanming_docx(tmp_path / "三明2017实施方案.docx")
    review = tmp_path / "复核.xlsx"
    preview = duban.ok("import", docx_path, "--dry-run", "--to-ledger", review)
    assert "预览（未写入数据库）" in preview.stdout and "完善公开目录编制" in preview.stdout
    assert "已写出复核台账" in preview.stdout and review.exists()
    assert "1125日前" in preview.stderr
    first = duban.json("import", docx_path, "--dry-run", "--to-ledger", review)
    assert first["review_ledger"]["tasks"] == 18
    again = duban.json("import", review, "--dry-run")
    assert again["tasks"] == first["tasks"] and len(first["tasks"]) == 18
    assert first["tasks"][3]["units"][0] == {"name": "办公室", "role": "lead"}
    done = duban.json("import", docx_path)
    assert done["plan"]["changes"]["tasks_created"] == 18
    back = duban.json("import", review)
    assert back["plan"]["id"] == done["plan"]["id"]
    changes = back["plan"]["changes"]
    assert (
        changes["tasks_created"] == changes["tasks_updated"] == changes["assignments_created"] == 0
    )


def test_cli_refusal_then_fix_in_the_workbook(duban, cli_env, tmp_path: Path) -> None:
    import openpyxl

    from workflow.storage.db import Database

    add_units(duban, related=False)
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    docx_path = build_sanming_docx(tmp_path / "sanming.docx")
    review = tmp_path / "review.xlsx"
    data = duban.json("import", docx_path, "--dry-run", "--to-ledger", review)
    assert sum("各相关科室" in w for w in data["warnings"]) == 4
    before = snapshot(db)
    refused = duban("import", docx_path)
    assert snapshot(db) == before
    db.engine.dispose()
    assert refused.exit_code == 8 and "Traceback" not in refused.output
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("错误：sanming.docx：正文第39段：单位“各相关科室”不在单位名录中")
    # the office fixes the four paragraphs in the workbook: 各相关科室 → 委各科室
    wb = openpyxl.load_workbook(review)
    ws = wb.active
    fixed = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "各相关科室":
                cell.value, fixed = "委各科室", fixed + 1
    assert fixed == 4
    wb.save(review)
    done = duban.json("import", review)
    assert done["plan"]["changes"]["tasks_created"] == 18
    task = next(t for t in done["tasks"] if t["title"] == "做好舆情监测引导")
    assert task["units"][0] == {"name": "宣传科", "role": "lead"}
    assert {u["name"] for u in task["units"]} == set(SANMING_SECTIONS)


def test_cli_to_ledger_errors(duban, tmp_path: Path) -> None:
    add_units(duban, related=True)
    docx_path = build_sanming_docx(tmp_path / "sanming.docx")
    bad = duban("import", docx_path, "--dry-run", "--to-ledger", tmp_path / "review.csv")
    assert bad.exit_code == 2 and "只能写成 .xlsx" in bad.stderr
    same = duban("import", docx_path, "--dry-run", "--to-ledger", docx_path)
    assert same.exit_code == 2


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "hardlink"])
def test_to_ledger_never_overwrites_the_imported_file(duban, tmp_path: Path, spelling) -> None:
    """Locally and as a client (the server writes a workbook the client saves): the same file
    under any name is refused before anything is uploaded, read or written (issue 13)."""
    from ledgers import build_yinchuan_xlsx

    source = build_yinchuan_xlsx(tmp_path / "台账.xlsx")
    (tmp_path / "sub").mkdir()
    target = {
        "same": source,
        "dotdot": tmp_path / "sub" / ".." / "台账.xlsx",
        "symlink": tmp_path / "sub" / "链接.xlsx",
        "hardlink": tmp_path / "sub" / "硬链接.xlsx",
    }[spelling]
    if spelling == "symlink":
        target.symlink_to(source)
    elif spelling == "hardlink":
        os.link(source, target)
    before = source.read_bytes()
    for args in (["--dry-run"], []):
        result = duban("import", source, *args, "--to-ledger", target)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == f"错误：--to-ledger 不能与导入的文件相同：{target}"
    assert source.read_bytes() == before
    assert duban.json("task", "list") == []  # nothing imported either


def test_json_of_a_prose_plan(duban, tmp_path: Path) -> None:
    add_units(duban, related=True)
    data = duban.json("import", build_sanming_docx_styled(tmp_path / "s.docx"), "--dry-run")
    assert data["plan"]["title"] == SANMING_TITLE and data["plan"]["report_dates"] == []
    got = [(t["number"], t["title"]) for t in data["tasks"]]
    assert got == [(n, title) for _, n, title, _ in SANMING_TASKS]
    quarterly = data["tasks"][1]
    assert quarterly["deadline_text"] == "每季度" and len(quarterly["due_dates"]) == 4
    assert json.dumps(data, ensure_ascii=False).count("1125日前") == 1


@pytest.mark.parametrize("seed", ["yinchuan", "jiangmen"])
def test_review_workbook_of_a_table_ledger(tmp_path: Path, seed: str) -> None:
    """--to-ledger works for table ledgers too: the workbook reads back to the same tasks."""
    from ledgers import build_jiangmen_docx, build_yinchuan_xlsx

    source = (
        build_yinchuan_xlsx(tmp_path / "y.xlsx")
        if seed == "yinchuan"
        else build_jiangmen_docx(tmp_path / "j.docx")
    )
    planned = read_ledger(source, calendar=CALENDAR)
    write_review_ledger(planned, tmp_path / "review.xlsx")
    back = read_ledger(tmp_path / "review.xlsx", calendar=CALENDAR)

    def shape(ledger):
        return [
            (t.parsed.key, t.parsed.section_path, t.parsed.number, t.parsed.title,
             t.parsed.content, t.parsed.metric, t.deadline_text,
             sorted((m.name, m.role) for m, _ in t.parsed.units), [d.due for d in t.deadline.dues])
            for t in ledger.tasks
        ]  # fmt: skip

    assert back.report_dates == planned.report_dates
    assert shape(back) == shape(planned)

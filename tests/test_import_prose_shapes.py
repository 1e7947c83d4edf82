"""Import round 3 (issue 25), prose and unit names: every common shape of a 实施方案 paragraph,
unit text that is names, and nothing a prose plan says dropped without a word.

Plans are real .docx files written with python-docx; the import tests use a real database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgers import add_directory, write_docx

from calendars import ChinaCalendar
from workflow.errors import LedgerError
from workflow.ledger.importing import import_ledger
from workflow.ledger.parse import parse_ledger
from workflow.ledger.prose import ProseLedger
from workflow.ledger.readers import read_source
from workflow.ledger.units_cell import read_unit_cell

CALENDAR = ChinaCalendar()
NOW = datetime(2024, 2, 1, 1, 0, tzinfo=UTC)
TITLE = "某市教育局2024年政务公开工作实施方案"
HEAD = [TITLE, "为做好2024年政务公开工作，制定本方案。", "一、重点任务", "（一）决策公开"]
SECTION = ["一、重点任务", "（一）决策公开"]


def parse(tmp_path: Path, paragraphs: list[str]) -> ProseLedger:
    path = write_docx(tmp_path / "plan.docx", paragraphs)
    ledger = parse_ledger(read_source(path))
    assert isinstance(ledger, ProseLedger)
    return ledger


def shape(ledger: ProseLedger) -> list[tuple[str | None, str, list[tuple[str, str]]]]:
    return [(t.number, t.title, [(m.name, m.role) for m, _ in t.units]) for t in ledger.tasks]


# -- paragraphs: every common form ----------------------------------------------------------------
LEAD, RESP, COOP = "lead", "responsible", "cooperating"
SHAPES = {
    "numbered, bracket": (
        ["1.做好决策预公开。重大决策前公开草案。（办公室牵头负责，法规科配合）"],
        [("1", "做好决策预公开", [("办公室", LEAD), ("法规科", COOP)])],
    ),
    "unnumbered, bracket": (
        ["做好决策预公开。重大决策前公开草案。（办公室负责落实）", "做好年报。按时发布。（法规科负责）"],
        [(None, "做好决策预公开", [("办公室", RESP)]), (None, "做好年报", [("法规科", RESP)])],
    ),
    "several tasks in one paragraph": (
        ["3.推进会议开放。邀请公众列席。（办公室负责）做好意见征集。及时反馈。（法规科负责落实）"
         "公开采纳情况（财务处牵头，办公室配合）；"],
        [("3-1", "推进会议开放", [("办公室", RESP)]),
         ("3-2", "做好意见征集", [("法规科", RESP)]),
         ("3-3", "公开采纳情况", [("财务处", LEAD), ("办公室", COOP)])],
    ),
    "bracket after the first sentence": (
        ["1.做好年报。（办公室牵头）年报于1月31日前发布，并报上级备案。"],
        [("1", "做好年报", [("办公室", LEAD)])],
    ),
    "unit lines as paragraphs": (
        ["1.公开重点项目进展。每季度公开一次。", "牵头单位：发展规划处", "责任单位：财务处、基建处"],
        [("1", "公开重点项目进展",
          [("发展规划处", LEAD), ("财务处", RESP), ("基建处", RESP)])],
    ),
    "unit lines in brackets, in the paragraph": (
        ["2.做好预决算公开。按规定时间公开。\n（牵头单位：财务处）\n（配合单位：办公室）"],
        [("2", "做好预决算公开", [("财务处", LEAD), ("办公室", COOP)])],
    ),
    "unit labels after the last sentence": (
        ["6.规范依申请公开。严格法定时限。牵头单位：法规科；责任单位：办公室"],
        [("6", "规范依申请公开", [("法规科", LEAD), ("办公室", RESP)])],
    ),
    "two labels on one line, spaced": (
        ["1.公开重点项目进展。每季度公开一次。", "牵头单位：发展规划处　责任单位：财务处、基建处"],
        [("1", "公开重点项目进展",
          [("发展规划处", LEAD), ("财务处", RESP), ("基建处", RESP)])],
    ),
    "牵头部门": (
        ["1.做好政策解读。（牵头部门：办公室）"],
        [("1", "做好政策解读", [("办公室", LEAD)])],
    ),
    "牵头科室 and 责任科室": (
        ["1.做好政策解读。（牵头科室：办公室；责任科室：法规科、财务处、基建处）"],
        [("1", "做好政策解读",
          [("办公室", LEAD), ("法规科", RESP), ("财务处", RESP), ("基建处", RESP)])],
    ),
    "X负责落实": (
        ["1.做好年报。（基建处负责落实）"],
        [("1", "做好年报", [("基建处", RESP)])],
    ),
    "X、Y分别牵头落实: each leads": (
        ["1.做好回应。（办公室、法规科分别牵头落实）"],
        [("1", "做好回应", [("办公室", LEAD), ("法规科", LEAD)])],
    ),
    "a remark after the units": (
        ["1.做好回应。（办公室负责）（以下均需各县市区落实，不再逐一列出）"],
        [("1", "做好回应", [("办公室", RESP)])],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", SHAPES)
def test_paragraph_shapes(tmp_path: Path, name: str) -> None:
    paragraphs, expected = SHAPES[name]
    ledger = parse(tmp_path, [*HEAD, *paragraphs])
    assert shape(ledger) == expected
    assert all(t.section_path == SECTION for t in ledger.tasks)
    assert not [w for w in ledger.warnings if "未识别为任务" in w]


def test_several_tasks_keep_their_own_words(tmp_path: Path) -> None:
    (paragraph,), _ = SHAPES["several tasks in one paragraph"]
    first, second, third = parse(tmp_path, [*HEAD, paragraph]).tasks
    assert (first.content, second.content, third.content) == ("邀请公众列席。", "及时反馈。", None)
    assert second.bracket == "法规科负责落实" and len({t.key for t in (first, second, third)}) == 3


def test_a_remark_bracket_is_a_note(tmp_path: Path) -> None:
    (task,) = parse(tmp_path, [*HEAD, *SHAPES["a remark after the units"][0]]).tasks
    assert any("以下均需各县市区落实" in n and "作为备注" in n for n in task.notes)


def test_nothing_is_dropped_without_a_word(tmp_path: Path) -> None:
    ledger = parse(
        tmp_path,
        [
            *HEAD,
            "1.做好年报。（办公室负责）",
            "请各单位高度重视。",  # no number, no units
            "（二）执行公开",  # a heading with nothing under it
            "二、保障措施",
            "加强组织领导。",
            "联系人：张三",
        ],
    )
    text = "\n".join(ledger.warnings)
    assert "plan.docx：正文第1—2段是方案的标题和开头说明，不作为任务" in text
    assert (
        "plan.docx：正文第6段未识别为任务（没有编号，也没有写明责任单位），未导入：请各单位" in text
    )
    assert "plan.docx：正文第7段：标题“（二）执行公开”下没有识别出任务" in text
    assert "plan.docx：正文第8—10段（“二、保障措施”部分）不是任务，未导入" in text


# -- unit text is names ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell, names, notes",
    [
        ("各市、县（市、区）教育局", [("各市、县（市、区）教育局", RESP)], []),
        ("市教育局、各市、县（区）人民政府", [("市教育局", RESP), ("各市、县（区）人民政府", RESP)], []),
        ("各市、县、区", [("各市", RESP), ("县", RESP), ("区", RESP)], []),
        ("办公室、法规科等有关处室（单位）", [("办公室", RESP), ("法规科", RESP)], []),
        ("市税务局等市有关单位", [("市税务局", RESP)], []),
        ("市发改委会市财政局", [("市发改委", LEAD), ("市财政局", COOP)], []),
        ("市卫健委会同市医保局", [("市卫健委", LEAD), ("市医保局", COOP)], []),
        ("市商务局会展办", [("市商务局会展办", RESP)], []),
        ("市中西医结合医院", [("市中西医结合医院", RESP)], []),
        ("市住房和城乡建设局、市市场监管与质量局", [("市住房和城乡建设局", RESP), ("市市场监管与质量局", RESP)], []),
        ("（以下均需各县市区落实，不再逐一列出）", [], ["（以下均需各县市区落实，不再逐一列出）"]),
        ("各县市区教育局（以下均需各县市区落实，不再逐一列出）", [("各县市区教育局", RESP)],
         ["（以下均需各县市区落实，不再逐一列出）"]),
        ("各科室结合实际落实", [("各科室", RESP)], ["结合实际落实"]),
        ("海域处（审批处）", [("海域处", RESP)], []),
    ],
)  # fmt: skip
def test_unit_cells(cell: str, names: list[tuple[str, str]], notes: list[str]) -> None:
    read = read_unit_cell(cell, RESP)
    assert [(m.name, m.role) for m in read.mentions] == names
    assert read.notes == notes


def test_etc_is_flagged_and_alias_kept() -> None:
    mentions = read_unit_cell("办公室、法规科等有关处室（单位）", RESP).mentions
    assert [m.etc for m in mentions] == [False, True]
    (alias,) = read_unit_cell("海域处（审批处）", RESP).mentions
    assert alias.aliases == ("审批处",)


DIRECTORY = [
    ("办公室", [], ["委机关处室"]),
    ("法规科", [], ["委机关处室"]),
    ("市第一医院", [], ["省属医疗卫生单位"]),
    ("市中西医结合医院", [], ["省属医疗卫生单位"]),
    ("永安市教育局", [], ["各市、县（市、区）教育局"]),
    ("三元区教育局", [], ["各市、县（市、区）教育局"]),
    ("市税务局", [], []),
    ("市发改委", [], []),
    ("市财政局", [], []),
    ("海域处", [], []),
]


def run(db, office, path: Path, **kw):
    with db.session() as s:
        return import_ledger(s, office, path, calendar=CALENDAR, now=NOW, **kw)


def units_of(result, title: str) -> list[tuple[str, str]]:
    task = next(t for t in result.tasks if t.title == title)
    return [(u["name"], u["role"]) for u in task.units]


def test_import_resolves_names(db, office, tmp_path: Path) -> None:
    with db.session() as s:
        add_directory(s, DIRECTORY)
    path = write_docx(
        tmp_path / "plan.docx",
        [
            *HEAD,
            "1.做好招生公开。（各市、县（市、区）教育局负责落实）",
            "2.做好收费公开。（市发改委会市财政局负责）",
            "3.做好税费公开。（市税务局等市有关单位负责）",
            "4.做好医院公开。（委机关处室省属医疗卫生单位负责落实）",
            "5.做好海域公开。（海域处（审批处）牵头）",
        ],
    )
    result = run(db, office, path)
    assert units_of(result, "做好招生公开") == [("永安市教育局", RESP), ("三元区教育局", RESP)]
    assert units_of(result, "做好收费公开") == [("市发改委", LEAD), ("市财政局", COOP)]
    assert units_of(result, "做好税费公开") == [("市税务局", RESP)]
    assert any("“等”没有写明还有哪些单位" in w for w in result.warnings)
    assert units_of(result, "做好医院公开") == [
        ("办公室", RESP), ("法规科", RESP), ("市第一医院", RESP), ("市中西医结合医院", RESP),
    ]  # fmt: skip
    assert units_of(result, "做好海域公开") == [("海域处", LEAD)]


@pytest.mark.parametrize(
    "written, closest",
    [("市税务所", "市税务局"), ("省属医疗单位", "省属医疗卫生单位")],
)
def test_unknown_name_suggests_the_closest(db, office, tmp_path: Path, written, closest) -> None:
    with db.session() as s:
        add_directory(s, DIRECTORY)
    path = write_docx(tmp_path / "plan.docx", [*HEAD, f"1.做好公开。（{written}负责）"])
    with pytest.raises(LedgerError) as err:
        run(db, office, path)
    assert f"单位“{written}”不在单位名录中" in err.value.message
    assert closest in err.value.message.split("最接近的是：")[1]


def test_created_unit_keeps_its_alias(db, office, tmp_path: Path) -> None:
    path = write_docx(tmp_path / "plan.docx", [*HEAD, "1.做好公开。（信息中心（大数据中心）负责）"])
    result = run(db, office, path, create_units=True)
    assert result.created_units == ["信息中心"]
    from sqlmodel import select

    from workflow.storage.models import Unit

    with db.session() as s:
        (unit,) = s.exec(select(Unit)).all()
        assert unit.aliases == ["大数据中心"]


def test_dry_run_json_shows_the_warnings(duban, tmp_path: Path) -> None:
    duban.ok("unit", "add", "办公室")
    path = write_docx(tmp_path / "plan.docx", [*HEAD, "1.做好年报。（办公室负责）", "请高度重视。"])
    data = duban.json("import", path, "--dry-run")
    assert any("正文第6段未识别为任务" in w for w in data["warnings"])
    assert any("正文第1—2段是方案的标题和开头说明" in w for w in data["warnings"])


# -- the property: every paragraph of a random plan is accounted for ------------------------------
WORDS = [
    "公开",
    "目录",
    "信息",
    "平台",
    "政策",
    "解读",
    "网站",
    "数据",
    "年报",
    "专栏",
    "清单",
    "渠道",
]
UNITS = ["办公室", "法规科", "财务处", "基建处", "宣传科"]
_ACCOUNTED = re.compile(r"正文第(\d+)(?:—(\d+))?段(?:：标题|是方案|（|未识别为任务|：以)")
_PUNCT = re.compile(r"[\s。，、；：:;,.（）()“”\-—]+")

words = st.lists(st.sampled_from(WORDS), min_size=2, max_size=4).map("".join)
units = st.lists(st.sampled_from(UNITS), min_size=1, max_size=3, unique=True)


@st.composite
def task_paragraphs(draw, number: int) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """Paragraphs of one task shape and the (title, units) they must give."""
    title, detail, names = "做好" + draw(words), draw(words), draw(units)
    joined = "、".join(names)
    kinds = ["numbered", "plain", "lines", "labels", "several", "each", "deadline"]
    kind = draw(st.sampled_from(kinds))
    if kind == "deadline":
        month = draw(st.integers(1, 12))
        lines = [f"{number}.{title}。{detail}。", f"牵头单位：{joined}", f"完成时限：{month}月底前"]
        return lines, [(title, names)]
    if kind == "numbered":
        return [f"{number}.{title}。{detail}。（{joined}负责落实）"], [(title, names)]
    if kind == "plain":
        return [f"{title}。{detail}。（{joined}牵头负责）"], [(title, names)]
    if kind == "lines":
        return [f"{number}.{title}。{detail}。", f"责任单位：{joined}"], [(title, names)]
    if kind == "labels":
        lead, rest = names[0], names[1:]
        more = f"；责任科室：{'、'.join(rest)}" if rest else ""
        return [f"{number}.{title}。（牵头科室：{lead}{more}）"], [(title, names)]
    if kind == "each":
        return [f"{number}.{title}。（{joined}分别牵头落实）"], [(title, names)]
    other = "推进" + draw(words)
    text = f"{number}.{title}。{detail}。（{names[0]}负责）{other}。（{joined}负责落实）"
    return [text], [(title, [names[0]]), (other, names)]


@st.composite
def plans(draw) -> tuple[list[str], list[tuple[str, list[str]]]]:
    paragraphs = [TITLE, "为做好" + draw(words) + "工作，制定本方案。", "一、总体要求"]
    paragraphs += [draw(words) + "。" for _ in range(draw(st.integers(0, 2)))]
    paragraphs.append("二、主要任务")
    expected: list[tuple[str, list[str]]] = []
    for sub in "一二三"[: draw(st.integers(1, 3))]:
        paragraphs.append(f"（{sub}）{draw(words)}")
        for number in range(1, draw(st.integers(0, 3)) + 1):
            more, tasks = draw(task_paragraphs(number))
            paragraphs += more
            expected += tasks
            if draw(st.booleans()):
                paragraphs.append("请各单位" + draw(words) + "。")  # stray: no units
            if draw(st.booleans()):
                paragraphs.append("")
    if not expected:
        paragraphs.append("1.做好兜底。（办公室负责）")
        expected.append(("做好兜底", ["办公室"]))
    paragraphs += ["三、保障措施", "（一）加强" + draw(words) + "。各单位要" + draw(words) + "。"]
    return paragraphs, expected


def _task_text(ledger: ProseLedger) -> str:
    return "\n".join(
        " ".join(
            [
                *t.section_path,
                t.number or "",
                t.title,
                t.content or "",
                t.bracket or "",
                f"完成时限{t.deadline_text}" if t.deadline_text else "",
            ]
        )  # fmt: skip
        for t in ledger.tasks
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=plans())
def test_every_paragraph_is_accounted_for(tmp_path: Path, plan) -> None:
    paragraphs, expected = plan
    ledger = parse(tmp_path, paragraphs)
    assert [(t.title, [m.name for m, _ in t.units]) for t in ledger.tasks] == expected
    fields = _PUNCT.sub("", _task_text(ledger))
    named: set[int] = set()
    for warning in ledger.warnings:
        for m in _ACCOUNTED.finditer(warning):
            first = int(m.group(1))
            named.update(range(first, int(m.group(2) or first) + 1))
    for index, text in enumerate(paragraphs, start=1):
        if not text.strip() or index in named:
            continue
        chunks = [c for c in _PUNCT.split(text) if c]
        missing = [c for c in chunks if c not in fields]
        assert not missing, (index, text, missing)


def test_review_workbook_names_what_is_no_task(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from workflow.ledger.importing import read_ledger
    from workflow.ledger.review import write_review_ledger

    path = write_docx(tmp_path / "plan.docx", [*HEAD, "1.做好年报。（办公室负责）", "请高度重视。"])
    write_review_ledger(read_ledger(path, calendar=CALENDAR), tmp_path / "review.xlsx")
    sheet = load_workbook(tmp_path / "review.xlsx").active
    text = "\n".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "正文第6段未识别为任务" in text and "正文第1—2段是方案的标题和开头说明" in text


@pytest.mark.parametrize(
    "paragraphs",
    [
        ["1.做好年报。按时发布。", "牵头单位：办公室", "完成时限：2024年6月底前"],
        ["1.做好年报。按时发布。\n（牵头单位：办公室；完成时限：2024年6月底前）"],
        ["1.做好年报。按时发布。牵头单位：办公室；完成时限：2024年6月底前。"],
        ["1.做好年报。按时发布。（办公室牵头）", "完成时限：2024年6月底前"],
    ],
)
def test_a_deadline_line_is_the_deadline(tmp_path: Path, paragraphs: list[str]) -> None:
    from workflow.ledger.importing import read_ledger

    path = write_docx(tmp_path / "plan.docx", [*HEAD, *paragraphs])
    (task,) = read_ledger(path, calendar=CALENDAR).tasks
    assert (task.parsed.title, task.parsed.content) == ("做好年报", "按时发布。")
    assert [(m.name, m.role) for m, _ in task.parsed.units] == [("办公室", LEAD)]
    assert task.deadline_text == "2024年6月底前"
    assert [d.due.isoformat() for d in task.deadline.dues] == ["2024-06-28"]  # a Friday

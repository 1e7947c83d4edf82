"""Nothing a ledger table says is dropped silently: for random ledgers (random column names, orders
and extra columns, as .xlsx, .csv and Word tables) every non-empty data cell ends up in a task field or in a
named warning about an unused column."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgers import write_csv, write_docx, write_xlsx

from workflow.ledger.parse import parse_ledger
from workflow.ledger.readers import read_source

TITLE = "某区数据局2025年政务公开工作任务清单"
UNITS = ["办公室", "政策法规科", "数据资源科", "各街道办事处", "区大数据中心", "信息化建设科"]
DEADLINES = ["2025年6月底前", "2025年12月底前", "长期坚持", "每季度", "2025年9月30日"]
TITLES = ["加强政策解读", "做好依申请公开", "优化政府网站", "推进数据开放", "规范公开目录"]
REQUIREMENT_HEADERS = ["具体要求", "细化分工", "工作措施", "主要内容", "任务内容", "目标任务", ""]
UNIT_HEADERS = ["责任单位", "责任科室", "牵头单位", "责任处室（单位）", "承办单位"]
WORDS = "公开政务信息平台数据服务管理建设工作规范考核群众办理渠道"

sentence = st.text(alphabet=WORDS, min_size=10, max_size=30).map(lambda s: s + "，做好相关工作。")
short = st.text(alphabet=WORDS + "0123456789ABC", min_size=1, max_size=10)


@st.composite
def ledgers(draw):
    extra = draw(st.integers(0, 3))
    columns = [
        ("number", "序号"),
        ("title", draw(st.sampled_from(["工作任务", "重点工作", "重点任务"]))),
        (
            "requirement",
            draw(
                st.one_of(
                    st.sampled_from(REQUIREMENT_HEADERS),
                    st.text(alphabet=WORDS, min_size=2, max_size=6),  # a name duban never saw
                )
            ),
        ),
        ("units", draw(st.sampled_from(UNIT_HEADERS))),
        ("deadline", draw(st.sampled_from(["完成时限", "完成时间", "时间节点"]))),
        *(("extra", draw(st.text(alphabet=WORDS, min_size=2, max_size=6))) for _ in range(extra)),
    ]
    order = draw(st.permutations(range(len(columns))))
    # the number and the title stay in front, as every office writes them
    order = [0, 1, *[i for i in order if i > 1]]
    n = draw(st.integers(1, 6))
    rows = []
    for i in range(1, n + 1):
        values = {
            "number": str(i),
            "title": draw(st.sampled_from(TITLES)) + str(i),
            "requirement": draw(sentence),
            "units": "、".join(
                draw(st.lists(st.sampled_from(UNITS), min_size=1, max_size=2, unique=True))
            ),
            "deadline": draw(st.sampled_from(DEADLINES)),
        }
        row = []
        for index in order:
            role, _ = columns[index]
            row.append(values[role] if role != "extra" else draw(st.one_of(st.just(""), short)))
        rows.append(row)
    header = [columns[index][1] for index in order]
    return [[TITLE], header, *rows], [columns[i][0] for i in order]


def _fields(ledger) -> list[str]:
    out: list[str] = []
    for t in ledger.tasks:
        out += [t.number or "", t.title, t.content or "", t.metric or "", t.deadline_text or ""]
        out += [t.progress or "", *t.section_path, *(m.written for m, _ in t.units)]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=ledgers(), fmt=st.sampled_from(["xlsx", "csv", "docx"]))
def test_every_cell_is_accounted_for(ledger, fmt) -> None:
    rows, roles = ledger
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"清单.{fmt}"
        if fmt == "docx":
            write_docx(path, [TITLE, {"rows": rows[1:]}])
        else:
            (write_xlsx if fmt == "xlsx" else write_csv)(path, rows)
        parsed = parse_ledger(read_source(path))
    fields = _fields(parsed)
    unused = [(u.header, text) for u in parsed.unused for text in u.texts]
    warnings = "\n".join(parsed.warnings)
    assert len(parsed.tasks) == len(rows) - 2
    for row in rows[2:]:
        for role, text in zip(roles, row, strict=True):
            if not text:
                continue
            if role == "units":
                names = [m.written for t in parsed.tasks for m, _ in t.units]
                assert all(name in names for name in text.split("、")), (text, names)
                continue
            in_field = any(text in f for f in fields)
            named = any(t == text for _, t in unused)
            assert in_field or named, (role, text, parsed.columns)
            if named and not in_field:
                header = next(h for h, t in unused if t == text)
                assert f"未使用的列「{header}」" in warnings or "没有表头" in warnings
    # the requirement text is always the task's content, whatever its header
    for task, row in zip(parsed.tasks, rows[2:], strict=True):
        requirement = row[roles.index("requirement")]
        assert requirement.rstrip("。") in (task.content or ""), (requirement, task.content)

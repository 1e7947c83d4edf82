"""A notice as a printable .docx (python-docx, A4): the 督办单 / 催办通知书 and its 回执.

Rendered from the stored notice alone (:func:`workflow.chasing.notices.notice_view`): no clock,
no config, no calendar, so the same notice always prints the same text.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

GRADE_COLOURS = {"yellow": RGBColor(0xC0, 0x90, 0x00), "orange": RGBColor(0xE0, 0x6C, 0x00)}
RED = RGBColor(0xC0, 0x00, 0x00)
BODY_FONT = "仿宋"
TITLE_FONT = "宋体"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _font(run, name: str, size: float, bold: bool = False, colour: RGBColor | None = None):
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if colour is not None:
        run.font.color.rgb = colour
    return run


def _para(doc, text: str = "", size: float = 14, *, align=None, bold=False, colour=None, font=None):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if text:
        _font(p.add_run(text), font or BODY_FONT, size, bold, colour)
    return p


def _table(doc, rows: list[tuple[str, str]], widths=(Mm(35), Mm(125))):
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        cells = table.add_row().cells
        for cell, text, width, bold in (
            (cells[0], label, widths[0], True),
            (cells[1], value, widths[1], False),
        ):
            cell.width = width
            paragraphs = (text or "").split("\n")
            cell.paragraphs[0].text = ""
            _font(cell.paragraphs[0].add_run(paragraphs[0]), BODY_FONT, 12, bold)
            for extra in paragraphs[1:]:
                _font(cell.add_paragraph().add_run(extra), BODY_FONT, 12)
    return table


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def render_notice(view: dict[str, Any], path: Path) -> None:
    """Write the notice ``view`` (as :func:`notice_view` returns it) to ``path`` as .docx."""
    path.write_bytes(notice_bytes(view))


def notice_bytes(view: dict[str, Any]) -> bytes:
    """The .docx of ``view``, byte for byte the same every time: python-docx stamps each zip
    member with the current time, so the members are written again stamped with the issue day
    (a mail carrying it must be the same mail whenever it is built)."""
    doc = _document(view)
    _drop_extras(doc)
    raw = io.BytesIO()
    doc.save(raw)
    issued = _as_date(view["issued_on"])
    stamp = (max(issued.year, 1980), issued.month, issued.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for member in src.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, src.read(member.filename))
    return out.getvalue()


def _drop_extras(doc) -> None:
    """Leave out the template's preview picture and its Word 2010 style copy (optional parts,
    14 of its 35 KB): the notice rides in mails, up to 20 a mail."""
    for rId, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rId)
    package = doc.part.package
    for rId, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.rels.pop(rId)


def _document(view: dict[str, Any]):
    due, issued = _as_date(view["due"]), _as_date(view["issued_on"])
    grade = f"{view['grade_label']}{'督办' if view['kind'] == 'duban' else '催办'}"
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    props = doc.core_properties
    props.title = f"{view['number']} {view['kind_label']}"
    props.author = view["office"]
    props.created = props.modified = datetime(issued.year, issued.month, issued.day, tzinfo=UTC)

    _para(
        doc,
        view["office"],
        22,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        bold=True,
        colour=RED,
        font=TITLE_FONT,
    )
    _para(doc, view["kind_label"], 26, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, font=TITLE_FONT)
    colour = GRADE_COLOURS.get(view["grade"], RED)
    _para(doc, f"【{grade}】", 16, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, colour=colour)
    _para(doc, view["number"], 14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, f"{view['unit']}：", 16)
    _para(
        doc,
        f"　　你单位承担的下列任务已于{cn_date(due)}到期，至{cn_date(issued)}仍未报送办理情况，"
        f"已逾期{view['days_overdue']}个工作日。现予{'督办' if view['kind'] == 'duban' else '催办'}，"
        "请抓紧办理，并填写下方回执报送办理情况。",
        16,
    )
    _table(
        doc,
        [
            ("任务编号", f"#{view['assignment_id']}"),
            ("工作任务", view["title"]),
            ("具体要求", view["requirement"] or "（台账未列明）"),
            ("完成时限", cn_date(due)),
            ("逾期工作日", f"{view['days_overdue']}个工作日"),
            ("督办等级", f"{grade}（{view['level_label']}）"),
        ],
    )
    _para(doc)
    _para(doc, view["office"], 16, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, cn_date(issued), 16, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(
        doc,
        "- - - - - - - - - - - - - - 沿此线剪开 - - - - - - - - - - - - - -",
        10,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    _para(doc, "回　执", 18, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, font=TITLE_FONT)
    _table(
        doc,
        [
            ("文号", view["number"]),
            ("责任单位", view["unit"]),
            ("工作任务", view["title"]),
            ("办理情况", "\n\n\n\n"),
            ("经办人及电话", ""),
            ("单位负责人（签字）", ""),
            ("回复日期", "　　　　年　　月　　日"),
        ],
    )
    return doc

"""Read a .docx document: paragraphs and every table, in document order.

Tables are read from the XML rather than through ``table.rows[i].cells`` so merges are exact:
``w:gridSpan`` (horizontal) repeats the text into each grid column it covers, ``w:vMerge``
continuation cells (vertical) take the text of the cell above; both are flagged as merged.
A cell with several paragraphs keeps them, joined by line breaks.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from workflow.ledger.readers.document import (
    Row,
    SourceDocument,
    Stream,
    check_container,
    ledger_error,
)
from workflow.ledger.readers.limits import DEFAULT_LIMITS, ImportLimits, check_cell, check_package


def _open(path: Path, limits: ImportLimits):
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    check_container(path, "docx")
    check_package(path, "docx", limits)
    try:
        return docx.Document(str(path))
    except (
        zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError, XMLSyntaxError
    ) as exc:  # fmt: skip
        raise ledger_error(
            path, "", f"文件已损坏或不是有效的 .docx 文件（{type(exc).__name__}）"
        ) from None


def _text(element, parent) -> str:
    from docx.text.paragraph import Paragraph

    lines = [Paragraph(p, parent).text for p in element.iterchildren() if p.tag.endswith("}p")]
    for child in element.iterchildren():  # a nested table inside a cell: keep its text
        if child.tag.endswith("}tbl"):
            lines.extend(_text(tc, parent) for tc in child.iter() if tc.tag.endswith("}tc"))
    text = "\n".join(line.replace("\u3000", " ").rstrip() for line in lines)
    return text.strip()


def _table_rows(tbl, parent, place: str) -> list[Row]:
    rows: list[Row] = []
    previous: list[str] = []
    for number, tr in enumerate(tbl.tr_lst, start=1):
        cells: list[str] = [""] * (tr.grid_before or 0)
        merged: set[int] = set()
        for tc in tr.tc_lst:
            start = len(cells)
            if tc.vMerge == "continue":
                text = previous[start] if start < len(previous) else ""
                merged.add(start)
            else:
                text = _text(tc, parent)
            span = max(tc.grid_span, 1)
            cells.extend([text] * span)
            merged.update(range(start + 1, start + span))
        previous = cells
        width = len(cells)
        line = list(cells)
        while line and not line[-1]:
            line.pop()
        if line:
            flags = frozenset(i for i in merged if i < len(line))
            rows.append(Row(tuple(line), number, place, merged=flags, width=width))
    return rows


def read_docx(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> SourceDocument:
    """The document body as one stream: a paragraph is a one-cell row, then table rows."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = _open(path, limits)
    stream = Stream("正文")
    paragraphs = tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            paragraphs += 1
            text = block.text.replace("\u3000", " ").strip()
            if text:
                check_cell(path, f"正文第{paragraphs}段", text, limits)
                stream.rows.append(Row((text,), paragraphs, "正文", paragraph=True))
        elif isinstance(block, Table):
            tables += 1
            rows = _table_rows(block._tbl, block, f"第{tables}个表格")
            for row in rows:
                for index, text in enumerate(row.cells):
                    check_cell(path, row.where(index), text, limits)
            stream.rows.extend(rows)
    return SourceDocument(path=path, format="docx", streams=[stream])

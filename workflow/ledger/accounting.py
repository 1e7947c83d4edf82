"""Accounting for every cell of a ledger table: nothing the office wrote is dropped silently.

The table parser marks each cell it puts somewhere (a task field, the title or intro, a header,
a section heading, a warning of its own) with :meth:`CellBook.use` / :meth:`CellBook.use_row`.
After parsing, :meth:`CellBook.unused` walks every row of the document and returns the non-empty
cells nobody used, grouped by the column they stand in (under its header) or, for a row outside
any table column, by row. Each group becomes one named warning ("未使用的列「细化分工」…") and
stays on :attr:`ParsedLedger.unused` with its full texts, so the dry run, ``--json``, the review
workbook and the web preview all show the same thing.

A merged cell the reader filled with its corner's text (``Row.merged``) is the same words once:
it is accounted for when the cell to its left or above holds the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflow.ledger.readers.document import Row, SourceDocument, clip

if TYPE_CHECKING:
    from workflow.ledger.headers import Header


@dataclass
class Unused:
    """Cells of one column (under one header) or of one row that no task field took."""

    place: str  # "工作表“台账”", "第2个表格", "" (CSV)
    column: str  # "E列" / "第5列"; "" when the group is a whole row
    header: str  # the column's header text ("" when the column has none)
    rows: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    paragraph: bool = False  # the rows are paragraphs of a Word document

    def message(self, filename: str) -> str:
        rows = _row_ranges(self.rows)
        shown = "、".join(f"“{clip(t, 24)}”" for t in self.texts[:3])
        more = f"等 {len(self.texts)} 处" if len(self.texts) > 3 else ""
        if self.column:
            column = f"{self.place}{self.column}"
            name = f"「{self.header}」" if self.header else f"（{column}，没有表头）"
            where = f"{column}，第{rows}行" if self.header else f"第{rows}行"
            return (
                f"{filename}：未使用的列{name}（{where}）：{shown}{more} 未导入到任何任务字段，"
                f"请核对；可在“列的用途”中（或用 --columns）指定该列的用途"
            )
        unit = "段" if self.paragraph else "行"
        return f"{filename}：{self.place}第{rows}{unit}未识别为任务，未导入：{shown}{more}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "place": self.place,
            "column": self.column,
            "header": self.header,
            "rows": list(self.rows),
            "texts": list(self.texts),
            "paragraph": self.paragraph,
        }


def _row_ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] → "3–5、9"."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(set(numbers)):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}–{prev}")
        start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}–{prev}")
    return "、".join(parts)


class CellBook:
    """Which cells of which rows went somewhere. Rows are the reader's objects (by identity)."""

    def __init__(self) -> None:
        self._used: dict[int, set[int]] = {}
        self._whole: set[int] = set()
        self._header: dict[int, Header] = {}

    def use(self, row: Row, *columns: int | None) -> None:
        cells = self._used.setdefault(id(row), set())
        cells.update(c for c in columns if c is not None)

    def use_row(self, row: Row) -> None:
        self._whole.add(id(row))

    def under(self, row: Row, header: Header | None) -> None:
        """``row`` is read under ``header``: its unused cells are named by that column."""
        if header is not None and not row.paragraph:
            self._header[id(row)] = header

    def used(self, row: Row, column: int) -> bool:
        return id(row) in self._whole or column in self._used.get(id(row), ())

    def unused(self, doc: SourceDocument) -> list[Unused]:
        groups: dict[tuple, Unused] = {}
        for stream in doc.streams:
            previous: Row | None = None
            for row in stream.rows:
                header = self._header.get(id(row))
                for column, text in enumerate(row.cells):
                    if (
                        not text.strip()
                        or self.used(row, column)
                        or _copy(row, column, previous)
                        or _BOILERPLATE.match(text)
                    ):
                        continue
                    if header is not None:
                        key: tuple = (stream.name, row.place, column, header.text(column))
                        group = groups.get(key)
                        if group is None:
                            group = groups[key] = Unused(
                                row.place, row.column_name(column), header.text(column)
                            )
                    else:
                        key = (stream.name, "row", row.number, row.place)
                        group = groups.get(key)
                        if group is None:
                            group = groups[key] = Unused(row.place, "", "", paragraph=row.paragraph)
                    if row.number not in group.rows:
                        group.rows.append(row.number)
                    group.texts.append(text)
                previous = row
        return list(groups.values())


# printing marks of an official document, not words of the plan: "（此页无正文）", "— 3 —"
_BOILERPLATE = re.compile(r"^\s*(?:[（(]?此页无正文[）)]?|[-—－–]+\s*\d{1,3}\s*[-—－–]+)\s*$")


def _copy(row: Row, column: int, previous: Row | None) -> bool:
    """A merged cell repeating the text to its left or above (the reader filled it in)."""
    if column not in row.merged:
        return False
    text = row.cells[column]
    if column and row.cell(column - 1) == text:
        return True
    return previous is not None and previous.cell(column) == text

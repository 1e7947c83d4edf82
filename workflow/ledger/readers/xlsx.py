"""Read an .xlsx workbook: one stream per visible sheet, merged cells filled in."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from workflow.ledger.readers.document import (
    Row,
    SourceDocument,
    Stream,
    check_container,
    column_letter,
    ledger_error,
)
from workflow.ledger.readers.limits import DEFAULT_LIMITS, ImportLimits, check_cell, check_package


def _has_day(number_format: str | None) -> bool:
    """Whether a date format shows the day: 'yyyy"年"m"月"' (typed "2023年9月") does not."""
    if not number_format:
        return True
    bare = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", number_format).lower()
    return "d" in bare


def cell_text(value: Any, number_format: str | None = None) -> str:
    """A cell's value as the text a person sees (1.0 → "1", a date → "2023年11月30日").

    A date shown month-only ("2023年9月": Excel stores the 1st) stays month-only, so a
    deadline reads as the month's end, not its first day; a time of day is kept as "17:30".
    """
    if value is None:
        return ""
    if isinstance(value, datetime | date) and not _has_day(number_format):
        return f"{value.year}年{value.month}月"
    if isinstance(value, datetime):
        if value.time() != time(0):
            return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    return text.strip()


def _open(path: Path, limits: ImportLimits):
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_container(path, "xlsx")
    check_package(path, "xlsx", limits)
    try:
        return openpyxl.load_workbook(path, data_only=True)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:  # fmt: skip  (defusedxml's refusals are ValueError; XML syntax: SyntaxError)
        raise ledger_error(
            path, "", f"文件已损坏或不是有效的 .xlsx 文件（{type(exc).__name__}）"
        ) from None


def _sheet_rows(ws, place: str, path: Path, limits: ImportLimits) -> list[Row]:
    grid: list[list[str]] = [
        [cell_text(c.value, getattr(c, "number_format", None)) for c in row]
        for row in ws.iter_rows()
    ]
    longest = limits.max_cell_chars
    for r, line in enumerate(grid):
        for c, text in enumerate(line):
            if len(text) > longest:
                check_cell(path, f"{place}第{r + 1}行{column_letter(c)}列", text, limits)
    merged: dict[tuple[int, int], bool] = {}
    for rng in ws.merged_cells.ranges:
        corner = ws.cell(rng.min_row, rng.min_col)
        top = cell_text(corner.value, corner.number_format)
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) == (rng.min_row, rng.min_col) or r > len(grid):
                    continue
                line = grid[r - 1]
                line.extend([""] * (c - len(line)))
                line[c - 1] = top
                merged[(r - 1, c - 1)] = True
    rows = []
    width = max((len(line) for line in grid), default=0)
    for r, line in enumerate(grid):
        while line and not line[-1]:
            line.pop()
        if not line:
            continue
        flags = frozenset(c for c in range(len(line)) if merged.get((r, c)))
        rows.append(Row(tuple(line), r + 1, place, letters=True, merged=flags, width=width))
    return rows


def read_xlsx(
    path: Path, sheet: str | None = None, limits: ImportLimits = DEFAULT_LIMITS
) -> SourceDocument:
    """Every visible sheet (or only ``sheet``) as a stream of rows."""
    wb = _open(path, limits)
    doc = SourceDocument(path=path, format="xlsx")
    names = wb.sheetnames
    if sheet is not None and sheet not in names:
        raise ledger_error(
            path, "", f"工作簿中没有名为“{sheet}”的工作表（现有：{'、'.join(names)}）"
        )
    for ws in wb.worksheets:
        if sheet is not None and ws.title != sheet:
            continue
        if sheet is None and ws.sheet_state != "visible":
            continue
        doc.streams.append(Stream(ws.title, _sheet_rows(ws, f"工作表“{ws.title}”", path, limits)))
    wb.close()
    return doc

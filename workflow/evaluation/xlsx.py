"""Writing an .xlsx fast in openpyxl's write-only mode: styled cells, rows, sheets, heights.

The evaluation workbook (:mod:`workflow.evaluation.workbook`) has up to ~600,000 cells at
60,000 assignments. Rows are written by :mod:`workflow.writing.xlsx_stream` (each row one XML string,
style ids computed once per kind of cell). Text is always written as text, never as a formula
(a title someone typed as "=HYPERLINK(…)" stays that text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflow.writing.xlsx_stream import stream_rows

HEADER_ROW = 4
POINTS_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
WAIVED_FILL = "E8F3E8"
SUBTOTAL_FILL = "F2F2F2"
LINE_HEIGHT = 15.0


# -- text and heights ------------------------------------------------------------------------------
def text_width(text: str) -> float:
    """Display width in Excel character units, fast: CJK (3 UTF-8 bytes) counts 2, ASCII 1.

    Two-byte characters count 1.5, a little more than they take, so rows err on the tall side.
    """
    return len(text) + (len(text.encode("utf-8")) - len(text)) / 2


def lines_for(text: str, width: float) -> int:
    usable = max(1.0, width - 1.5)  # cell padding, and words wrapping early
    return sum(
        max(1, -(-int(text_width(part) + 0.999) // int(usable))) for part in text.split("\n")
    )


def row_height(values: Sequence[Any], widths: Sequence[float]) -> float:
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and value:
            lines = max(lines, lines_for(value, width))
    return LINE_HEIGHT * lines + 4


class Styles:
    """One prototype style per kind of cell; cells copy it (styling cell by cell is slow)."""

    def __init__(self, ws) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="999999")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        self._ws = ws
        self._cell = WriteOnlyCell
        self._protos: dict[tuple, Any] = {}
        self._make = {
            "border": border,
            "top": Alignment(vertical="top", wrap_text=True),
            "center": Alignment(horizontal="center", vertical="top"),
            "right": Alignment(horizontal="right", vertical="top"),
            "head": Alignment(horizontal="center", vertical="center", wrap_text=True),
            "bold": Font(bold=True),
            "title": Font(bold=True, size=15),
            "head_fill": PatternFill("solid", fgColor="DDE4EE"),
            "waived": PatternFill("solid", fgColor=WAIVED_FILL),
            "subtotal": PatternFill("solid", fgColor=SUBTOTAL_FILL),
        }

    def cell(self, value: Any, kind: str = "text", fill: str | None = None, bold: bool = False):
        """A cell as (value, style id): ``kind`` text | num | points | pct | date | head | title
        | plain. Written by :func:`workflow.writing.xlsx_stream.fast_row_writer`; strings always as text, never as formulas."""
        key = (kind, fill, bold)
        sid = self._protos.get(key)
        if sid is None:
            sid = self._prototype(kind, fill, bold).style_id
            self._protos[key] = sid
        return (value, sid)

    def _prototype(self, kind: str, fill: str | None, bold: bool):
        m = self._make
        c = self._cell(self._ws)
        if kind == "title":
            c.font = m["title"]
            return c
        if kind == "plain":
            c.alignment = m["top"]
            return c
        c.border = m["border"]
        if kind == "head":
            c.font, c.fill, c.alignment = m["bold"], m["head_fill"], m["head"]
            return c
        c.alignment = {"date": m["center"], "text": m["top"]}.get(kind, m["right"])
        if kind == "date":
            c.number_format = DATE_FORMAT
        elif kind == "points":
            c.number_format = POINTS_FORMAT
        elif kind == "pct":
            c.number_format = "0.0%"
        if fill:
            c.fill = m[fill]
        if bold:
            c.font = m["bold"]
        return c


def start_sheet(wb, name: str, columns: Sequence[tuple[str, float]], freeze: str):
    """A write-only sheet with widths, freeze, print setup and page numbers (set before rows)."""
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    for i, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = freeze
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.5, 0.6
    ws.HeaderFooter.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.HeaderFooter.oddFooter.right.text = name
    stream_rows(ws)  # writes the sheet's top now: set up before any row
    return ws


class SheetWriter:
    """Appends rows to a write-only sheet, keeping the row number and each row's height."""

    def __init__(self, ws, columns: Sequence[tuple[str, float]]) -> None:
        from openpyxl.utils import get_column_letter

        self.ws = ws
        self.widths = [w for _, w in columns]
        self.last = get_column_letter(len(columns))
        self.total_width = sum(self.widths)
        self.row = 0
        self.styles = Styles(ws)

    def append(self, cells: list[Any], height: float | None = None) -> int:
        self.row += 1
        if height is not None:
            self.ws.duban_heights[self.row] = round(height, 2)
        self.ws.append(cells)
        return self.row

    def banner(self, text: str, kind: str = "plain", height: float | None = None) -> None:
        """A line across the whole table (title, subtitle, signatures)."""
        h = height or row_height([text], [self.total_width])
        row = self.append([self.styles.cell(text, kind)], h)
        self.ws.merged_cells.add(f"A{row}:{self.last}{row}")

    def header(self, names: Sequence[str]) -> None:
        cells = [self.styles.cell(n, "head") for n in names]
        self.append(cells, row_height(list(names), self.widths))


def head(w: SheetWriter, title: str, lines: Sequence[str], columns: Sequence[tuple[str, float]]):
    w.banner(title, "title", 30)
    for line in lines:
        w.banner(line)
    w.header([n for n, _ in columns])

"""Read a .csv file: UTF-8 (with or without BOM) or GBK/GB18030, detected."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from workflow.ledger.readers.document import (
    Row,
    SourceDocument,
    Stream,
    check_container,
    ledger_error,
)
from workflow.ledger.readers.limits import (
    DEFAULT_LIMITS,
    ImportLimits,
    check_cell,
    check_file_size,
    check_text,
)

ENCODINGS = ("utf-8-sig", "gb18030")


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """The text and the encoding that decoded it (UTF-8 first: GBK bytes rarely pass as UTF-8)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ledger_error(path, "", "无法识别文件编码（支持 UTF-8、带 BOM 的 UTF-8、GBK）")


def _delimiter(text: str) -> str:
    """The delimiter giving the most records of three or more fields (comma on a tie)."""
    best, best_score = ",", -1
    for candidate in (",", "\t", ";"):
        reader = csv.reader(io.StringIO(text[:65536], newline=""), delimiter=candidate)
        try:
            score = sum(1 for _, rec in zip(range(50), reader, strict=False) if len(rec) >= 3)
        except csv.Error:
            continue
        if score > best_score:
            best, best_score = candidate, score
    return best


def _unquote(cell: str) -> str:
    """ "'=SUM(…)" → "=SUM(…)": the quote ``duban export`` (and Excel users) put before text a
    spreadsheet would take for a formula."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@":
        return cell[1:]
    return cell


def read_csv(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> SourceDocument:
    check_container(path, "csv")
    check_file_size(path, limits)
    data = path.read_bytes()
    check_text(path, data, limits)
    if b"\x00" in data[:4096]:
        raise ledger_error(
            path, "", "文件不是文本格式的 CSV（可能是 UTF-16 或二进制文件），请另存为 UTF-8 CSV"
        )
    text, _encoding = decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    stream = Stream(path.name)
    try:
        for number, record in enumerate(reader, start=1):
            cells = [
                _unquote(c.replace("\r\n", "\n").replace("\u3000", " ").strip()) for c in record
            ]
            width = len(cells)
            for index, cell in enumerate(cells):
                check_cell(path, f"第{number}行第{index + 1}列", cell, limits)
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                stream.rows.append(Row(tuple(cells), number, "", width=width))
    except csv.Error as exc:
        raise ledger_error(path, f"第{reader.line_num}行", f"CSV 格式错误：{exc}") from None
    return SourceDocument(path=path, format="csv", streams=[stream])

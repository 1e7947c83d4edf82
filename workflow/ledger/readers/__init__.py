"""Readers: a ledger file (.xlsx, .docx, .csv) → located rows; :func:`read_source` picks the
reader by the file's extension. ``document`` holds what every reader produces.
"""

from __future__ import annotations

from pathlib import Path

from workflow.ledger.readers.document import SourceDocument, ledger_error
from workflow.ledger.readers.limits import DEFAULT_LIMITS, ImportLimits


def read_source(
    path: str | Path, sheet: str | None = None, limits: ImportLimits | None = None
) -> SourceDocument:
    """Read a ledger file into rows; the reader is chosen by the file's extension. ``limits``
    (default: :data:`DEFAULT_LIMITS`) are checked before the file is parsed."""
    path = Path(path)
    limits = limits or DEFAULT_LIMITS
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from workflow.ledger.readers.xlsx import read_xlsx

        return read_xlsx(path, sheet=sheet, limits=limits)
    if sheet is not None:
        raise ledger_error(path, "", "--sheet 只适用于 .xlsx 工作簿")
    if suffix == ".docx":
        from workflow.ledger.readers.docx import read_docx

        return read_docx(path, limits=limits)
    if suffix == ".csv":
        from workflow.ledger.readers.csv import read_csv

        return read_csv(path, limits=limits)
    hint = {
        ".xls": "请另存为 .xlsx",
        ".doc": "请另存为 .docx",
        ".wps": "请另存为 .docx",
        ".et": "请另存为 .xlsx",
    }
    extra = f"，{hint[suffix]}" if suffix in hint else ""
    raise ledger_error(
        path, "", f"不支持的文件类型“{suffix or '无扩展名'}”（支持 .xlsx、.docx、.csv）{extra}"
    )

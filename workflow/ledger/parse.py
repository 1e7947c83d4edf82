"""Read rows → a parsed ledger: the task table when there is one, else a plan written as prose."""

from __future__ import annotations

from workflow.errors import InvalidInput
from workflow.ledger.parsed import ParsedLedger
from workflow.ledger.prose import parse_prose
from workflow.ledger.readers.document import SourceDocument
from workflow.ledger.table import parse_table


def parse_ledger(
    doc: SourceDocument,
    columns: dict[str, str] | None = None,
    known: frozenset[str] = frozenset(),
) -> ParsedLedger:
    """Parse a read document into tasks; raises LedgerError for anything that is not a ledger.
    ``columns`` are the office's column roles (``--columns``), for a table only; ``known`` the
    directory's names (a column of them is a unit column, whatever its header)."""
    parsed = parse_table(doc, columns, known)
    if parsed is None and columns:
        raise InvalidInput("--columns 只适用于表格形式的台账，这份文件是正文形式的工作要点")
    return parsed if parsed is not None else parse_prose(doc)

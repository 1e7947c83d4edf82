"""Read rows → a parsed ledger: the task table when there is one, else a plan written as prose."""

from __future__ import annotations

from workflow.ledger.parsed import ParsedLedger
from workflow.ledger.prose import parse_prose
from workflow.ledger.readers.document import SourceDocument
from workflow.ledger.table import parse_table


def parse_ledger(doc: SourceDocument) -> ParsedLedger:
    """Parse a read document into tasks; raises LedgerError for anything that is not a ledger."""
    parsed = parse_table(doc)
    return parsed if parsed is not None else parse_prose(doc)

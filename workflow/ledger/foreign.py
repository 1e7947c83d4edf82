"""Is a Word table that starts without a header the ledger continued, or another table (a
contact list after the ledger)? Pure."""

from __future__ import annotations

import re

from workflow.ledger.headers import Header, detect_header
from workflow.ledger.parsed import NUMERAL_ONLY, section_level
from workflow.ledger.readers.document import Row, clip

_ITEM_NUMBER = re.compile(r"^[（(]?\d{1,3}(?:[.．]\d{1,3})*[）)]?\s*[、.．]?$")
_EMAIL_CELL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_DATE_CELL = re.compile(r"^\d{4}[-/.．](?:0?[1-9]|1[0-2])(?:[-/.．](?:0?[1-9]|[12]\d|3[01]))?$")
_PHONE_PUNCTUATION = re.compile(r"[\s()（）+\-—]")


def _contact_cell(value: str) -> bool:
    """A cell that is only a phone number or an e-mail address: a contact list, not a task."""
    value = value.strip()
    if _EMAIL_CELL.match(value):
        return True
    if _DATE_CELL.match(value):
        return False
    digits = _PHONE_PUNCTUATION.sub("", value)
    return digits.isdigit() and 7 <= len(digits) <= 13


def foreign_table(row: Row, header: Header | None) -> str | None:
    """Why a Word table that starts without a header is not the ledger continued (None: it is).

    A ledger split over several tables keeps its width, and its first row is a section or an
    item whose 序号 is a number; a contact list ("科室 | 联系人 | 电话") after the ledger is not.
    """
    if header is None or detect_header(row) is not None:
        return None
    if row.width != header.width:
        return "的列数与表头不一致"
    values = row.values()
    contact = next((v for v in values if _contact_cell(v)), None)
    if contact is not None:
        return f"第一行含电话或邮箱“{clip(contact, 20)}”，像是联系人表"
    number = row.cell(header.first("number")).strip()
    if len(values) == 1 or not number or header.first("number") is None:
        return None
    if _ITEM_NUMBER.match(number) or NUMERAL_ONLY.match(number) or section_level(number):
        return None
    return f"第一行的序号“{clip(number, 12)}”不是编号"

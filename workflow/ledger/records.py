"""The year's records inside an exported ledger: a hidden sheet the importer reads back.

The visible ledger says what a person needs (one row per task, each unit's latest report and
state); a new database needs more to recreate the year: every assignment's state, due dates,
lateness, every report with its date, verification, extension requests, and what kind of task
each row is (a ledger task, one the office added by hand, an event's time limit). The .xlsx
export writes these to a hidden sheet ``duban记录``, one row per task and per assignment, each
keyed by the row of the task on the ledger sheet; readers skip hidden sheets, so the ledger
parses as before, and :mod:`workflow.ledger.restore` applies the records after an import.
A CSV has no room for them (the import says so).

The sheet holds a mark in A1, then one JSON line per task (``["task", ledger row, kind, {…}]``)
and per assignment (``["assignment", ledger row, unit, period, {…}]``), zlib-compressed and
base64-encoded down column A in cells of 30,000 characters (Excel's limit is 32,767): a few dozen
cells for 10,000 assignments, so neither the export, the reader that loads every sheet nor the
import pays for thousands of long cells. Compressed as they are written: the export never holds
more than the compressed bytes.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.ledger.readers.document import ledger_error
from workflow.storage.models import Assignment, ExtensionRequest, Report, Task, Unit

SHEET = "duban记录"
MARK = "duban-records-2"
CHUNK = 30_000
MAX_BYTES = 256 * 2**20  # the records unpacked: a small file must not unpack to gigabytes
_ASSIGNMENT_FIELDS = (
    "role", "state", "due", "original_due", "due_rule", "due_provisional", "late",
    "overdue_since", "reported_at", "verified_at", "returned_count", "created_at",
)  # fmt: skip
_REPORT_FIELDS = ("text", "evidence", "actor", "late", "count", "created_at")
_EXTENSION_FIELDS = (
    "requested_due", "reason", "requested_by", "requested_at", "status", "decided_by",
    "decided_at", "decision_reason",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row_dict(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in names}


def _chunks(text: str) -> list[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def record_rows(session: Session, plan_id: int, task_rows: dict[int, int]) -> Iterator[list[Any]]:
    """The hidden sheet's rows for the plan's tasks written at ``task_rows`` (task id → row)."""
    packer = zlib.compressobj(6)
    packed = bytearray()
    for line in _lines(session, plan_id, task_rows):
        packed += packer.compress(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
    packed += packer.flush()
    text = base64.b64encode(bytes(packed)).decode("ascii")
    yield [MARK]
    for chunk in _chunks(text):
        yield [chunk]


def _lines(session: Session, plan_id: int, task_rows: dict[int, int]) -> Iterator[list[Any]]:
    """One list per task and per assignment: assignments streamed, their reports and
    extension requests read at once beforehand."""
    t, a = Task.__table__.c, Assignment.__table__.c
    tasks = session.execute(
        sa.select(
            t.id,
            t.kind,
            t.title,
            t.event_kind,
            t.event_date,
            t.event_ref,
            t.source_key,
            t.section_path,
        ).where(t.plan_id == plan_id)
    ).all()
    for task in tasks:
        if task.id in task_rows:
            data = _row_dict(
                task,
                ("title", "event_kind", "event_date", "event_ref", "source_key", "section_path"),
            )
            yield ["task", task_rows[task.id], task.kind, data]
    reports: dict[int, list[dict[str, Any]]] = {}
    extensions: dict[int, list[dict[str, Any]]] = {}
    for table, into, names in (
        (Report.__table__, reports, _REPORT_FIELDS),
        (ExtensionRequest.__table__, extensions, _EXTENSION_FIELDS),
    ):  # joined, not "IN (subquery)": SQLite took a second for each on 5,000 assignments
        query = (
            sa.select(table)
            .join(Assignment.__table__, a.id == table.c.assignment_id)
            .join(Task.__table__, t.id == a.task_id)
            .where(t.plan_id == plan_id)
            .order_by(table.c.id)
        )
        for row in session.execute(query):
            into.setdefault(row.assignment_id, []).append(_row_dict(row, names))
    u = Unit.__table__.c
    rows = session.execute(
        sa.select(a, u.name.label("unit_name"))
        .join(Unit.__table__, u.id == a.unit_id)
        .join(Task.__table__, t.id == a.task_id)
        .where(t.plan_id == plan_id)
        .order_by(a.id),
        execution_options={"yield_per": 2000},
    )
    for row in rows:
        if row.task_id not in task_rows:
            continue
        data = _row_dict(row, _ASSIGNMENT_FIELDS)
        data["reports"] = reports.get(row.id, [])
        data["extensions"] = extensions.get(row.id, [])
        yield ["assignment", task_rows[row.task_id], row.unit_name, row.period, data]


@dataclass
class Records:
    """What the hidden sheet of an exported ledger holds, by the task's row on the ledger."""

    kinds: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    assignments: dict[int, list[tuple[str, str, dict[str, Any]]]] = field(default_factory=dict)


def read_records(path: str | Path) -> Records | None:
    """The records of an exported .xlsx, or None (another file, a CSV, an older export)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return None
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
    except Exception:  # the reader already said what is wrong with the file
        return None
    try:
        if SHEET not in wb.sheetnames:
            return None
        rows = wb[SHEET].iter_rows(min_col=1, max_col=1, values_only=True)
        first = next(rows, None)
        if not first or first[0] != MARK:
            return None
        text = "".join(str(row[0]) for row in rows if row and row[0])
        unpack = zlib.decompressobj()
        data = unpack.decompress(base64.b64decode(text), MAX_BYTES)
        if unpack.unconsumed_tail:
            raise ledger_error(
                path, f"隐藏工作表“{SHEET}”", f"记录超过 {MAX_BYTES // 2**20} MB，无法导入"
            )
        lines = data.decode("utf-8").splitlines()
        records = Records()
        for line in lines:
            item = json.loads(line)
            if item[0] == "task":
                records.kinds[int(item[1])] = (str(item[2]), item[3])
            elif item[0] == "assignment":
                entry = (str(item[2]), str(item[3] or ""), item[4])
                records.assignments.setdefault(int(item[1]), []).append(entry)
        return records
    except (ValueError, zlib.error, IndexError, TypeError):  # damaged: import without records
        return None
    finally:
        wb.close()

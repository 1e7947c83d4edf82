"""The year's records inside an exported ledger: a hidden sheet the importer reads back.

The visible ledger says what a person needs (one row per task, each unit's latest report and
state); a new database needs more to recreate the year: every assignment's state, due dates,
lateness, every report with its date, verification, extension requests, and what kind of task
each row is (a ledger task, one the office added by hand, an event's time limit). The .xlsx
export writes these to a hidden sheet ``duban记录``, one row per task and per assignment, each
keyed by the row of the task on the ledger sheet; readers skip hidden sheets, so the ledger
parses as before, and :mod:`workflow.ledger.restore` applies the records after an import.
A CSV has no room for them (the import says so).

Rows: ``["task", ledger row, kind, JSON]`` and ``["assignment", ledger row, unit, period,
JSON…]`` (JSON text cut into cells of at most 30,000 characters, Excel's limit being 32,767).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.models import Assignment, ExtensionRequest, Report, Task, Unit

SHEET = "duban记录"
MARK = "duban-records-1"
CHUNK = 30_000
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
    """The hidden sheet's rows for the plan's tasks written at ``task_rows`` (task id → row):
    assignments streamed, their reports and extension requests read at once beforehand."""
    t, a = Task.__table__.c, Assignment.__table__.c
    yield [MARK]
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
            yield ["task", task_rows[task.id], task.kind, json.dumps(data, ensure_ascii=False)]
    reports: dict[int, list[dict[str, Any]]] = {}
    extensions: dict[int, list[dict[str, Any]]] = {}
    r, e = Report.__table__.c, ExtensionRequest.__table__.c
    mine = sa.select(a.id).join(Task.__table__, t.id == a.task_id).where(t.plan_id == plan_id)
    for row in session.execute(sa.select(r).where(r.assignment_id.in_(mine)).order_by(r.id)):
        reports.setdefault(row.assignment_id, []).append(_row_dict(row, _REPORT_FIELDS))
    for row in session.execute(sa.select(e).where(e.assignment_id.in_(mine)).order_by(e.id)):
        extensions.setdefault(row.assignment_id, []).append(_row_dict(row, _EXTENSION_FIELDS))
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
        text = json.dumps(data, ensure_ascii=False)
        yield ["assignment", task_rows[row.task_id], row.unit_name, row.period, *_chunks(text)]


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
        rows = wb[SHEET].iter_rows(values_only=True)
        first = next(rows, None)
        if not first or first[0] != MARK:
            return None
        records = Records()
        for row in rows:
            if len(row) >= 4 and row[0] == "task":
                records.kinds[int(row[1])] = (str(row[2]), json.loads(row[3]))
            elif len(row) >= 5 and row[0] == "assignment":
                data = json.loads("".join(str(v) for v in row[4:] if v is not None))
                item = (str(row[2]), str(row[3] or ""), data)
                records.assignments.setdefault(int(row[1]), []).append(item)
        return records
    finally:
        wb.close()

"""Recreating the year from an exported ledger: states, reports, extensions, kinds of task.

``duban export ledger x.xlsx`` writes a hidden sheet of records (:mod:`workflow.ledger.records`).
When ``duban import`` reads such a file, :class:`Restorer`:

* before writing, says which rows are tasks this plan already holds by hand or by event
  (kind ``manual`` / ``event``, same title and section): those are not imported again, so the
  export of a database imports back into it without duplicates;
* after the new tasks and assignments are written, gives every assignment of a task this
  import created its recorded state, due dates, lateness, reports (with their dates),
  verification and extension requests, and every task its kind (hand-added, event with its
  date and reference). One ``import.restore`` history row per assignment says so.

Tasks the database already had are never touched: restoring is for a new database (or a plan
deleted and imported again); re-importing an export into its own database changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from states import STATES
from workflow.directory.roles import Caller
from workflow.ledger.planning import PlannedLedger, PlannedTask
from workflow.ledger.records import Records, read_records
from workflow.storage.models import Assignment, ExtensionRequest, History, Plan, Report, Task, Unit
from workflow.vocabulary import UNIT_ROLES

_DATES = ("due", "original_due", "overdue_since", "requested_due")
_TIMES = ("reported_at", "verified_at", "created_at", "requested_at", "decided_at")


def _value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DATES:
        return date.fromisoformat(value)
    if name in _TIMES:
        return datetime.fromisoformat(value)
    return value


def _same_title(recorded: str, parsed: str) -> bool:
    """The parsed title is the recorded one (the parser drops the final stop, a long title
    may be cut at its first clause)."""
    a, b = (re.sub(r"[\s。.；;，,！!？?]", "", t) for t in (recorded, parsed))
    return bool(b) and (a == b or a.startswith(b))


def _fields(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: _value(n, data[n]) for n in names if n in data}


_TEXT_LIMITS = {"actor": 100, "requested_by": 100, "decided_by": 100, "due_rule": 300}


def _checked(record: Any) -> dict[str, Any]:
    """The assignment record, or ValueError: the sheet is data from a file, checked as such."""
    if not isinstance(record, dict):
        raise ValueError("不是记录")
    missing = [name for name in _ASSIGNMENT if name not in record]
    if missing:
        raise ValueError(f"缺少{'、'.join(missing)}")
    if record.get("state") not in STATES or record.get("role") not in ROLES:
        raise ValueError(f"状态“{record.get('state')}”或角色“{record.get('role')}”无效")
    for name in ("due", "original_due"):
        _value(name, record.get(name) or "")  # ValueError when not a date
    for item in [*record.get("reports", []), *record.get("extensions", [])]:
        if not isinstance(item, dict):
            raise ValueError("报送或延期记录无效")
        for name, limit in _TEXT_LIMITS.items():
            if len(str(item.get(name) or "")) > limit:
                raise ValueError(f"{name} 过长")
        if "status" in item and item["status"] not in ("pending", "approved", "refused"):
            raise ValueError(f"延期申请状态“{item['status']}”无效")
        _fields(item, (*_REPORT, *_EXTENSION))
    if not all(isinstance(r.get("text"), str) for r in record.get("reports", [])):
        raise ValueError("报送内容无效")
    for request in record.get("extensions", []):
        if not isinstance(request.get("reason"), str) or not request.get("requested_due"):
            raise ValueError("延期申请无效")
    _fields(record, _ASSIGNMENT)
    return record


_ASSIGNMENT = (
    "role", "state", "due", "original_due", "due_rule", "due_provisional", "late",
    "overdue_since", "reported_at", "verified_at", "returned_count",
)  # fmt: skip
_REPORT = ("text", "evidence", "actor", "late", "count", "created_at")
ROLES = UNIT_ROLES
_EXTENSION = (
    "requested_due", "reason", "requested_by", "requested_at", "status", "decided_by",
    "decided_at", "decision_reason",
)  # fmt: skip


class Restorer:
    """The records of one import's file (none for a file that is not a duban export)."""

    def __init__(
        self,
        session: Session,
        caller: Caller,
        now: datetime,
        planned: PlannedLedger,
        path: str | Path,
        *,
        dry_run: bool,
    ) -> None:
        self.session = session
        self.caller = caller
        self.now = now
        self.planned = planned
        self.dry_run = dry_run
        self.records: Records | None = read_records(path)
        self.changes: list[str] = []
        self.warnings: list[str] = []

    def _kind(self, pt: PlannedTask) -> tuple[str, dict[str, Any]]:
        if self.records is None:
            return "ledger", {}
        return self.records.kinds.get(pt.parsed.row.number, ("ledger", {}))

    def known(self, plan: Plan, pt: PlannedTask) -> bool:
        """A hand-added or event task this plan already holds: not imported again."""
        kind, _ = self._kind(pt)
        if kind == "ledger" or plan.id is None:
            return False
        t = Task.__table__.c
        found = self.session.execute(
            sa.select(t.id).where(t.plan_id == plan.id, t.kind == kind, t.title == pt.parsed.title)
        ).all()
        return bool(found)

    def apply(self, created: list[tuple[PlannedTask, int | None]]) -> None:
        """Restore the records of the tasks this import created (``(task, new id)``)."""
        if self.records is None:
            return
        rows = [(pt, task_id) for pt, task_id in created if self._recorded(pt)]
        assignments = sum(
            len(self.records.assignments.get(pt.parsed.row.number, [])) for pt, _ in rows
        )
        reports = sum(
            len(data.get("reports", []))
            for pt, _ in rows
            for _, _, data in self.records.assignments.get(pt.parsed.row.number, [])
        )
        if not rows:
            return
        self.changes.append(
            f"按导出台账的记录恢复 {len(rows)} 项任务的 {assignments} 个分派（状态、截止日期、"
            f"延期）和 {reports} 条报送"
        )
        if self.dry_run:
            return
        names = dict(self.session.execute(sa.select(Unit.name, Unit.id)).all())
        self._updates: list[dict[str, Any]] = []
        self._rows: dict[Any, list[dict[str, Any]]] = {
            Report.__table__: [],
            ExtensionRequest.__table__: [],
            History.__table__: [],
        }
        for pt, task_id in rows:
            assert task_id is not None
            self._task(pt, task_id, names)
        self._write()

    def _write(self) -> None:
        """The collected changes in a few statements (executemany): 10,000 assignments are
        restored in seconds, not one round trip each."""
        table = Assignment.__table__
        if self._updates:
            columns = [k for k in self._updates[0] if k != "b_id"]
            self.session.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("b_id"))
                .values({c: sa.bindparam(c) for c in columns}),
                self._updates,
                execution_options={"synchronize_session": False},
            )
        for target, rows in self._rows.items():
            if rows:
                self.session.execute(sa.insert(target), rows)
        self.session.flush()

    def _recorded(self, pt: PlannedTask) -> bool:
        """The row has records, and they are this task's (rows inserted in the workbook after
        the export would give another task's records: refused with a warning)."""
        assert self.records is not None
        number = pt.parsed.row.number
        if number not in self.records.kinds:
            return False
        title = self.records.kinds[number][1].get("title") or ""
        if _same_title(title, pt.parsed.title):
            return True
        self.warnings.append(
            f"{self.planned.parsed.path.name}：{pt.parsed.row.where()}：任务“{pt.parsed.title}”"
            f"与导出时该行的任务“{title}”不同（导出后插入或删除了行？），其状态和报送记录未恢复"
        )
        return False

    def _task(self, pt: PlannedTask, task_id: int, names: dict[str, int]) -> None:
        assert self.records is not None
        kind, data = self._kind(pt)
        if kind != "ledger":
            event_date = data.get("event_date")
            self.session.execute(
                sa.update(Task.__table__)
                .where(Task.__table__.c.id == task_id)
                .values(
                    kind=kind,
                    event_kind=data.get("event_kind"),
                    event_date=date.fromisoformat(event_date) if event_date else None,
                    event_ref=data.get("event_ref"),
                    section_path=data.get("section_path") or [],
                    source_key=None,  # not the ledger's: a re-import leaves it alone
                )
            )
        a = Assignment.__table__.c
        written = {
            (row.unit_id, row.period): row.id
            for row in self.session.execute(
                sa.select(a.id, a.unit_id, a.period).where(a.task_id == task_id)
            )
        }
        used: set[int] = set()
        for unit_name, period, record in self.records.assignments.get(pt.parsed.row.number, []):
            unit_id = names.get(unit_name)
            if unit_id is None:
                self.warnings.append(
                    f"{pt.parsed.where()}：记录中的单位“{unit_name}”不在单位名录中，其记录未恢复"
                )
                continue
            try:
                record = _checked(record)
            except (ValueError, TypeError) as exc:
                self.warnings.append(
                    f"{pt.parsed.where()}：单位“{unit_name}”的记录无效（{exc}），未恢复"
                )
                continue
            assignment_id = written.get((unit_id, period))
            if assignment_id is None or assignment_id in used:
                assignment_id = next(
                    (i for (u, _), i in written.items() if u == unit_id and i not in used), None
                )
            used.add(self._assignment(task_id, unit_id, period, record, assignment_id))
        extra = [i for i in written.values() if i not in used]
        if extra:  # written by this import, not in the records (an event's default periods)
            h = History.__table__.c
            self.session.execute(sa.delete(History.__table__).where(h.assignment_id.in_(extra)))
            self.session.execute(sa.delete(Assignment.__table__).where(a.id.in_(extra)))

    def _assignment(
        self,
        task_id: int,
        unit_id: int,
        period: str,
        record: dict[str, Any],
        assignment_id: int | None,
    ) -> int:
        values = {**_fields(record, _ASSIGNMENT), "period": period}
        if assignment_id is None:
            row = Assignment(task_id=task_id, unit_id=unit_id, created_at=self.now, **values)
            self.session.add(row)
            self.session.flush()
            assignment_id = row.id
        else:
            self._updates.append({"b_id": assignment_id, **values})
        assert assignment_id is not None
        for report in record.get("reports", []):
            self._rows[Report.__table__].append(
                {**_defaults(Report), "assignment_id": assignment_id, **_fields(report, _REPORT)}
            )
        for request in record.get("extensions", []):
            self._rows[ExtensionRequest.__table__].append(
                {
                    **_defaults(ExtensionRequest),
                    "assignment_id": assignment_id,
                    **_fields(request, _EXTENSION),
                }
            )
        self._rows[History.__table__].append(
            {
                **_defaults(History),
                "entity": "assignment",
                "assignment_id": assignment_id,
                "task_id": task_id,
                "action": "import.restore",
                "from_state": "assigned",
                "to_state": values.get("state"),
                "actor": self.caller.name,
                "role": self.caller.role,
                "address": self.caller.address,
                "data": {
                    "file": self.planned.parsed.path.name,
                    "reports": len(record.get("reports", [])),
                    "extensions": len(record.get("extensions", [])),
                },
                "at": self.now,
            }
        )
        return assignment_id


def _defaults(model: Any) -> dict[str, Any]:
    """Every column of ``model``'s table but the id, None (rows of one executemany must have
    the same keys); the record's values are laid over it."""
    return {c.name: None for c in model.__table__.columns if c.name != "id"}

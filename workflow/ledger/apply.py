"""Applying a planned ledger to the database: the plan row, changed tasks and assignments.

:class:`LedgerApplier` compares what the file says with what the plan holds and records every
change (counts, the change lines of the dry run, history). Rows that already exist are changed
through the ORM and the lifecycle (few, one by one); new tasks and assignments are queued and
written by :meth:`LedgerApplier.write_new` in a few multi-row INSERTs, or not at all in a dry run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from states import FINAL_STATES
from workflow.dates.due import Due
from workflow.directory.history import write_history
from workflow.directory.roles import Caller
from workflow.ledger.parsed import ParsedLedger
from workflow.ledger.planning import PlannedLedger, PlannedTask
from workflow.ledger.resolve import ResolvedUnit
from workflow.ledger.result import (
    FIELD_LABELS,
    diff_text,
    jsonable,
    period_label,
    short,
    show_value,
    state_verb,
)
from workflow.ledger.units_cell import units_as_written
from workflow.storage.models import Assignment, History, Plan, Task, Unit
from workflow.tasks.assignments import ROLE_LABELS
from workflow.tasks.bulk import NewAssignment, insert_assignments, insert_returning_ids

TASK_FIELDS = (
    "section_path",
    "number",
    "title",
    "content",
    "metric",
    "deadline_text",
    "lead_units",
    "responsible_units",
    "cooperating_units",
)


def _count(counts: dict[str, int], key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


@dataclass
class NewTask:
    """A task the file adds: its row values, filled with an id by :meth:`write_new`."""

    fields: dict[str, Any]
    key: str
    row: str
    id: int | None = None
    assignments: list[tuple[ResolvedUnit, Due]] = field(default_factory=list)


class LedgerApplier:
    def __init__(
        self,
        session: Session,
        caller: Caller,
        now: datetime,
        planned: PlannedLedger,
        *,
        dry_run: bool = False,
    ) -> None:
        self.session = session
        self.caller = caller
        self.now = now
        self.planned = planned
        self.dry_run = dry_run
        self.parsed: ParsedLedger = planned.parsed
        self.changes: list[str] = []
        self.counts: dict[str, int] = {
            "tasks_created": 0,
            "tasks_updated": 0,
            "tasks_removed": 0,
            "assignments_created": 0,
            "assignments_updated": 0,
            "assignments_cancelled": 0,
            "assignments_reopened": 0,
        }
        self.warnings: list[str] = list(planned.warnings)
        self.new_tasks: list[NewTask] = []
        self.new_assignments: list[NewAssignment] = []
        self.assignments: dict[int, list[Any]] = {}  # task id → its assignments (plain rows)
        self.source_change: str | None = None

    # -- plan -----------------------------------------------------------------------------------
    def plan(self) -> tuple[Plan, str]:
        title = _clip(self.parsed.title, 300) or self.parsed.path.stem
        plan = self.session.exec(
            select(Plan).where(Plan.year == self.planned.year, Plan.title == title)
        ).first()
        wanted = {
            "issuer": _clip(self.parsed.issuer, 200),
            "report_dates": [d.isoformat() for d in self.planned.report_dates],
            "source_file": _clip(self.parsed.path.name, 500),
        }
        if plan is None:
            plan = Plan(year=self.planned.year, title=title, created_at=self.now, **wanted)
            self.changes.append(f"新建工作计划“{title}”（{self.planned.year} 年）")
            if self.dry_run:  # nothing written: the preview needs only its fields
                return plan, "create"
            self.session.add(plan)
            self.session.flush()
            self._history(
                None,
                "plan.import",
                {"plan": plan.id, "title": title, "file": self.parsed.path.name},
            )
            return plan, "create"
        source = wanted.pop("source_file")
        if plan.source_file != source:  # the file it came from last: named among other changes
            self.source_change = (
                f"工作计划的来源文件：{show_value(plan.source_file)} → {show_value(source)}"
            )
            plan.source_file = source
            self.session.add(plan)
        diff = {k: (getattr(plan, k), v) for k, v in wanted.items() if getattr(plan, k) != v}
        if not diff:
            return plan, "unchanged"
        for key, (_, new) in diff.items():
            setattr(plan, key, new)
        self.session.add(plan)
        self._history(
            None, "plan.update", {"plan": plan.id, "changes": {k: list(v) for k, v in diff.items()}}
        )
        labels = {"issuer": "发文单位", "report_dates": "报送日期"}
        for key, (old, new) in diff.items():
            self.changes.append(f"工作计划的{labels[key]}：{show_value(old)} → {show_value(new)}")
        return plan, "update"

    def existing_tasks(self, plan: Plan) -> dict[str, Task]:
        """The plan's ledger tasks by source key; their assignments loaded in one query."""
        if plan.id is None:
            return {}
        tasks = self.session.exec(
            select(Task).where(Task.plan_id == plan.id, Task.kind == "ledger")
        ).all()
        t, a = Task.__table__.c, Assignment.__table__.c
        rows = self.session.execute(
            sa.select(a.id, a.task_id, a.unit_id, a.period, a.state, a.role, a.due)
            .add_columns(a.original_due, a.due_rule)
            .join_from(Assignment.__table__, Task.__table__, t.id == a.task_id)
            .where(t.plan_id == plan.id, t.kind == "ledger")
            .order_by(a.id)
        ).all()  # plain rows: 10,000 ORM objects cost more than the whole comparison
        for row in rows:
            self.assignments.setdefault(row.task_id, []).append(row)
        return {t.source_key: t for t in tasks}

    def _history(
        self,
        task: Task | None,
        action: str,
        data: dict[str, Any],
        assignment: Assignment | None = None,
    ) -> None:
        write_history(
            self.session,
            self.caller,
            action,
            self.now,
            entity="assignment" if assignment else ("task" if task else "plan"),
            assignment=assignment,
            task_id=task.id if task else None,
            data={"file": self.parsed.path.name, **data},
        )

    # -- tasks ----------------------------------------------------------------------------------
    def task_fields(self, planned: PlannedTask, units: list[ResolvedUnit]) -> dict[str, Any]:
        p = planned.parsed
        by_role = {role: [u.unit.name for u in units if u.role == role] for role in ROLE_LABELS}
        return {
            "section_path": list(p.section_path),
            "number": _clip(p.number, 30),
            "title": _clip(p.title, 500),
            "content": p.content,
            "metric": p.metric,
            "deadline_text": _clip(planned.deadline_text, 300),
            "lead_units": by_role["lead"],
            "responsible_units": by_role["responsible"],
            "cooperating_units": by_role["cooperating"],
            "units_written": units_as_written(p.units),
        }

    def apply_task(
        self, plan: Plan, existing: Task | None, planned: PlannedTask, units: list[ResolvedUnit]
    ) -> tuple[Task | NewTask, str]:
        fields = self.task_fields(planned, units)
        written = fields.pop("units_written")  # how the cells are written: kept, never a change
        label = f"任务 {fields['number'] or ''}“{short(fields['title'])}”".replace(" “", "“")
        if existing is None:
            new = NewTask(
                fields={**fields, "units_written": written},
                key=planned.parsed.key,
                row=planned.parsed.row.where(),
            )
            for resolved in units:
                for due in planned.deadline.dues:
                    new.assignments.append((resolved, due))
            # one assignment per (unit, period), as the unique key wants
            new.assignments = list(
                {(r.unit.id, d.period): (r, d) for r, d in new.assignments}.values()
            )
            self.new_tasks.append(new)
            _count(self.counts, "tasks_created")
            _count(self.counts, "assignments_created", len(new.assignments))
            self.changes.append(f"新增{label}")
            return new, "created"
        task = existing
        if task.units_written != written:
            task.units_written = written
            self.session.add(task)
        diff = {k: (getattr(task, k), v) for k, v in fields.items() if getattr(task, k) != v}
        status = "unchanged"
        if diff:
            for key, (_, new_value) in diff.items():
                setattr(task, key, new_value)
            self.session.add(task)
            self._history(
                task,
                "task.update",
                {"changes": {k: [jsonable(a), jsonable(b)] for k, (a, b) in diff.items()}},
            )
            _count(self.counts, "tasks_updated")
            for key, (old, new_value) in diff.items():
                self.changes.append(
                    f"{label}的{FIELD_LABELS[key]}：{show_value(old)} → {show_value(new_value)}"
                )
            status = "updated"
        if (
            self.apply_assignments(task, planned.deadline.dues, units, label)
            and status == "unchanged"
        ):
            status = "updated"
        return task, status

    def apply_assignments(
        self, task: Task, dues: list[Due], units: list[ResolvedUnit], label: str
    ) -> bool:
        """Make an existing task's assignments match (unit × period); True when anything changed."""
        existing = {(a.unit_id, a.period): a for a in self.assignments.get(task.id, [])}
        wanted: dict[tuple[int, str], tuple[ResolvedUnit, Due]] = {}
        for resolved in units:
            for due in dues:
                wanted[(resolved.unit.id, due.period)] = (resolved, due)
        changed = False
        for key, (resolved, due) in wanted.items():
            a = existing.get(key)
            if a is not None and a.state == "cancelled" and self.reopen(a, resolved, label):
                a = self.session.get(Assignment, a.id)  # reopened: compare its state now
                changed = True
            if a is None:
                self.new_assignments.append(_new_assignment(task.id, resolved, due))
                _count(self.counts, "assignments_created")
                self.changes.append(
                    f"{label}新增分派：{resolved.unit.name}（{period_label(due)}，截止 {due.due}）"
                )
                changed = True
            elif self.update_assignment(a, resolved, due, label):
                changed = True
        for key, a in existing.items():
            if key not in wanted and a.state not in FINAL_STATES:
                self.cancel(a, label)
                changed = True
        return changed

    def update_assignment(self, a: Any, resolved: ResolvedUnit, due: Due, label: str) -> bool:
        diff: dict[str, list[Any]] = {}
        if a.role != resolved.role:
            diff["role"] = [a.role, resolved.role]
        if a.original_due != due.due or a.due_rule != due.rule:
            diff["original_due"] = [a.original_due.isoformat(), due.due.isoformat()]
        if not diff:
            return False
        who = f"{label}的分派 {resolved.unit.name}（{period_label(due)}）"
        if a.state in FINAL_STATES:
            self.warnings.append(
                f"{who}已{state_verb(a.state)}，台账中的变更（{diff_text(diff)}）未应用"
            )
            return False
        a = self.session.get(Assignment, a.id)  # the row to change, through the ORM
        a.role = resolved.role
        if "original_due" in diff:
            extended = a.due != a.original_due
            a.original_due = due.due
            a.due_rule = due.rule
            a.due_provisional = due.provisional
            if not extended or a.due < due.due:
                a.due = due.due
        self.session.add(a)
        self.session.flush()
        self._history(None, "import.update", {"changes": diff}, assignment=a)
        _count(self.counts, "assignments_updated")
        self.changes.append(f"{who}：{diff_text(diff)}")
        return True

    def cancel(self, a: Any, label: str) -> None:
        from workflow.tasks.lifecycle import fire

        unit = self.session.get(Unit, a.unit_id)
        name = unit.name if unit else str(a.unit_id)
        reason = f"重新导入台账 {self.parsed.path.name}：{label}不再包含{name}" + (
            f"（{a.period}）" if a.period else ""
        )
        fire(
            self.session, a.id, "cancel", self.caller, now=self.now, reason=reason,
            data={"by_import": self.parsed.path.name},
        )  # fmt: skip
        _count(self.counts, "assignments_cancelled")
        self.changes.append(f"撤销{label}的分派：{name}" + (f"（{a.period}）" if a.period else ""))

    def reopen(self, a: Any, resolved: ResolvedUnit, label: str) -> bool:
        """Reopen ``a`` if an earlier import cancelled it; warn (False) if the office did."""
        from workflow.tasks.lifecycle import fire, last_cancel

        where = f"{label}的分派 {resolved.unit.name}" + (f"（{a.period}）" if a.period else "")
        cancel = last_cancel(self.session, a.id)
        by_import = cancel is not None and (cancel.data or {}).get("by_import")
        if not by_import:
            self.warnings.append(
                f"{where}已由办公室撤销，台账仍列出该分派，未恢复（如需恢复：duban task reopen {a.id}）"
            )
            return False
        reason = f"重新导入台账 {self.parsed.path.name}：{label}重新包含{resolved.unit.name}"
        fire(self.session, a.id, "reopen", self.caller, now=self.now, reason=reason)
        _count(self.counts, "assignments_reopened")
        self.changes.append(f"恢复{where}")
        return True

    def remove_missing(self, plan: Plan, seen: set[str]) -> None:
        """Tasks of this plan no longer in the file: cancel their open assignments."""
        if plan.id is None:
            return
        tasks = self.session.exec(
            select(Task).where(Task.plan_id == plan.id, Task.kind == "ledger")
        ).all()
        for task in tasks:
            if task.source_key in seen:
                continue
            open_ = [a for a in self.assignments.get(task.id, []) if a.state not in FINAL_STATES]
            if not open_:
                continue
            label = f"任务 {task.number or ''}“{short(task.title)}”".replace(" “", "“")
            self.changes.append(f"{label}已不在台账中")
            _count(self.counts, "tasks_removed")
            for a in open_:
                self.cancel(a, label)

    # -- the new rows, written at once ----------------------------------------------------------
    def write_new(self, plan: Plan) -> None:
        """Insert the queued tasks, assignments and their history (nothing in a dry run)."""
        if self.dry_run:
            return
        self.session.flush()
        if self.new_tasks:
            table = Task.__table__
            rows = [
                {
                    **{c.name: None for c in table.columns if c.name != "id"},
                    "plan_id": plan.id,
                    "kind": "ledger",
                    "source_key": t.key,
                    "created_at": self.now,
                    **t.fields,
                }
                for t in self.new_tasks
            ]
            ids = insert_returning_ids(self.session, table, rows)
            for t, task_id in zip(self.new_tasks, ids, strict=True):
                t.id = task_id
            self.session.execute(
                sa.insert(History.__table__),
                [
                    {
                        "assignment_id": None,
                        "task_id": t.id,
                        "entity": "task",
                        "action": "task.import",
                        "from_state": None,
                        "to_state": None,
                        "actor": self.caller.name,
                        "role": self.caller.role,
                        "address": self.caller.address,
                        "reason": None,
                        "data": {
                            "file": self.parsed.path.name,
                            "plan": plan.id,
                            "key": t.key,
                            "row": t.row,
                        },
                        "at": self.now,
                    }
                    for t in self.new_tasks
                ],
            )
        items = (  # made as they are written, a batch at a time
            _new_assignment(t.id, resolved, due)
            for t in self.new_tasks
            for resolved, due in t.assignments
        )
        insert_assignments(
            self.session, chain(items, self.new_assignments), actor=self.caller, now=self.now
        )


def _new_assignment(task_id: int | None, resolved: ResolvedUnit, due: Due) -> NewAssignment:
    assert task_id is not None
    return NewAssignment(
        task_id=task_id,
        unit_id=resolved.unit.id,
        unit_name=resolved.unit.name,
        due=due.due,
        role=resolved.role,
        period=due.period,
        due_rule=due.rule,
        due_provisional=due.provisional,
    )

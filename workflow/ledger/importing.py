"""Importing a ledger into the database: plan, tasks, assignments; re-import and dry run.

:func:`import_ledger` reads the file, parses it, reads every deadline, resolves every unit and
then writes, all in the caller's session (one transaction: the caller commits, any error rolls
everything back). A plan is identified by its year and title, a task by its ``source_key`` (its
number, see :func:`workflow.ledger.parsed.assign_keys`), an assignment by (task, unit,
period). So importing the same file again changes nothing, and an edited version changes only
what differs: changed task fields, new or changed assignments, and assignments of units (or
tasks) no longer in the file are cancelled (撤销) through the lifecycle, with a reason. When a
later version lists them again, the assignments an import cancelled are reopened (恢复); the
ones the office cancelled by hand stay cancelled, with a warning. A due date the office already
extended keeps its extension; only ``original_due`` follows the file.

``dry_run`` does all of that and then rolls the session back, so the preview is exactly what
an import would do. The session must have nothing else pending.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from states import FINAL_STATES
from workflow.directory.roles import Caller, require_role
from workflow.due import Due
from workflow.ledger.parse import parse_ledger
from workflow.ledger.parsed import ParsedLedger
from workflow.ledger.planning import PlannedLedger, PlannedTask, plan_ledger
from workflow.ledger.prose import ProseLedger, resolve_paragraph_units
from workflow.ledger.readers import read_source
from workflow.ledger.resolve import ResolvedUnit, UnitResolver
from workflow.ledger.result import (
    FIELD_LABELS,
    ImportResult,
    TaskView,
    diff_text,
    jsonable,
    period_label,
    short,
    show_value,
    state_verb,
    task_view,
)
from workflow.models import Assignment, History, Plan, Task, Unit
from workflow.tasks.assignments import ROLE_LABELS, create_assignment

Progress = Callable[[int, int], None]
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


class _Importer:
    def __init__(
        self, session: Session, caller: Caller, now: datetime, planned: PlannedLedger
    ) -> None:
        self.session = session
        self.caller = caller
        self.now = now
        self.planned = planned
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
            self.session.add(plan)
            self.session.flush()
            self._history(
                None,
                "plan.import",
                {"plan": plan.id, "title": title, "file": self.parsed.path.name},
            )
            self.changes.append(f"新建工作计划“{title}”（{self.planned.year} 年）")
            return plan, "create"
        diff = {k: (getattr(plan, k), v) for k, v in wanted.items() if getattr(plan, k) != v}
        if not diff:
            return plan, "unchanged"
        for key, (_, new) in diff.items():
            setattr(plan, key, new)
        self.session.add(plan)
        self._history(
            None, "plan.update", {"plan": plan.id, "changes": {k: list(v) for k, v in diff.items()}}
        )
        labels = {"issuer": "发文单位", "report_dates": "报送日期", "source_file": "来源文件"}
        for key, (old, new) in diff.items():
            self.changes.append(f"工作计划的{labels[key]}：{show_value(old)} → {show_value(new)}")
        return plan, "update"

    def _history(
        self,
        task: Task | None,
        action: str,
        data: dict[str, Any],
        assignment: Assignment | None = None,
    ) -> None:
        self.session.add(
            History(
                entity="assignment" if assignment else ("task" if task else "plan"),
                assignment_id=assignment.id if assignment else None,
                task_id=task.id if task else (assignment.task_id if assignment else None),
                action=action,
                actor=self.caller.name,
                role=self.caller.role,
                address=self.caller.address,
                data={"file": self.parsed.path.name, **data},
                at=self.now,
            )
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
        }

    def apply_task(
        self, plan: Plan, existing: Task | None, planned: PlannedTask, units: list[ResolvedUnit]
    ) -> tuple[Task, str]:
        fields = self.task_fields(planned, units)
        label = f"任务 {fields['number'] or ''}“{short(fields['title'])}”".replace(" “", "“")
        if existing is None:
            task = Task(
                plan_id=plan.id,
                kind="ledger",
                source_key=planned.parsed.key,
                created_at=self.now,
                **fields,
            )
            self.session.add(task)
            self.session.flush()
            self._history(
                task,
                "task.import",
                {"plan": plan.id, "key": task.source_key, "row": planned.parsed.row.where()},
            )
            _count(self.counts, "tasks_created")
            self.changes.append(f"新增{label}")
            status = "created"
        else:
            task = existing
            diff = {k: (getattr(task, k), v) for k, v in fields.items() if getattr(task, k) != v}
            status = "unchanged"
            if diff:
                for key, (_, new) in diff.items():
                    setattr(task, key, new)
                self.session.add(task)
                self._history(
                    task,
                    "task.update",
                    {"changes": {k: [jsonable(a), jsonable(b)] for k, (a, b) in diff.items()}},
                )
                _count(self.counts, "tasks_updated")
                for key, (old, new) in diff.items():
                    self.changes.append(
                        f"{label}的{FIELD_LABELS[key]}：{show_value(old)} → {show_value(new)}"
                    )
                status = "updated"
        changed = self.apply_assignments(
            task, planned.deadline.dues, units, label, new_task=existing is None
        )
        if changed and status == "unchanged":
            status = "updated"
        return task, status

    def apply_assignments(
        self, task: Task, dues: list[Due], units: list[ResolvedUnit], label: str, new_task: bool
    ) -> bool:
        """Make the task's assignments match (unit × period); True when anything changed."""
        existing = {
            (a.unit_id, a.period): a
            for a in self.session.exec(
                select(Assignment).where(Assignment.task_id == task.id)
            ).all()
        }
        wanted: dict[tuple[int, str], tuple[ResolvedUnit, Due]] = {}
        for resolved in units:
            for due in dues:
                wanted[(resolved.unit.id, due.period)] = (resolved, due)
        changed = False
        for key, (resolved, due) in wanted.items():
            a = existing.get(key)
            if a is not None and a.state == "cancelled" and self.reopen(a, resolved, label):
                changed = True
            if a is None:
                create_assignment(
                    self.session, task, resolved.unit, due=due.due, actor=self.caller, now=self.now,
                    role=resolved.role, period=due.period, due_rule=due.rule, due_provisional=due.provisional,
                )  # fmt: skip
                _count(self.counts, "assignments_created")
                if not new_task:
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

    def update_assignment(
        self, a: Assignment, resolved: ResolvedUnit, due: Due, label: str
    ) -> bool:
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

    def cancel(self, a: Assignment, label: str) -> None:
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

    def reopen(self, a: Assignment, resolved: ResolvedUnit, label: str) -> bool:
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
        tasks = self.session.exec(
            select(Task).where(Task.plan_id == plan.id, Task.kind == "ledger")
        ).all()
        for task in tasks:
            if task.source_key in seen:
                continue
            open_ = [
                a
                for a in self.session.exec(
                    select(Assignment).where(Assignment.task_id == task.id)
                ).all()
                if a.state not in FINAL_STATES
            ]
            if not open_:
                continue
            label = f"任务 {task.number or ''}“{short(task.title)}”".replace(" “", "“")
            self.changes.append(f"{label}已不在台账中")
            _count(self.counts, "tasks_removed")
            for a in open_:
                self.cancel(a, label)


def read_ledger(
    path: str | Path,
    *,
    calendar: Any,
    plan_year: int | None = None,
    report_dates: list[date] | None = None,
    sheet: str | None = None,
) -> PlannedLedger:
    """Read, parse and date a ledger file (no database)."""
    parsed = parse_ledger(read_source(path, sheet=sheet))
    return plan_ledger(parsed, calendar=calendar, year=plan_year, dates=report_dates)


def import_ledger(
    session: Session,
    caller: Caller,
    path: str | Path,
    *,
    calendar: Any,
    now: datetime,
    plan_year: int | None = None,
    report_dates: list[date] | None = None,
    sheet: str | None = None,
    create_units: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import (or, with ``dry_run``, preview) a ledger file. Office only."""
    require_role(caller, "office", "导入台账")
    planned = read_ledger(
        path, calendar=calendar, plan_year=plan_year, report_dates=report_dates, sheet=sheet
    )
    resolver = UnitResolver(session, caller, now, create_units=create_units)
    if isinstance(planned.parsed, ProseLedger):  # paragraphs: unknown units warn in a dry run
        resolved = resolve_paragraph_units(resolver, planned, dry_run=dry_run)
    else:
        resolved = resolver.resolve_all([t.parsed for t in planned.tasks], planned.parsed.path)
    importer = _Importer(session, caller, now, planned)
    plan, action = importer.plan()
    existing = {
        t.source_key: t
        for t in session.exec(
            select(Task).where(Task.plan_id == plan.id, Task.kind == "ledger")
        ).all()
    }
    views: list[TaskView] = []
    total = len(planned.tasks)
    for index, (pt, units) in enumerate(zip(planned.tasks, resolved, strict=True), start=1):
        task, status = importer.apply_task(plan, existing.get(pt.parsed.key), pt, units)
        views.append(task_view(pt, units, status, task.id))
        if progress is not None:
            progress(index, total)
    importer.remove_missing(plan, {t.parsed.key for t in planned.tasks})
    session.flush()
    if action == "unchanged" and any(importer.counts.values()):
        action = "update"
    created = [u.name for u in resolver.created]
    for name in created:
        importer.changes.insert(0, f"新建单位“{name}”")
    plan_view = {
        "id": None if dry_run and action == "create" else plan.id,
        "title": plan.title,
        "year": plan.year,
        "issuer": plan.issuer,
        "report_dates": list(plan.report_dates),
        "source_file": plan.source_file,
        "action": action,
        "year_source": planned.year_source,
        "report_dates_source": planned.report_dates_source,
    }
    result = ImportResult(
        plan=plan_view,
        tasks=views,
        warnings=list(dict.fromkeys(importer.warnings)),
        changes=importer.changes,
        counts=importer.counts,
        created_units=created,
        dry_run=dry_run,
    )
    if dry_run:
        session.rollback()
        for view in result.tasks:
            view.task_id = None if view.status == "created" else view.task_id
    return result

"""What an import reports: the task views of a dry run, the result, and its change lines.

The wording of the changes (“任务 3“…”的责任单位：A → B”) lives here, apart from the import's
logic in :mod:`workflow.ledger.importing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workflow.dates.due import Due
from workflow.ledger.planning import PlannedTask
from workflow.ledger.resolve import ResolvedUnit
from workflow.tasks.assignments import ROLE_LABELS

FIELD_LABELS = {
    "section_path": "章节",
    "number": "序号",
    "title": "标题",
    "content": "具体要求",
    "metric": "量化指标",
    "deadline_text": "完成时限",
    "lead_units": "牵头单位",
    "responsible_units": "责任单位",
    "cooperating_units": "配合单位",
}


@dataclass
class TaskView:
    """One task as the dry run shows it (``as_json`` is the documented shape)."""

    key: str
    status: str  # created | updated | unchanged
    section_path: list[str]
    number: str | None
    title: str
    content: str | None
    metric: str | None
    deadline_text: str | None
    deadline_source: str  # deadline_cell | text | plan_default
    deadline_kind: str
    dues: list[tuple[date, str, str]]  # (due, period, phrase)
    units: list[dict[str, str]]  # name, role, how, written
    where: str
    task_id: int | None = None
    notes: list[str] = field(default_factory=list)  # why a due date moved / a period is skipped

    def as_json(self) -> dict[str, Any]:
        return {
            "section": " / ".join(self.section_path),
            "number": self.number,
            "title": self.title,
            "content": self.content,
            "metric": self.metric,
            "deadline_text": self.deadline_text,
            "due_dates": sorted({d.isoformat() for d, _, _ in self.dues}),
            "due_notes": list(self.notes),
            "units": [{"name": u["name"], "role": u["role"]} for u in self.units],
        }


@dataclass
class ImportResult:
    plan: dict[str, Any]
    tasks: list[TaskView]
    warnings: list[str]
    changes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    created_units: list[str] = field(default_factory=list)
    dry_run: bool = False
    columns: list[dict[str, Any]] = field(default_factory=list)  # the column mapping chosen
    unused: list[dict[str, Any]] = field(default_factory=list)  # cells no task field took

    @property
    def changed(self) -> bool:
        return any(self.counts.values()) or bool(self.created_units)

    def as_json(self) -> dict[str, Any]:
        plan = dict(self.plan)
        plan["changes"] = {
            **self.counts,
            "units_created": list(self.created_units),
            "details": list(self.changes),
        }
        plan["dry_run"] = self.dry_run
        return {
            "plan": plan,
            "tasks": [t.as_json() for t in self.tasks],
            "warnings": list(self.warnings),
        }


def short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= 20 else text[:19] + "…"


def show_value(value: Any) -> str:
    if value in (None, "", []):
        return "（空）"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return f"“{short(str(value))}”"


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def period_label(due: Due) -> str:
    return f"期次 {due.period}" if due.period else "一次性"


def state_verb(state: str) -> str:
    from states import STATE_LABELS

    return STATE_LABELS.get(state, state).removeprefix("已")


def diff_text(diff: dict[str, list[Any]]) -> str:
    parts = []
    if "role" in diff:
        old, new = diff["role"]
        parts.append(f"角色 {ROLE_LABELS.get(old, old)} → {ROLE_LABELS.get(new, new)}")
    if "original_due" in diff:
        old, new = diff["original_due"]
        parts.append(f"截止日期 {old} → {new}")
    return "，".join(parts)


def task_view(
    pt: PlannedTask, units: list[ResolvedUnit], status: str, task_id: int | None
) -> TaskView:
    p = pt.parsed
    return TaskView(
        key=p.key,
        status=status,
        section_path=list(p.section_path),
        number=p.number,
        title=p.title,
        content=p.content,
        metric=p.metric,
        deadline_text=pt.deadline_text,
        deadline_source=pt.deadline.source,
        deadline_kind=pt.deadline.kind,
        dues=[(d.due, d.period, d.phrase) for d in pt.deadline.dues],
        units=[
            {"name": u.unit.name, "role": u.role, "how": u.explain(), "written": u.written}
            for u in units
        ],
        where=p.row.where(),
        task_id=task_id,
        notes=list(dict.fromkeys([*pt.notes, *(d.note for d in pt.deadline.dues if d.note)])),
    )

"""Freezing a year's evaluation (封存): the signed sheet is stored and shown from then on.

``duban score freeze --year Y [--as-of D]`` (office) scores the year as of D (default: 31
December of Y), stores the whole sheet — every row, unit score, adjustment, appeal and the rules
in force — as JSON, and from then on every door that scores Y (``score``, ``export
evaluation``, the pages) returns that sheet, marked as frozen, whatever the data or the rules
say later. Appeals, their decisions, bonus points and waivers for a frozen year are refused.

There is no unfreeze through the doors: a signed number does not move. (Decision recorded in
docs/evaluation-rules.md; IT can delete the ``frozenevaluation`` row if a freeze was a mistake.)
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.dates.clock import local_date
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict
from workflow.evaluation.adjust import Adjustment
from workflow.evaluation.rules import ScoringRules
from workflow.evaluation.sheet import Deduction, Evaluation, UnitScore
from workflow.storage.models import Assignment, FrozenEvaluation, Plan, Task


def year_of(session: Session, a: Assignment) -> int:
    task = session.get(Task, a.task_id)
    if task is not None and task.plan_id is not None:
        plan = session.get(Plan, task.plan_id)
        if plan is not None:
            return plan.year
    return a.due.year


def frozen_row(session: Session, year: int) -> FrozenEvaluation | None:
    return session.exec(select(FrozenEvaluation).where(FrozenEvaluation.year == year)).first()


def require_open(session: Session, year: int, action: str) -> None:
    """Refuse ``action`` on a frozen year, in one Chinese line."""
    row = frozen_row(session, year)
    if row is not None:
        raise Conflict(
            f"{year} 年度考核已于 {local_date(row.created_at)} 由{row.actor}封存（截至 {row.as_of}），"
            f"不能再{action}"
        )


def freeze_info(row: FrozenEvaluation) -> dict[str, Any]:
    return {
        "year": row.year,
        "as_of": row.as_of.isoformat(),
        "by": row.actor,
        "at": row.created_at.isoformat() if row.created_at else None,
        "on": local_date(row.created_at).isoformat() if row.created_at else None,
    }


def store(session: Session, caller: Caller, ev: Evaluation, now: datetime) -> FrozenEvaluation:
    """Store ``ev`` (the whole year's sheet) as year ``ev.plan_year``'s frozen sheet."""
    require_role(caller, "office", "封存考核结果")
    require_open(session, ev.plan_year, "重复封存")
    row = FrozenEvaluation(
        year=ev.plan_year, as_of=ev.as_of, sheet=dumps(ev), actor=caller.name, created_at=now
    )
    session.add(row)
    session.flush()
    return row


def thaw(row: FrozenEvaluation) -> Evaluation:
    """The frozen sheet as an :class:`Evaluation`, with ``frozen`` saying when and by whom."""
    ev = loads(row.sheet)
    return dataclasses.replace(ev, frozen=freeze_info(row))


# -- JSON, exact: Decimals as text, dates as ISO ------------------------------------------------
def _enc(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {k: _enc(v) for k, v in value.items()}
    return value


def _hook(obj: dict[str, Any]) -> Any:
    if set(obj) == {"$d"}:
        return Decimal(obj["$d"])
    if set(obj) == {"$date"}:
        return date.fromisoformat(obj["$date"])
    return obj


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def dumps(ev: Evaluation) -> str:
    return json.dumps(_enc(dataclasses.replace(ev, frozen=None)), ensure_ascii=False)


def loads(text: str) -> Evaluation:
    raw = json.loads(text, object_hook=_hook)
    rules = ScoringRules(**{k: _tuples(v) for k, v in raw.pop("rules").items()})
    return Evaluation(
        **{
            **raw,
            "rules": rules,
            "units": [UnitScore(**u) for u in raw["units"]],
            "rows": [Deduction(**r) for r in raw["rows"]],
            "adjustments": [Adjustment(**a) for a in raw["adjustments"]],
            "plan_ids": tuple(raw["plan_ids"]),
        }
    )

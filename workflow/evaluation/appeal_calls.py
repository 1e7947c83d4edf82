"""Appeals (申诉), bonus points (加分) and the freeze (封存) as the doors call them
(see ``workflow/calls/table.py``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.config import Config
from workflow.dates.clock import parse_date
from workflow.directory.roles import Caller, require_role
from workflow.evaluation.appeal_view import STATE_LABELS, appeal_dict
from workflow.evaluation.appeals import (
    decide_appeal,
    file_appeal,
    list_appeals,
)
from workflow.evaluation.bonus import add_bonus, bonus_dict
from workflow.evaluation.freeze import freeze_info, store
from workflow.evaluation.records import year_scope
from workflow.evaluation.rules import load_rules
from workflow.evaluation.scores import kind_names, load_scoring_calendar, score_scope
from workflow.storage.models import Unit


def _unit_name(session: Session, unit_id: int) -> str:
    unit = session.get(Unit, unit_id)
    return unit.name if unit else ""


def appeal_add(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    assignment: str,
    reason: str,
    evidence: str | None = None,
) -> dict[str, Any]:
    a = file_appeal(session, caller, assignment, reason, evidence, now, config=config)
    return appeal_dict(a, _unit_name(session, a.unit_id))


def appeal_list(
    session: Session, caller: Caller, state: str | None = None, year: int | None = None
) -> dict[str, Any]:
    """``{"appeals": […], "states": {state: label}}``."""
    return {"appeals": list_appeals(session, caller, state, year), "states": STATE_LABELS}


def appeal_decide(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    appeal_id: int,
    uphold: bool,
    reason: str,
) -> dict[str, Any]:
    a = decide_appeal(session, caller, appeal_id, uphold, reason, now, config=config)
    return appeal_dict(a, _unit_name(session, a.unit_id))


def score_freeze(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    year: int,
    as_of: str | None = None,
) -> dict[str, Any]:
    """Freeze year ``year`` as of ``as_of`` (default: 31 December of the year)."""
    require_role(caller, "office", "封存考核结果")
    day = parse_date(as_of, "{field} 日期", "as_of") if as_of else date(int(year), 12, 31)
    ev = score_scope(
        session,
        year_scope(session, int(year)),
        day,
        calendar=load_scoring_calendar(config),
        rules=load_rules(config),
        kind_names=kind_names(config),
    )
    row = store(session, caller, ev, now)
    return {**freeze_info(row), "units": len(ev.units), "rows": len(ev.rows)}


def bonus_add(
    session: Session,
    caller: Caller,
    now: datetime,
    unit: str,
    year: int,
    points: str,
    reason: str,
    evidence: str,
) -> dict[str, Any]:
    b = add_bonus(session, caller, unit, year, points, reason, evidence, now)
    return bonus_dict(b, _unit_name(session, b.unit_id))

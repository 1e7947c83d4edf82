"""Bonus points (加分): the office grants a unit points for a year, with the evidence.

"工作经验被上级采用" or "入选优秀案例" earn points in many offices' 考核细则. The office records each
grant (points, reason, evidence: a document number, a page); the sheet adds them after the
deductions and their cap, at most ``[scoring] bonus_cap`` a unit (see
:mod:`workflow.evaluation.adjust`). Refused for a frozen year.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.dates.clock import local_date
from workflow.directory.roles import Caller, require_role
from workflow.directory.units import resolve_unit
from workflow.errors import InvalidInput
from workflow.evaluation.freeze import require_open
from workflow.evaluation.rules import fmt_points
from workflow.storage.models import Bonus, Unit

_MAX = Decimal(100)


def parse_points(text: Any) -> Decimal:
    try:
        points = Decimal(str(text).strip())
    except InvalidOperation:
        points = Decimal(-1)
    if (
        not points.is_finite()
        or not 0 < points <= _MAX
        or points != points.quantize(Decimal("0.01"))
    ):
        raise InvalidInput(f"加分“{text}”无效：应为大于 0、不超过 100 的分值（最多两位小数）")
    return points


def add_bonus(
    session: Session,
    caller: Caller,
    unit: str,
    year: int,
    points: Any,
    reason: str,
    evidence: str,
    now: datetime,
) -> Bonus:
    """The office grants ``unit`` ``points`` for ``year``; reason and evidence are required."""
    require_role(caller, "office", "登记加分")
    if not 1900 <= int(year) <= 2200:
        raise InvalidInput(f"年度“{year}”无效：应为四位年份，如 2026")
    amount = parse_points(points)
    reason = (reason or "").strip()
    evidence = (evidence or "").strip()
    if not reason:
        raise InvalidInput(
            "加分需要说明理由",
            reason="reason_missing",
            field="reason",
            hint="如“经验做法被省政府采用”",
        )
    if not evidence:
        raise InvalidInput(
            "加分需要写明依据",
            reason="evidence_missing",
            field="evidence",
            hint="如采用文件的文号或网页地址",
        )
    if len(reason) > 2000 or len(evidence) > 2000:
        raise InvalidInput("加分理由或依据过长（最多 2000 字）")
    target = resolve_unit(session, unit)
    require_open(session, int(year), "登记加分")
    row = Bonus(
        unit_id=target.id,
        year=int(year),
        points=str(amount.normalize()),
        reason=reason,
        evidence=evidence,
        actor=caller.name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_bonus(session: Session, caller: Caller, year: int | None = None) -> list[dict[str, Any]]:
    """Bonus entries, oldest first; a unit sees its own."""
    require_role(caller, ("office", "leader", "unit"), "查看加分")
    query = select(Bonus, Unit.name).join(Unit, Unit.id == Bonus.unit_id).order_by(Bonus.id)
    if year is not None:
        query = query.where(Bonus.year == year)
    if caller.role == "unit":
        query = query.where(Bonus.unit_id == (caller.unit_id if caller.unit_id is not None else -1))
    return [bonus_dict(b, unit) for b, unit in session.exec(query).all()]


def bonus_dict(b: Bonus, unit: str) -> dict[str, Any]:
    return {
        "id": b.id,
        "unit": unit,
        "year": b.year,
        "points": float(Decimal(b.points)),
        "points_text": fmt_points(Decimal(b.points)),
        "reason": b.reason,
        "evidence": b.evidence,
        "by": b.actor,
        "on": local_date(b.created_at).isoformat() if b.created_at else None,
    }

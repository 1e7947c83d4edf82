"""Appeals (申诉): a unit contests a deduction; the office upholds or rejects it.

* ``file_appeal`` — a unit (or the office, entering a paper appeal) appeals the deductions of one
  assignment (``12``) or one of its rows (``12:late_days``), with a reason and optional
  evidence, on or before ``[scoring] appeal_until`` (no date: until the year is frozen). The
  assignment must be charged (a row in the sheet as of today or, if nothing changes, at the
  year end); one pending appeal per row.
* ``decide_appeal`` — the office upholds (成立: every charged row the appeal names is waived,
  :mod:`workflow.evaluation.waivers`, with the decision as the reason) or rejects (不成立) it,
  with a reason. A decided appeal is final.
* The sheet lists the appeals of its scope and their outcome (``Evaluation.appeals``).

Both are refused for a frozen (封存) year. Each step writes a history row of the assignment.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.dates.clock import local_date
from workflow.directory.history import write_history
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.evaluation.appeal_view import STATE_LABELS, appeal_dict  # noqa: F401
from workflow.evaluation.freeze import require_open, year_of
from workflow.evaluation.rules import RULE_LABELS, load_rules
from workflow.evaluation.waivers import parse_row_id, waive
from workflow.storage.models import Appeal, Assignment, Unit, Waiver

_MAX_TEXT = 2000


def parse_target(text: str) -> tuple[int, str | None]:
    """``"12"`` → (12, None); ``"12:late_days"`` → (12, "late_days")."""
    raw = str(text or "").strip()
    if raw.isdigit():
        return int(raw), None
    if ":" in raw or "：" in raw:
        return parse_row_id(raw)
    raise InvalidInput(f"申诉对象“{raw}”无效：应为任务编号（如 12）或扣分行号（如 12:late_days）")


def _text(value: str | None, what: str, required: bool, field: str) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{what}不能为空", reason=f"{field}_missing", field=field)
    if len(text) > _MAX_TEXT:
        raise InvalidInput(
            f"{what}过长（{len(text)} 字，最多 {_MAX_TEXT} 字）", reason="too_long", field=field
        )
    return text or None


def file_appeal(
    session: Session,
    caller: Caller,
    target: str,
    reason: str,
    evidence: str | None,
    now: datetime,
    *,
    config: Any,
) -> Appeal:
    """A unit appeals the deductions of assignment ``target`` (see the module docstring)."""
    require_role(caller, ("unit", "office"), "提出申诉")
    assignment_id, rule = parse_target(target)
    reason_text = _text(reason, "申诉理由", True, "reason")
    evidence_text = _text(evidence, "申诉依据", False, "evidence")
    a = session.get(Assignment, assignment_id)
    if a is None or (caller.role == "unit" and a.unit_id != caller.unit_id):
        if a is not None:
            raise PermissionDenied(
                f"单位只能对本单位的任务提出申诉（任务 #{assignment_id} 不属于{caller.name}）"
            )
        raise NotFound(f"任务 #{assignment_id} 不存在（用 duban score --detail 查看扣分行）")
    if a.state == "cancelled":
        raise InvalidInput(f"任务 #{a.id} 已撤销，不计扣分，无需申诉")
    require_open(session, year_of(session, a), "提出申诉")
    rules = load_rules(config)
    today = local_date(now)
    if rules.appeal_until is not None and today > rules.appeal_until:
        raise InvalidInput(f"申诉期已于 {rules.appeal_until} 截止，不能再提出申诉")
    charged = charged_rules(session, a, today, config)
    wanted = [rule] if rule else sorted(charged)
    if not charged or (rule and rule not in charged):
        what = f"的“{RULE_LABELS[rule]}”" if rule else ""
        raise InvalidInput(f"任务 #{a.id}{what}没有扣分（截至 {today} 及年底预测均无），无需申诉")
    pending = session.exec(
        select(Appeal).where(Appeal.assignment_id == a.id, Appeal.state == "pending")
    ).all()
    for p in pending:
        if p.rule is None or rule is None or p.rule == rule:
            raise Conflict(f"任务 #{a.id} 已有待处理的申诉 #{p.id}，请等待办公室处理")
    appeal = Appeal(
        assignment_id=a.id,
        unit_id=a.unit_id,
        rule=rule,
        reason=reason_text or "",
        evidence=evidence_text,
        actor=caller.name,
        created_at=now,
    )
    session.add(appeal)
    session.flush()
    _history(session, a, caller, "appeal", reason_text, now, appeal, {"rules": wanted})
    return appeal


def decide_appeal(
    session: Session,
    caller: Caller,
    appeal_id: int,
    uphold: bool,
    reason: str,
    now: datetime,
    *,
    config: Any,
) -> Appeal:
    """The office upholds (the rows are waived) or rejects appeal ``appeal_id``."""
    require_role(caller, "office", "处理申诉")
    decision = _text(reason, "处理意见", True, "reason")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"申诉 #{appeal_id} 不存在（用 duban appeal list 查看）")
    if appeal.state != "pending":
        raise Conflict(
            f"申诉 #{appeal_id} 已于 {local_date(appeal.decided_at)} 处理：{STATE_LABELS[appeal.state]}"
        )
    a = session.get(Assignment, appeal.assignment_id)
    assert a is not None
    require_open(session, year_of(session, a), "处理申诉")
    waived: list[str] = []
    if uphold and a.state != "cancelled":  # a cancelled task no longer counts: nothing to waive
        rules = (
            [appeal.rule]
            if appeal.rule
            else sorted(charged_rules(session, a, local_date(now), config))
        )
        done = {
            w.rule for w in session.exec(select(Waiver).where(Waiver.assignment_id == a.id)).all()
        }
        for rule in rules:
            if rule not in done:
                waive(session, caller, a.id, rule, f"申诉 #{appeal.id} 成立：{decision}", now)
                waived.append(rule)
    appeal.state = "upheld" if uphold else "rejected"
    appeal.decision = decision
    appeal.decided_by = caller.name
    appeal.decided_at = now
    session.add(appeal)
    session.flush()
    _history(session, a, caller, "appeal_decide", decision, now, appeal, {"waived": waived})
    return appeal


def list_appeals(
    session: Session, caller: Caller, state: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    """Appeals, oldest first; a unit sees its own only."""
    require_role(caller, ("office", "leader", "unit"), "查看申诉")
    if state is not None and state not in STATE_LABELS:
        raise InvalidInput(f"申诉状态“{state}”无效（可选：{' / '.join(STATE_LABELS)}）")
    query = select(Appeal, Unit.name).join(Unit, Unit.id == Appeal.unit_id).order_by(Appeal.id)
    if caller.role == "unit":
        query = query.where(
            Appeal.unit_id == (caller.unit_id if caller.unit_id is not None else -1)
        )
    if state:
        query = query.where(Appeal.state == state)
    out = []
    for appeal, unit in session.exec(query).all():
        if year is not None:
            a = session.get(Assignment, appeal.assignment_id)
            if a is None or year_of(session, a) != year:
                continue
        out.append(appeal_dict(appeal, unit))
    return out


def charged_rules(session: Session, a: Assignment, today: date, config: Any) -> set[str]:
    """The rules of the rows assignment ``a`` is charged as of ``today`` or at the year end."""
    from workflow.evaluation.scores import assignment_sheets

    rules: set[str] = set()
    for ev in assignment_sheets(session, a, today, config):
        rules |= {r.rule for r in ev.rows}
    return rules


def _history(
    session: Session,
    a: Assignment,
    caller: Caller,
    action: str,
    reason: str | None,
    now: datetime,
    appeal: Appeal,
    extra: dict[str, Any],
) -> None:
    write_history(
        session,
        caller,
        action,
        now,
        assignment=a,
        reason=reason,
        data={"appeal": appeal.id, "state": appeal.state, "rule": appeal.rule, **extra},
    )
    session.flush()

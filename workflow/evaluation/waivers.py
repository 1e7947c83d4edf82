"""Appeals (申诉): the office waives one deduction row, with a reason, recorded in the history.

A row is named ``"<assignment id>:<rule>"`` (see :mod:`workflow.evaluation.scores`); the waiver is stored
per (assignment, rule) and holds whatever date the sheet is computed for. The row stays in the
sheet, marked waived with the reason, and its points no longer count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.dates.clock import local_date
from workflow.directory.history import write_history
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.evaluation.rules import RULE_LABELS, RULE_ORDER
from workflow.storage.models import Assignment, Waiver


def parse_row_id(text: str) -> tuple[int, str]:
    """``"12:late_days"`` (or ``"12:逾期工作日"``) → (12, "late_days")."""
    raw = (text or "").strip().replace("：", ":")
    number, sep, rule = raw.partition(":")
    rule = rule.strip()
    by_label = {label: key for key, label in RULE_LABELS.items()}
    rule = by_label.get(rule, rule)
    if not sep or not number.strip().isdigit() or rule not in RULE_LABELS:
        raise InvalidInput(
            f"扣分行“{raw}”无效：应为“任务编号:规则”，如 12:late_days（规则：{' / '.join(RULE_ORDER)}；见 duban score --detail）"
        )
    return int(number), rule


def waive(
    session: Session,
    caller: Caller,
    assignment_id: int,
    rule: str,
    reason: str,
    now: datetime,
) -> Waiver:
    """The office waives deduction ``<assignment_id>:<rule>`` on appeal (申诉), with a reason.

    Recorded as a :class:`Waiver` and a ``waive`` history row. The waiver holds for that
    assignment and rule whatever the date the sheet is computed for.
    """
    require_role(caller, "office", "免扣分")
    if rule not in RULE_LABELS:
        raise InvalidInput(f"未知扣分规则：{rule}（可选 {' / '.join(RULE_ORDER)}）")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            f"免扣任务 #{assignment_id} 的“{RULE_LABELS[rule]}”需要说明理由",
            reason="reason_missing",
            field="reason",
        )
    a = session.get(Assignment, assignment_id)
    if a is None:
        raise NotFound(f"任务 #{assignment_id} 不存在（用 duban score --detail 查看扣分行）")
    if a.state == "cancelled":
        raise InvalidInput(f"任务 #{assignment_id} 已撤销，不计扣分，无需免扣")
    existing = session.exec(
        select(Waiver).where(Waiver.assignment_id == assignment_id, Waiver.rule == rule)
    ).first()
    if existing is not None:
        raise Conflict(
            f"任务 #{assignment_id} 的“{RULE_LABELS[rule]}”已于 {local_date(existing.created_at)} 由{existing.actor}免扣"
        )
    waiver = Waiver(assignment_id=a.id, rule=rule, reason=reason, actor=caller.name, created_at=now)
    session.add(waiver)
    write_history(
        session,
        caller,
        "waive",
        now,
        assignment=a,
        reason=reason,
        data={"rule": rule, "rule_label": RULE_LABELS[rule], "row": f"{a.id}:{rule}"},
    )
    session.flush()
    return waiver

"""The evaluation room's operations as the doors call them (see ``workflow/calls/table.py``):
scores with their table cells ready to show (points formatted as the office writes them),
appeals, the rules in words, the export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.config import Config
from workflow.dates.clock import local_date, parse_date
from workflow.directory.roles import Caller
from workflow.evaluation.rules import UNIT_RULE_LABELS, fmt_points, load_rules
from workflow.evaluation.scores import RULE_LABELS, Evaluation, evaluate, waive_deduction
from workflow.evaluation.waivers import parse_row_id
from workflow.evaluation.workbook import export_evaluation


def _day(as_of: str | None, now: datetime):
    return parse_date(as_of, "{field} 日期", "as_of") if as_of else local_date(now)


def score(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    plan: str | None = None,
    as_of: str | None = None,
    unit: str | None = None,
    year: int | None = None,
) -> dict[str, Any]:
    """``{"result": the documented JSON, "display": the tables' cells}``; nothing to score:
    ``{"result": [], "display": {"empty": True, "title": …}}`` (not an error)."""
    ev = evaluate(session, caller, plan, _day(as_of, now), config=config, unit=unit, year=year)
    if ev.empty:
        return {"result": [], "display": {"empty": True, "title": ev.plan_title}}
    return {"result": ev.to_dict(), "display": _display(ev)}


def _rate(u) -> str:
    if u.on_time_rate is None:
        return "—（尚无到期任务）"
    return f"{u.on_time_rate:.1%}（{u.on_time}/{u.due}）"


def _display(ev: Evaluation) -> dict[str, Any]:
    title = f"{ev.plan_title} 年终考核（截至 {ev.as_of}，基础分 {fmt_points(ev.rules.base)}）"
    if ev.sources:
        labels = {"ledger": "台账", "manual": "手工新增", "event": "事件时限"}
        title += "；计入：" + "、".join(f"{labels.get(k, k)} {n} 项" for k, n in ev.sources.items())
    return {
        "title": title,
        "plan_year": ev.plan_year,
        "as_of": ev.as_of.isoformat(),
        "forecast": ev.forecast and ev.frozen is None,
        "frozen": ev.frozen,
        "adjustments": [
            [
                x.unit,
                x.rule_label,
                ("+" if x.effect < 0 else "−") + fmt_points(abs(x.effect)),  # on the score
                x.note,
            ]
            for x in ev.adjustments
        ],
        "appeals": [
            [
                x["id"],
                x["unit"],
                f"{x['assignment_id']}" + (f":{x['rule']}" if x["rule"] else ""),
                x["reason"] + (f"（依据：{x['evidence']}）" if x["evidence"] else ""),
                x["state_label"],
                x["decision"] or "",
            ]
            for x in ev.appeals
        ],
        "basis": [
            [rule, RULE_LABELS.get(rule) or UNIT_RULE_LABELS.get(rule, rule), text]
            for rule, text in ev.rule_basis().items()
        ],
        "units": [
            [
                u.rank,
                u.unit,
                fmt_points(u.score),
                fmt_points(u.deducted) + ("（已封顶）" if u.capped else ""),
                fmt_points(u.waived) if u.waived else "",
                u.rows,
                _rate(u),
            ]
            for u in ev.units
        ],
        "rows": [
            [
                r.row_id,
                r.unit,
                f"{r.task_number + ' ' if r.task_number else ''}{r.task}"
                + (f"（{r.period}）" if r.period else ""),
                r.rule_label + ("（预测）" if r.forecast else ""),
                r.due,
                r.report_date or "未报送",
                "" if r.days_late is None else r.days_late,
                ("已免扣 " if r.waived else "") + fmt_points(r.points),
                r.note + (f"；免扣理由：{r.waiver_reason}" if r.waived else ""),
            ]
            for r in ev.rows
        ],
    }


def score_waive(
    session: Session, caller: Caller, config: Config, now: datetime, row: str, reason: str
) -> dict[str, Any]:
    assignment_id, rule = parse_row_id(row)
    w = waive_deduction(session, caller, assignment_id, rule, reason, now, config=config)
    return {
        "row": f"{w.assignment_id}:{w.rule}",
        "assignment_id": w.assignment_id,
        "rule": w.rule,
        "rule_label": RULE_LABELS[w.rule],
        "reason": w.reason,
        "actor": w.actor,
        "at": w.created_at,
    }


def score_rules(config: Config) -> dict[str, Any]:
    """``{"result": the rules, "describe": [[key, the rule in words], …]}``."""
    rules = load_rules(config)
    return {"result": rules.to_dict(), "describe": [list(line) for line in rules.describe()]}


def export_file(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    plan: str | None = None,
    path: str | None = None,
    html: str | None = None,
    as_of: str | None = None,
    year: int | None = None,
) -> dict[str, Any]:
    result = export_evaluation(
        session,
        caller,
        plan,
        path,
        as_of=_day(as_of, now),
        config=config,
        html=html,
        year=year,  # 制表日期 is the as-of date: the file depends on the record, not on now
    )
    return result.to_dict()

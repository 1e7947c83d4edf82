"""The leaders' board (督办看板): one plan's standing per unit, the overdue list, the forecast.

One function, :func:`board`, so the pages and the API show the same numbers. Read only; office
and leaders may look (a unit sees its own work in its task list instead).

* per unit: assignments by state, open ones by colour grade (红/黄/蓝, as in the mails), the
  on-time rate and the forecast score from :func:`workflow.evaluation.scores.score_plan`;
* the overdue list: open assignments past their due date, most working days overdue first;
* the unsigned list (签收): assignments the unit has neither signed for nor started, oldest first;
* the forecast: during the plan year the score each unit would have at year end if it
  reported everything today (the evaluation's own forecast); after the year, the final score.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from states import STATE_LABELS, STATES
from workflow.directory.plans import find_plan
from workflow.directory.roles import Caller, require_role
from workflow.evaluation.rules import load_rules
from workflow.evaluation.scores import load_scoring_calendar, score_plan
from workflow.storage.models import Assignment, Plan, Task, Unit
from workflow.tasks.urgency import urgency

GRADE_ORDER = ("red", "yellow", "blue")


def _plan(session: Session, ref: str | int | None) -> Plan | None:
    """The plan asked for, else the newest one (the board opens on the current year)."""
    if ref is not None and str(ref).strip():
        return find_plan(session, ref)
    return session.exec(select(Plan).order_by(Plan.year.desc(), Plan.id.desc())).first()  # type: ignore[attr-defined]


def _empty(as_of: date, base: float) -> dict[str, Any]:
    """The board before any plan is imported (tasks added by hand belong to no plan)."""
    return {
        "plan": None,
        "plans": [],
        "as_of": as_of.isoformat(),
        "forecast": False,
        "base": base,
        "totals": {
            "assignments": 0,
            "states": dict.fromkeys(STATES, 0),
            "grades": dict.fromkeys(GRADE_ORDER, 0),
            "due": 0,
            "on_time": 0,
            "on_time_rate": None,
            "overdue": 0,
            "unsigned": 0,
        },
        "units": [],
        "overdue": [],
        "unsigned": [],
    }


def _rate(on_time: int, due: int) -> float | None:
    return None if due == 0 else round(on_time / due, 4)


def board(
    session: Session,
    caller: Caller,
    plan: str | int | None,
    as_of: date,
    *,
    config: Any,
    calendar: Any = None,
) -> dict[str, Any]:
    """The board of ``plan`` (default: the newest; ``"plan": None`` before any import) as of
    ``as_of``; JSON-ready."""
    require_role(caller, ("office", "leader"), "查看督办看板")
    rules = load_rules(config)
    found = _plan(session, plan)
    if found is None:
        return _empty(as_of, float(rules.base))
    calendar = calendar or load_scoring_calendar(config)
    evaluation = score_plan(session, found.id, as_of, calendar=calendar, rules=rules)
    scores = {u.unit_id: u for u in evaluation.units}
    rows = session.exec(
        select(Assignment, Task, Unit)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Task.plan_id == found.id)
        .order_by(Assignment.due, Assignment.id)
    ).all()
    units: dict[int, dict[str, Any]] = {}
    overdue: list[dict[str, Any]] = []
    unsigned: list[dict[str, Any]] = []
    for a, task, unit in rows:
        entry = units.setdefault(
            unit.id,
            {"unit_id": unit.id, "unit": unit.name, "states": Counter(), "grades": Counter()},
        )
        entry["states"][a.state] += 1
        if a.acknowledged_at is None and a.state == "assigned":
            entry["unsigned"] = entry.get("unsigned", 0) + 1
            unsigned.append(_unsigned_row(a, task, unit))
        u = urgency(a.state, a.due, as_of, calendar)
        if u["grade"]:
            entry["grades"][u["grade"]] += 1
        if u["working_days"] is not None and u["working_days"] < 0:
            overdue.append(
                {
                    "id": a.id,
                    "unit_id": unit.id,
                    "unit": unit.name,
                    "title": task.title,
                    "due": a.due.isoformat(),
                    "state": a.state,
                    "state_label": STATE_LABELS[a.state],
                    "working_days_overdue": -u["working_days"],
                }
            )
    overdue.sort(key=lambda r: (-r["working_days_overdue"], r["unit"], r["id"]))
    out_units = []
    for entry in units.values():
        score = scores.get(entry["unit_id"])
        out_units.append(
            {
                "unit_id": entry["unit_id"],
                "unit": entry["unit"],
                "total": sum(entry["states"].values()),
                "states": {s: entry["states"].get(s, 0) for s in STATES},
                "grades": {g: entry["grades"].get(g, 0) for g in GRADE_ORDER},
                "due": score.due if score else 0,
                "on_time": score.on_time if score else 0,
                "on_time_rate": score.on_time_rate if score else None,
                "score": float(score.score) if score else float(rules.base),
                "deducted": float(score.deducted) if score else 0.0,
                "rank": score.rank if score else None,
                "unsigned": entry.get("unsigned", 0),
            }
        )
    out_units.sort(key=lambda u: (-u["grades"]["red"], -u["grades"]["yellow"], u["unit"]))
    due = sum(u["due"] for u in out_units)
    on_time = sum(u["on_time"] for u in out_units)
    plans = session.exec(select(Plan).order_by(Plan.year.desc(), Plan.id.desc())).all()  # type: ignore[attr-defined]
    return {
        "plan": {"id": found.id, "title": found.title, "year": found.year},
        "plans": [{"id": p.id, "title": p.title, "year": p.year} for p in plans],
        "as_of": as_of.isoformat(),
        "forecast": evaluation.forecast,
        "base": float(rules.base),
        "totals": {
            "assignments": sum(u["total"] for u in out_units),
            "states": {s: sum(u["states"][s] for u in out_units) for s in STATES},
            "grades": {g: sum(u["grades"][g] for u in out_units) for g in GRADE_ORDER},
            "due": due,
            "on_time": on_time,
            "on_time_rate": _rate(on_time, due),
            "overdue": len(overdue),
            "unsigned": len(unsigned),
        },
        "units": out_units,
        "overdue": overdue,
        "unsigned": sorted(unsigned, key=lambda r: (r["assigned_at"] or "", r["id"])),
    }


def _unsigned_row(a: Assignment, task: Task, unit: Unit) -> dict[str, Any]:
    return {
        "id": a.id,
        "unit_id": unit.id,
        "unit": unit.name,
        "title": task.title,
        "due": a.due.isoformat(),
        "assigned_at": a.created_at.isoformat() if a.created_at else None,
    }

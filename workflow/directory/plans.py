"""Work plans (工作计划): finding one by id or year, and what the office sees of them.

A plan is created by ``duban import``; its id or its year (when only one plan has that year)
names it in every command that takes ``--plan``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from states import STATE_LABELS, STATES
from workflow.errors import InvalidInput, NotFound
from workflow.storage.models import Assignment, Plan, Task


def resolve_plan(session: Session, plan: str | int) -> int:
    """A plan by id, else by year when exactly one plan has that year."""
    text = str(plan).strip()
    if not text.isdigit():
        raise InvalidInput(f"工作计划“{text}”无效：应为计划编号或年份")
    value = int(text)
    if session.get(Plan, value) is not None:
        return value
    by_year = session.exec(select(Plan.id).where(Plan.year == value)).all()
    if len(by_year) == 1:
        return by_year[0]
    if len(by_year) > 1:
        ids = "、".join(f"#{i}" for i in by_year)
        raise InvalidInput(f"{value} 年有多个工作计划（{ids}），请用计划编号指定")
    raise NotFound(f"工作计划 #{value} 不存在（也没有 {value} 年的计划）")


def office_plan_title(year: int) -> str:
    return f"{year}年度督办任务（手工新增、事件时限）"


def plan_for_year(session: Session, year: int, now: datetime) -> int:
    """The plan work due in ``year`` joins: the first plan of that year, else a new one.

    Used by ``duban task add`` and ``duban event add`` without ``--plan``, so every assignment
    of a year is in that year's evaluation. The plan created here has no source file and no
    report dates; a ledger imported later for the same year becomes a second plan of the year
    (``duban score --year`` covers both).
    """
    if not 1900 <= year <= 2200:
        raise InvalidInput(f"年度 {year} 超出范围")
    found = session.execute(
        sa.select(Plan.id).where(Plan.year == year).order_by(Plan.id).limit(1)
    ).scalar()
    if found is not None:
        return found
    plan = Plan(year=year, title=office_plan_title(year), created_at=now)
    session.add(plan)
    session.flush()
    assert plan.id is not None
    return plan.id


def find_plan(session: Session, ref: str | int | None) -> Plan:
    """A plan by id, or by year when no plan has that id; the only plan when ``ref`` is None."""
    if ref is not None and str(ref).strip():
        return session.get_one(Plan, resolve_plan(session, ref))
    plans = list(session.exec(select(Plan).order_by(Plan.id)).all())
    if len(plans) == 1:
        return plans[0]
    if not plans:
        raise NotFound("还没有工作计划：请先用 duban import 导入任务分解表")
    listed = "；".join(f"#{p.id} {p.year}年 {p.title}" for p in plans)
    raise InvalidInput(f"有多个工作计划，请用 --plan 指定编号或年份：{listed}")


def _counts(session: Session, plan_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per plan: its tasks, and its assignments by state (one query each)."""
    out: dict[int, dict[str, Any]] = {
        pid: {"tasks": 0, "assignments": 0, "states": dict.fromkeys(STATES, 0)} for pid in plan_ids
    }
    tasks = session.execute(
        sa.select(Task.plan_id, sa.func.count())
        .where(Task.plan_id.in_(plan_ids))  # type: ignore[union-attr]
        .group_by(Task.plan_id)
    )
    for pid, n in tasks:
        out[pid]["tasks"] = n
    states = session.execute(
        sa.select(Task.plan_id, Assignment.state, sa.func.count())
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.plan_id.in_(plan_ids))  # type: ignore[union-attr]
        .group_by(Task.plan_id, Assignment.state)
    )
    for pid, state, n in states:
        out[pid]["states"][state] = n
        out[pid]["assignments"] += n
    return out


def plan_view(plan: Plan, counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": plan.id,
        "year": plan.year,
        "title": plan.title,
        "issuer": plan.issuer,
        "report_dates": list(plan.report_dates or []),
        "source_file": plan.source_file,
        "created_at": plan.created_at,
        "tasks": counts["tasks"],
        "assignments": counts["assignments"],
        "states": counts["states"],
        "state_labels": {s: STATE_LABELS[s] for s in STATES},
    }


def list_plans(session: Session) -> list[dict[str, Any]]:
    """Every plan, newest year first, with its task and assignment counts."""
    plans = list(session.exec(select(Plan).order_by(Plan.year.desc(), Plan.id)).all())  # type: ignore[attr-defined]
    counts = _counts(session, [p.id for p in plans if p.id is not None])
    return [plan_view(p, counts[p.id]) for p in plans if p.id is not None]


def show_plan(session: Session, ref: str | int | None) -> dict[str, Any]:
    """One plan (by id or year; the only one when ``ref`` is None) with its counts."""
    plan = find_plan(session, ref)
    assert plan.id is not None
    return plan_view(plan, _counts(session, [plan.id])[plan.id])

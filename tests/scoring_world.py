"""Helpers for the scoring tests: plans, units and tasks played through the real lifecycle."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

from conftest import unit_caller
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.directory.units import add_unit
from workflow.evaluation.scores import ScoringRules
from workflow.storage.models import ExtensionRequest, Plan
from workflow.tasks.assignments import add_task
from workflow.tasks.extensions import approve_extension, refuse_extension, request_extension
from workflow.tasks.lifecycle import fire

CAL = ChinaCalendar()
RULES = ScoringRules(
    base=Decimal(100),
    late_task=Decimal(1),
    late_day=Decimal("0.5"),
    late_day_cap=Decimal(3),
    never_reported=Decimal(5),
    returned_after=2,
    returned=Decimal(1),
)
YEAR_END = date(2026, 12, 31)
SYSTEM = Caller.system()
OFFICE_TRIGGERS = {"verify", "return", "extend", "cancel"}
names = itertools.count(1)


def at(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI)


def new_plan(s, year: int = 2026) -> Plan:
    plan = Plan(year=year, title=f"{year}年政务公开工作要点")
    s.add(plan)
    s.flush()
    return plan


def new_assignment(s, office, plan: Plan, unit_name: str, due: date, title: str = "") -> tuple:
    """(unit caller, assignment id) of a fresh task of ``plan`` for one unit."""
    unit = add_unit(s, office, unit_name, at(date(2026, 1, 5)))
    _, (a,) = add_task(
        s,
        office,
        title or f"{unit_name}的任务",
        [unit.name],
        due,
        at(date(2026, 1, 5)),
        plan_id=plan.id,
    )
    return unit_caller(unit), a.id


def play(db, office, unit, aid: int, steps) -> None:
    """Fire each (date, step, kwargs) through the real functions, one transaction each.

    Steps are lifecycle triggers, or the extension requests of ``workflow.tasks.extensions``:
    ``request_extension`` (unit; kwargs ``to``), ``approve_extension``, ``refuse_extension``
    (office; they decide the assignment's latest request).
    """
    for day, step, kwargs in steps:
        with db.session() as s:
            if step in EXTENSION_STEPS:
                _extension(s, office, unit, aid, step, at(day), kwargs)
                continue
            caller = SYSTEM if step == "expire" else office if step in OFFICE_TRIGGERS else unit
            hour = 1 if step == "expire" else 10
            fire(s, aid, step, caller, now=at(day, hour), **kwargs)


EXTENSION_STEPS = ("request_extension", "approve_extension", "refuse_extension")


def _extension(s, office, unit, aid: int, step: str, when: datetime, kwargs: dict) -> None:
    if step == "request_extension":
        request_extension(s, unit, aid, kwargs["to"], kwargs.get("reason", "等待上级文件"), when)
        return
    latest = s.exec(
        select(ExtensionRequest)
        .where(ExtensionRequest.assignment_id == aid)
        .order_by(ExtensionRequest.id.desc())
    ).first()
    if step == "approve_extension":
        approve_extension(s, office, latest.id, when)
    else:
        refuse_extension(s, office, latest.id, when, kwargs.get("reason", "理由不充分"))


REPORT = {"text": "已完成", "evidence": ["https://example.gov.cn/zwgk/1.html"]}


def build_world(db, office) -> dict:
    """A small 2026 plan the CLI and export tests share (rules: RULES; see each unit's story).

    办公室: on time · 法规处: reported on 9 October for 30 September (2 working days late) and a
    cancelled task · 审批处: never reported · 信息中心: returned twice, then on time.
    Returns {"plan_id": …, unit name: (unit caller, assignment id)}.
    """
    sep30 = date(2026, 9, 30)
    with db.session() as s:
        plan = new_plan(s)
        world = {"plan_id": plan.id}
        for name, title in (
            ("办公室", "更新政府信息公开指南"),
            ("法规处", "发布规范性文件的政策解读 <b>"),
            ("审批处", "公开行政审批事项办事指南"),
            ("信息中心", "政府网站年度报表"),
        ):
            world[name] = new_assignment(s, office, plan, name, sep30, title)
        unit = world["法规处"][0]
        _, (cancelled,) = add_task(
            s, office, "已撤销的任务", ["法规处"], sep30, at(date(2026, 1, 5)), plan_id=plan.id
        )
        world["cancelled"] = (unit, cancelled.id)
    play(db, office, *world["办公室"], [(date(2026, 9, 29), "report", REPORT)])
    play(
        db,
        office,
        *world["法规处"],
        [(date(2026, 10, 1), "expire", {}), (date(2026, 10, 9), "report", REPORT)],
    )
    play(db, office, *world["审批处"], [(date(2026, 10, 1), "expire", {})])
    play(
        db,
        office,
        *world["信息中心"],
        [
            (date(2026, 9, 21), "report", REPORT),
            (date(2026, 9, 22), "return", {"reason": "缺少链接"}),
            (date(2026, 9, 23), "report", REPORT),
            (date(2026, 9, 24), "return", {"reason": "仍缺少链接"}),
            (date(2026, 9, 28), "report", REPORT),
        ],
    )
    play(db, office, *world["cancelled"], [(date(2026, 10, 15), "cancel", {"reason": "任务调整"})])
    return world


SCORING_TOML = """[scoring]
base = 100
late_task = 1
late_day = 0.5
late_day_cap = 3
never_reported = 5
returned_after = 2
returned = 1
"""


def new_event(s, office, unit_name: str, event_date: date, ref: str = "政策文件") -> tuple:
    """(unit caller, assignment id) of a 政策解读 event, joining the plan of its due year."""
    from workflow.tasks.events import add_event

    unit = add_unit(s, office, unit_name, at(date(2026, 1, 5)))
    added = add_event(
        s, office, "政策解读", event_date, unit.name, ref, calendar=CAL, now=at(event_date)
    )
    return unit_caller(unit), added.assignment.id


def new_monthly(s, office, plan: Plan, unit_name: str, month: int) -> tuple:
    """(unit caller, assignment id) of one month of "专栏每月至少更新2条信息" (period 2026-MM)."""
    import calendar as cal_module

    from workflow.storage.models import Task
    from workflow.tasks.assignments import create_assignment

    unit = add_unit(s, office, unit_name, at(date(2026, 1, 5)))
    task = Task(
        plan_id=plan.id,
        kind="ledger",
        title="政务公开专栏更新",
        metric="专栏每月至少更新2条信息",
        deadline_text="每月",
    )
    s.add(task)
    s.flush()
    due = date(2026, month, cal_module.monthrange(2026, month)[1])
    a = create_assignment(
        s, task, unit, due=due, actor=office, now=at(date(2026, 1, 5)), period=f"2026-{month:02d}"
    )
    return unit_caller(unit), a.id

"""A whole simulated year (2023, the Yinchuan seed ledger's) for the rules, appeals and freeze.

Tasks come from the seed (``tests/ledgers.py``): for each of five units, the 12 months of a
monthly obligation under section 二 and two one-off tasks under section 一 (due 31 July and
30 November, the seed's 报送 dates). Every step goes through the real lifecycle, dated.

Stories (what each unit did):

========  ==========================================================================
甲科      every month and both one-offs on their due date
乙科      March, June, September reported 5 days late; the rest on time
丙科      never reported a month; July's one-off 3 days late; November's on time
丁科      July's one-off 3 days late; the rest on time; two bonus grants (2 + 2 points)
戊科      April, May, August reported late; the rest on time (one of them is appealed)
========  ==========================================================================
"""

from __future__ import annotations

import calendar as cal_module
from datetime import date, timedelta

from conftest import unit_caller
from ledgers import yinchuan_sections
from scoring_world import REPORT, at, play

from workflow.directory.units import add_unit
from workflow.storage.models import Plan, Task
from workflow.tasks.assignments import create_assignment

YEAR = 2023
UNITS = ("甲科", "乙科", "丙科", "丁科", "戊科")
LATE_MONTHS = {"乙科": (3, 6, 9), "戊科": (4, 5, 8)}
NEVER_MONTHLY = {"丙科"}
LATE_ONE_OFF = {"丙科", "丁科"}  # July's one-off, 3 days late
ONE_OFF_DUES = (date(YEAR, 7, 31), date(YEAR, 11, 30))

YEAR_TOML = """[scoring]
late_task = 1
late_day = 0
late_day_cap = 0
never_reported = 3
yellow_card_after = 3
yellow_card = 2
red_card_after = 6
red_card = 5
bonus_cap = 3

[scoring.indicators]
"二、强化重要政策发布，加大同步解读力度" = 10
"""


def build_year(db, office) -> dict:
    """The plan, units and their stories; returns {unit: {"monthly": {m: aid}, "once": [aid, aid]}}."""
    sections = yinchuan_sections()
    one, two = sections[0], sections[1]
    with db.session() as s:
        plan = Plan(year=YEAR, title=f"{YEAR}年政务公开工作要点任务落实台账")
        s.add(plan)
        s.flush()
        monthly = Task(
            plan_id=plan.id,
            kind="ledger",
            section_path=[two["title"]],
            number=two["tasks"][0]["number"],
            title=two["tasks"][0]["title"],
            deadline_text="每月",
        )
        once = [
            Task(
                plan_id=plan.id,
                kind="ledger",
                section_path=[one["title"]],
                number=t["number"],
                title=t["title"],
                deadline_text=f"{d.month}月{d.day}日前",
            )
            for t, d in zip(one["tasks"][:2], ONE_OFF_DUES, strict=True)
        ]
        s.add_all([monthly, *once])
        s.flush()
        world: dict = {"plan_id": plan.id}
        for name in UNITS:
            unit = add_unit(s, office, name, at(date(YEAR, 1, 3)))
            months = {}
            for m in range(1, 13):
                due = date(YEAR, m, cal_module.monthrange(YEAR, m)[1])
                a = create_assignment(
                    s, monthly, unit, due=due, actor=office, now=at(date(YEAR, 1, 3)),
                    period=f"{YEAR}-{m:02d}",
                )  # fmt: skip
                months[m] = (a.id, due)
            ones = [
                (create_assignment(s, t, unit, due=d, actor=office, now=at(date(YEAR, 1, 3))).id, d)
                for t, d in zip(once, ONE_OFF_DUES, strict=True)
            ]
            world[name] = {"caller": unit_caller(unit), "monthly": months, "once": ones}
    for name in UNITS:
        unit = world[name]["caller"]
        for m, (aid, due) in world[name]["monthly"].items():
            if name in NEVER_MONTHLY:
                _steps(db, office, unit, aid, due, None)
            else:
                _steps(db, office, unit, aid, due, 5 if m in LATE_MONTHS.get(name, ()) else 0)
        for i, (aid, due) in enumerate(world[name]["once"]):
            _steps(db, office, unit, aid, due, 3 if i == 0 and name in LATE_ONE_OFF else 0)
    return world


def _steps(db, office, unit, aid: int, due: date, late_by: int | None) -> None:
    """Report on the due date (0), ``late_by`` days after it, or never (None)."""
    if late_by == 0:
        play(db, office, unit, aid, [(due, "report", REPORT)])
        return
    steps = [(due + timedelta(days=1), "expire", {})]
    if late_by is not None:
        steps.append((due + timedelta(days=late_by), "report", REPORT))
    play(db, office, unit, aid, steps)

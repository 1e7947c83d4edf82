"""The leaders' board: counts by state and grade per unit, the overdue list, rates, forecast."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import unit_caller
from scoring_world import CAL, at, new_plan

from workflow.config import Config
from workflow.directory.roles import Caller
from workflow.directory.units import add_unit
from workflow.errors import PermissionDenied
from workflow.evaluation.board import board
from workflow.storage.models import Unit
from workflow.tasks.assignments import add_task
from workflow.tasks.lifecycle import fire

AS_OF = date(2026, 3, 10)  # a Tuesday


@pytest.fixture
def config(tmp_path, database_url):
    return Config(config_dir=tmp_path, data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def world(db, office):
    with db.session() as s:
        plan = new_plan(s)
        units = {n: add_unit(s, office, n, at(date(2026, 1, 5))) for n in ("甲科", "乙科", "丙科")}
        ids = {}
        for key, unit, due in [
            ("late", "甲科", date(2026, 2, 27)),
            ("later", "乙科", date(2026, 3, 2)),
            ("today", "乙科", date(2026, 3, 10)),
            ("soon", "丙科", date(2026, 3, 11)),
            ("far", "丙科", date(2026, 3, 31)),
            ("done", "丙科", date(2026, 3, 5)),
        ]:
            _, (a,) = add_task(s, office, key, [unit], due, at(date(2026, 1, 5)), plan_id=plan.id)
            ids[key] = a.id
        丙 = unit_caller(units["丙科"])
        fire(s, ids["done"], "report", 丙, now=at(date(2026, 3, 4)), text="已完成")
        fire(s, ids["done"], "verify", office, now=at(date(2026, 3, 5)))
    return ids


def test_counts_grades_overdue_list_and_rates(db, office, config, world):
    with db.session() as s:
        b = board(s, office, None, AS_OF, config=config, calendar=CAL)
    by_unit = {u["unit"]: u for u in b["units"]}
    assert by_unit["丙科"]["states"]["verified"] == 1
    assert by_unit["丙科"]["grades"] == {"red": 0, "yellow": 1, "blue": 1}
    assert by_unit["乙科"]["grades"] == {"red": 1, "yellow": 1, "blue": 0}
    assert by_unit["甲科"]["grades"] == {"red": 1, "yellow": 0, "blue": 0}
    # most working days overdue first: 27 Feb → 10 Mar is 8 (28 Feb is a 调休 working Saturday)
    assert [(o["unit"], o["working_days_overdue"]) for o in b["overdue"]] == [
        ("甲科", 8),
        ("乙科", 6),
    ]
    assert [u["unit"] for u in b["units"]][:2] == ["乙科", "甲科"]  # most red, then yellow
    assert by_unit["丙科"]["on_time_rate"] == 1.0 and by_unit["甲科"]["on_time_rate"] == 0.0
    assert b["totals"]["on_time_rate"] == 0.25  # 1 of the 4 due by 10 Mar
    assert b["totals"]["assignments"] == 6 and b["totals"]["overdue"] == 2
    assert b["forecast"] is True and by_unit["甲科"]["score"] < 100 == by_unit["丙科"]["score"]


def test_a_unit_may_not_see_the_board_a_leader_may(db, office, config, world):
    with db.session() as s:
        unit = s.get(Unit, 1)
        with pytest.raises(PermissionDenied):
            board(s, unit_caller(unit), None, AS_OF, config=config, calendar=CAL)
        leader = Caller(role="leader", name="王副主任", person_id=None)
        assert board(s, leader, None, AS_OF, config=config, calendar=CAL)["totals"]["assignments"]


def test_before_any_plan_the_board_is_empty(db, office, config):
    with db.session() as s:
        b = board(s, office, None, AS_OF, config=config, calendar=CAL)
    assert b["plan"] is None and b["units"] == [] and b["totals"]["assignments"] == 0

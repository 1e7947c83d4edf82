"""The cyclic collector is paused around a sheet's build and always restored."""

from __future__ import annotations

import gc

import pytest

from workflow.writing.collector import collector_paused


@pytest.mark.parametrize("enabled_before", [True, False])
def test_paused_inside_and_restored_after(enabled_before):
    was = gc.isenabled()
    try:
        gc.enable() if enabled_before else gc.disable()
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():  # nested: still paused, and the outer block restores
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable() if was else gc.disable()


def test_restored_when_the_block_fails():
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_sheet_and_its_workbook_leave_the_collector_on(db, office, tmp_path):
    """score_plan and the workbook, which pause it while they build, give it back."""
    from datetime import date

    from scoring_world import new_assignment, new_plan

    from calendars import ChinaCalendar
    from workflow.evaluation.scores import ScoringRules, score_plan
    from workflow.evaluation.workbook import write_evaluation_xlsx

    with db.session() as s:
        plan = new_plan(s)
        new_assignment(s, office, plan, "政务公开科", date(2026, 3, 31))
        plan_id = plan.id
    with db.session() as s:
        ev = score_plan(
            s, plan_id, date(2026, 12, 31), calendar=ChinaCalendar(), rules=ScoringRules()
        )
    assert gc.isenabled()
    write_evaluation_xlsx(ev, tmp_path / "考核.xlsx")
    assert gc.isenabled()
    assert [r.rule for r in ev.rows] == ["never_reported"]

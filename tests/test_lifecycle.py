"""The lifecycle on a real database: permissions, side effects, history, optimistic locking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import unit_caller
from dbsnap import snapshot
from sqlmodel import select

from workflow.directory.roles import Caller
from workflow.directory.units import add_unit
from workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from workflow.storage.models import Assignment, History, Report
from workflow.tasks.assignments import TaskFilter, add_task, list_assignments, show_assignment
from workflow.tasks.lifecycle import fire

DUE = date(2026, 3, 31)


@pytest.fixture
def setup(db, office, now):
    """Two units sharing one task; returns (db, {unit name: (caller, assignment id)})."""
    with db.session() as s:
        fagui = add_unit(s, office, "法规处", now)
        haiyu = add_unit(s, office, "海域处（审批处）", now)
        _, assignments = add_task(s, office, "修订政府信息公开指南", ["法规处", "审批处"], DUE, now)
        ids = {a.unit_id: a.id for a in assignments}
        return db, {
            "法规处": (unit_caller(fagui), ids[fagui.id]),
            "海域处": (unit_caller(haiyu), ids[haiyu.id]),
        }


def test_the_whole_story_is_recorded(setup, office, now):
    db, units = setup
    unit, aid = units["法规处"]
    steps = [
        ("start", unit, {}),
        ("report", unit, {"text": "已完成初稿", "evidence": ["粤卫办〔2026〕3号"]}),
        ("return", office, {"reason": "请补充网站链接"}),
        (
            "report",
            unit,
            {"text": "已补充链接", "evidence": ["https://example.gov.cn/zwgk/1.html"]},
        ),
        ("verify", office, {}),
    ]
    for i, (trigger, caller, kwargs) in enumerate(steps):
        with db.session() as s:
            fire(s, aid, trigger, caller, now=now + timedelta(hours=i), **kwargs)
    with db.session() as s:
        view = show_assignment(s, office, aid)
    assert view["state"] == "verified"
    assert [h["action"] for h in view["history"]] == [
        "create",
        "start",
        "report",
        "return",
        "report",
        "verify",
    ]
    assert view["history"][3]["reason"] == "请补充网站链接"
    assert [h["actor"] for h in view["history"][1:]] == [
        "法规处",
        "法规处",
        "办公室",
        "法规处",
        "办公室",
    ]
    assert [r["text"] for r in view["reports"]] == ["已完成初稿", "已补充链接"]
    assert view["reports"][0]["evidence"] == ["粤卫办〔2026〕3号"]
    assert view["late"] is False


def test_a_unit_touches_only_its_own_assignment(setup, now):
    db, units = setup
    fagui, _ = units["法规处"]
    _, other = units["海域处"]
    before = snapshot(db.engine)
    with pytest.raises(PermissionDenied, match="海域处"), db.session() as s:
        fire(s, other, "start", fagui, now=now)
    assert snapshot(db.engine) == before


@pytest.mark.parametrize(
    ("trigger", "role", "kwargs"),
    [
        ("verify", "unit", {}),
        ("return", "unit", {"reason": "x"}),
        ("extend", "unit", {"reason": "x", "new_due": date(2026, 4, 30)}),
        ("cancel", "unit", {"reason": "x"}),
        ("start", "office", {}),
        ("report", "leader", {"text": "x"}),
        ("start", "leader", {}),
    ],
)
def test_actions_outside_the_role_are_refused(setup, now, trigger, role, kwargs):
    db, units = setup
    unit, aid = units["法规处"]
    caller = unit if role == "unit" else Caller(role=role, name="某人")
    before = snapshot(db.engine)
    with pytest.raises(PermissionDenied, match="无权"), db.session() as s:
        fire(s, aid, trigger, caller, now=now, **kwargs)
    assert snapshot(db.engine) == before


@pytest.mark.parametrize(
    ("trigger", "kwargs", "error", "words"),
    [
        ("report", {"text": "  "}, InvalidInput, "进展落实情况"),
        ("return", {}, TransitionNotAllowed, "已分派"),
        ("verify", {}, TransitionNotAllowed, "核验"),
    ],
)
def test_bad_requests_change_nothing(setup, office, now, trigger, kwargs, error, words):
    db, units = setup
    unit, aid = units["法规处"]
    caller = unit if trigger == "report" else office
    if trigger == "return":
        kwargs = {"reason": "不完整"}
    before = snapshot(db.engine)
    with pytest.raises(error, match=words), db.session() as s:
        fire(s, aid, trigger, caller, now=now, **kwargs)
    assert snapshot(db.engine) == before


def test_reporting_a_verified_task_is_refused(setup, office, now):
    db, units = setup
    unit, aid = units["法规处"]
    with db.session() as s:
        fire(s, aid, "report", unit, now=now, text="完成")
        fire(s, aid, "verify", office, now=now)
    before = snapshot(db.engine)
    with pytest.raises(TransitionNotAllowed, match="已核验"), db.session() as s:
        fire(s, aid, "report", unit, now=now, text="再报一次")
    assert snapshot(db.engine) == before


def test_unknown_assignment(db, office, now):
    with pytest.raises(NotFound, match="#999"), db.session() as s:
        fire(s, 999, "verify", office, now=now)


def test_overdue_then_late_report_stays_late(setup, office, now):
    db, units = setup
    unit, aid = units["法规处"]
    with db.session() as s:
        a = fire(s, aid, "expire", Caller.system(), now=now)
        assert a.state == "overdue" and a.overdue_since == DUE
        a = fire(s, aid, "report", unit, now=now + timedelta(days=40), text="补报")
        assert a.state == "reported" and a.late
        a = fire(s, aid, "verify", office, now=now + timedelta(days=41))
        assert a.state == "verified" and a.late
        report = s.exec(select(Report).where(Report.assignment_id == aid)).one()
        assert report.late


def test_report_after_due_without_a_check_is_late(setup, now):
    db, units = setup
    unit, aid = units["法规处"]
    with db.session() as s:
        a = fire(s, aid, "report", unit, now=now + timedelta(days=60), text="晚了")
    assert a.late


def test_extend_moves_due_and_keeps_original(setup, office, now):
    db, units = setup
    _, aid = units["法规处"]
    with db.session() as s:
        fire(s, aid, "expire", Caller.system(), now=now)
        a = fire(
            s, aid, "extend", office, now=now, new_due=date(2026, 4, 30), reason="上级文件未下发"
        )
        assert (a.state, a.due, a.original_due) == ("in_progress", date(2026, 4, 30), DUE)
        hist = s.exec(
            select(History).where(History.assignment_id == aid, History.action == "extend")
        ).one()
        assert hist.data == {"from_due": "2026-03-31", "to_due": "2026-04-30"}


@pytest.mark.parametrize(
    ("new_due", "words"), [(None, "新的截止日期"), (date(2026, 3, 1), "应晚于")]
)
def test_extend_needs_a_later_date(setup, office, now, new_due, words):
    db, units = setup
    _, aid = units["法规处"]
    with pytest.raises(InvalidInput, match=words), db.session() as s:
        fire(s, aid, "extend", office, now=now, new_due=new_due, reason="x")


def test_cancel_needs_a_reason_and_is_final(setup, office, now):
    db, units = setup
    unit, aid = units["法规处"]
    with pytest.raises(InvalidInput, match="理由"), db.session() as s:
        fire(s, aid, "cancel", office, now=now)
    with db.session() as s:
        fire(s, aid, "cancel", office, now=now, reason="任务调整")
    with pytest.raises(TransitionNotAllowed, match="已撤销"), db.session() as s:
        fire(s, aid, "start", unit, now=now)


def test_reopen_returns_a_cancelled_report_to_where_it_stood(setup, office, now):
    db, units = setup
    unit, aid = units["法规处"]
    with db.session() as s:
        fire(s, aid, "report", unit, now=now, text="已公开")
        fire(s, aid, "cancel", office, now=now, reason="误撤销前的报送")
    with pytest.raises(InvalidInput, match="恢复任务.*理由"), db.session() as s:
        fire(s, aid, "reopen", office, now=now)
    with pytest.raises(PermissionDenied), db.session() as s:
        fire(s, aid, "reopen", unit, now=now, reason="x")
    with db.session() as s:
        assert fire(s, aid, "reopen", office, now=now, reason="误撤销").state == "reported"
        fire(s, aid, "verify", office, now=now)
    with db.session() as s:
        rows = s.exec(select(History).where(History.assignment_id == aid).order_by(History.id))
        steps = [(h.action, h.from_state, h.to_state) for h in rows.all()]
    assert steps[-3:] == [
        ("cancel", "reported", "cancelled"),
        ("reopen", "cancelled", "reported"),
        ("verify", "reported", "verified"),
    ]


def test_two_people_reporting_at_once_one_wins(setup, now):
    """Optimistic locking: both read version 1; the second write is refused, nothing of it kept."""
    db, units = setup
    unit, aid = units["法规处"]
    with db.session() as first, db.session() as second:
        first_row = first.get_one(Assignment, aid)
        second_row = second.get_one(Assignment, aid)
        assert first_row.version == second_row.version == 1
        fire(first, aid, "report", unit, now=now, text="甲的报送")
        first.commit()
        with pytest.raises(Conflict, match=f"#{aid}"):
            fire(second, aid, "report", unit, now=now, text="乙的报送")
    with db.session() as s:
        view = show_assignment(s, Caller("office", "办公室"), aid)
    assert [r["text"] for r in view["reports"]] == ["甲的报送"]
    assert view["version"] == 2


def test_unit_lists_only_its_own(setup, office):
    db, units = setup
    unit, aid = units["法规处"]
    with db.session() as s:
        assert [r["id"] for r in list_assignments(s, unit, TaskFilter())] == [aid]
        assert len(list_assignments(s, office, TaskFilter())) == 2
        with pytest.raises(PermissionDenied, match="不属于法规处"):  # a 403, as for a report
            show_assignment(s, unit, units["海域处"][1])

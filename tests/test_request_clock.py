"""The 依申请公开 clock (政府信息公开条例 2019, arts. 30, 32, 33) on a real database.

Every due date below is counted by hand on the 2026 calendar (March has no holiday; 清明
2026-04-04…06 off; 劳动节 2026-05-01…05 off, Saturday 2026-05-09 worked):

* received Monday 03-02: 20 working days = 03-03…06 (4), 09…13 (9), 16…20 (14), 23…27 (19),
  03-30 (20) → due 03-30.
* third party consulted 03-10 → opinion 03-20: (03-02, 03-10] counts 6; 14 left after 03-20:
  23…27 (5), 30, 31 (7), 04-01…03 (10), 04-07…10 (14) → 04-10 (= 03-30 plus the 8 working days
  11, 12, 13, 16…20 skipped).
* 补正 asked 03-04, corrected application received 03-16: 20 from 03-16: 17…20 (4), 23…27 (9),
  30, 31 (11), 04-01…03 (14), 04-07…10 (18), 13, 14 (20) → 04-14.
* then a third party 04-01 → 04-20: (03-16, 04-01] counts 12, 8 left: 04-21…24 (4), 27…30 (8)
  → 04-30; extended by 20 (28 left after 04-20): 04-21…24 (4), 27…30 (8), 05-06…08 (11),
  Saturday 05-09 (12), 11…15 (17), 18…22 (22), 25…29 (27), 06-01 (28) → 06-01.
* a pause on the due day itself leaves nothing to count: the answer is due the day the
  opinion arrives (03-30 → 04-08).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from conftest import unit_caller
from dbsnap import snapshot
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.chasing.check import check_database
from workflow.chasing.policy import Policy
from workflow.dates.clock import SHANGHAI
from workflow.dates.due import paused_working_days
from workflow.directory.units import add_unit
from workflow.errors import Conflict, InvalidInput, PermissionDenied
from workflow.storage.models import Assignment, History
from workflow.tasks.clock import pause_event, resume_event
from workflow.tasks.events import add_event, event_kinds, extend_event, show_event
from workflow.tasks.lifecycle import fire

KINDS = event_kinds()


@pytest.fixture(scope="module")
def cal() -> ChinaCalendar:
    return ChinaCalendar()


@pytest.fixture
def units(db, office, now):
    with db.session() as s:
        fagui = add_unit(s, office, "法规处", now)
        other = add_unit(s, office, "财务处", now)
        return {"法规处": unit_caller(fagui), "财务处": unit_caller(other)}


@pytest.fixture
def request_id(db, office, now, units, cal):
    with db.session() as s:
        added = add_event(
            s,
            office,
            "依申请公开",
            date(2026, 3, 2),
            "法规处",
            "申请 2026-007",
            calendar=cal,
            now=now,
        )
        assert added.assignment.due == date(2026, 3, 30)
        return added.assignment.id


def pause(db, caller, aid, reason, on, now):
    with db.session() as s:
        return pause_event(s, caller, aid, reason, on, None, kinds=KINDS, now=now).id


def resume(db, caller, aid, on, cal, now):
    with db.session() as s:
        return resume_event(s, caller, aid, on, None, calendar=cal, kinds=KINDS, now=now).due


D = date


@pytest.mark.parametrize(
    ("steps", "due"),
    [
        ([], D(2026, 3, 30)),
        ([("third_party", D(2026, 3, 10), D(2026, 3, 20))], D(2026, 4, 10)),
        ([("征求第三方意见", D(2026, 3, 10), D(2026, 3, 20))], D(2026, 4, 10)),
        ([("补正", D(2026, 3, 4), D(2026, 3, 16))], D(2026, 4, 14)),
        (
            [
                ("补正", D(2026, 3, 4), D(2026, 3, 16)),
                ("third_party", D(2026, 4, 1), D(2026, 4, 20)),
            ],
            D(2026, 4, 30),
        ),
        (
            [
                ("补正", D(2026, 3, 4), D(2026, 3, 16)),
                ("third_party", D(2026, 4, 1), D(2026, 4, 20)),
                ("extend", 20, None),
            ],
            D(2026, 6, 1),
        ),
        ([("third_party", D(2026, 3, 30), D(2026, 4, 8))], D(2026, 4, 8)),
        # two third-party pauses: 6 counted by 03-10, 03-20 → 03-24 counts 2 (23, 24), 12 left
        # after 04-03: 04-07…10 (4), 13…17 (9), 20…22 (12) → 04-22
        (
            [
                ("third_party", D(2026, 3, 10), D(2026, 3, 20)),
                ("third_party", D(2026, 3, 24), D(2026, 4, 3)),
            ],
            D(2026, 4, 22),
        ),
    ],
)
def test_the_clock_by_hand(db, office, now, request_id, cal, steps, due):
    for reason, a, b in steps:
        if reason == "extend":
            with db.session() as s:
                extend_event(
                    s,
                    office,
                    request_id,
                    a,
                    "情况复杂",
                    calendar=cal,
                    now=now,
                    approved_by="张主任",
                )
            continue
        pause(db, office, request_id, reason, a, now)
        resume(db, office, request_id, b, cal, now)
    with db.session() as s:
        assignment = s.get(Assignment, request_id)
        assert assignment.due == due  # what reminders, the overdue check and scoring see
        assert assignment.clock_paused_on is None
        shown = show_event(s, office, request_id, KINDS)
    assert shown["due"] == due.isoformat() and shown["clock"]["due"] == due.isoformat()
    assert shown["extended"] is any(r == "extend" for r, _, _ in steps)
    pauses = [(r, a, b) for r, a, b in steps if r != "extend"]
    actions = [h["action"] for h in shown["history"]]
    assert actions.count("clock_pause") == actions.count("clock_resume") == len(pauses)


def test_pause_and_resume_are_history_with_reasons(db, office, now, request_id, cal):
    pause(db, office, request_id, "补正", D(2026, 3, 4), now)
    with db.session() as s:
        shown = show_event(s, office, request_id, KINDS)
        assert shown["clock"]["paused"] and shown["clock"]["paused_on"] == "2026-03-04"
        assert shown["clock"]["paused_reason"] == "correction" and shown["clock"]["due"] is None
    resume(db, office, request_id, D(2026, 3, 16), cal, now)
    with db.session() as s:
        rows = s.exec(
            select(History)
            .where(History.assignment_id == request_id, History.action.like("clock_%"))
            .order_by(History.id)
        ).all()
    assert [h.action for h in rows] == ["clock_pause", "clock_resume"]
    assert "补正" in rows[0].reason and "条例第三十条" in rows[0].reason
    assert rows[1].data == {
        "reason": "correction",
        "paused_on": "2026-03-04",
        "on": "2026-03-16",
        "from_due": "2026-03-30",
        "to_due": "2026-04-14",
    }


def test_a_stopped_clock_is_neither_overdue_nor_reminded(db, office, now, request_id, cal):
    pause(db, office, request_id, "补正", D(2026, 3, 20), now)
    policy = Policy()
    report = check_database(db, D(2026, 4, 15), calendar=cal, policy=policy, now=now)
    assert request_id not in report.expired
    with db.session() as s:
        assert s.get(Assignment, request_id).state == "assigned"
    resume(db, office, request_id, D(2026, 4, 20), cal, now)  # due 20 working days later
    report = check_database(db, D(2026, 5, 20), calendar=cal, policy=policy, now=now)
    with db.session() as s:
        assert s.get(Assignment, request_id).due == D(2026, 5, 20)
        assert s.get(Assignment, request_id).state == "assigned"
    report = check_database(db, D(2026, 5, 21), calendar=cal, policy=policy, now=now)
    assert request_id in report.expired


@pytest.mark.parametrize(
    ("setup", "call", "error", "fragment"),
    [
        ([], ("resume", D(2026, 3, 5)), Conflict, "没有暂停"),
        ([("pause", "补正", D(2026, 3, 4))], ("pause", "补正", D(2026, 3, 5)), Conflict, "已暂停"),
        ([("pause", "补正", D(2026, 3, 4))], ("resume", D(2026, 3, 3)), InvalidInput, "早于暂停"),
        ([], ("pause", "请示领导", D(2026, 3, 4)), InvalidInput, "未知的暂停原因"),
        ([], ("pause", "补正", D(2026, 3, 31)), InvalidInput, "期限已届满"),
        ([], ("pause", "补正", D(2026, 3, 1)), InvalidInput, "早于本次计时的起点"),
    ],
)
def test_refusals_change_nothing(db, office, now, request_id, cal, setup, call, error, fragment):
    for _, reason, on in setup:
        pause(db, office, request_id, reason, on, now)
    before = snapshot(db.engine)
    with pytest.raises(error) as info:
        if call[0] == "pause":
            pause(db, office, request_id, call[1], call[2], now)
        else:
            resume(db, office, request_id, call[1], cal, now)
    assert fragment in info.value.message
    assert snapshot(db.engine) == before


def test_who_may_stop_and_extend(db, office, now, units, request_id, cal):
    with pytest.raises(PermissionDenied):
        pause(db, units["财务处"], request_id, "补正", D(2026, 3, 4), now)
    pause(db, units["法规处"], request_id, "补正", D(2026, 3, 4), now)  # the unit handling it
    with pytest.raises(Conflict), db.session() as s:  # no extension while stopped
        extend_event(s, office, request_id, 5, "x", calendar=cal, now=now, approved_by="张主任")
    resume(db, units["法规处"], request_id, D(2026, 3, 16), cal, now)
    with pytest.raises(InvalidInput) as info, db.session() as s:
        extend_event(s, office, request_id, 5, "x", calendar=cal, now=now)
    assert "负责人" in info.value.message
    with db.session() as s:
        a = extend_event(s, office, request_id, 5, "x", calendar=cal, now=now, approved_by="张主任")
        assert a.due == cal.add_working_days(D(2026, 4, 14), 5)
        h = s.exec(select(History).where(History.action == "extend")).one()
        assert h.data["approved_by"] == "张主任"


def test_other_kinds_have_no_clock(db, office, now, units, cal):
    with db.session() as s:
        aid = add_event(
            s, office, "政策解读", D(2026, 3, 2), "法规处", "x", calendar=cal, now=now
        ).assignment.id
    with pytest.raises(InvalidInput):
        pause(db, office, aid, "补正", D(2026, 3, 3), now)


@pytest.mark.parametrize("start", [D(2026, 1, 5) + timedelta(days=7 * i) for i in range(40)])
def test_a_pause_skips_exactly_its_working_days(cal, start):
    """Property: a third-party pause (a, b] moves the due date by the working days in (a, b]."""
    a = cal.add_working_days(start, 5)
    b = a + timedelta(days=9)
    plain = cal.add_working_days(start, 20)
    paused = paused_working_days(cal, start, 20, [[a.isoformat(), b.isoformat()]])
    assert cal.working_days_between(plain, paused) == cal.working_days_between(a, b)


# ------------------------------------------------------------------ CLI


def test_cli_pause_resume_show_extend(duban):
    duban.ok("unit", "add", "法规处")
    row = duban.json(
        "event", "add", "依申请公开", "--date", "2026-03-02", "--unit", "法规处", "--ref", "申请 7"
    )
    n = str(row["id"])
    out = duban.ok("event", "pause", n, "--reason", "征求第三方意见", "--on", "2026-03-10")
    assert "暂停计时" in out.stdout
    shown = duban.json("event", "show", n)
    assert shown["clock"]["paused"] and shown["paused_on"] == "2026-03-10"
    resumed = duban.json("event", "resume", n, "--on", "2026-03-20")
    assert resumed["due"] == "2026-04-10" and resumed["clock"]["pauses"] == [
        {"from": "2026-03-10", "to": "2026-03-20"}
    ]
    text = duban.ok("event", "show", n).stdout
    assert "暂停计时" in text and "恢复计时" in text and "2026-04-10" in text
    bad = duban("event", "extend", n, "--days", "5", "--reason", "复杂")
    assert bad.exit_code != 0 and "负责人" in bad.stderr and "Traceback" not in bad.output
    ext = duban.json(
        "event", "extend", n, "--days", "5", "--reason", "复杂", "--approved-by", "张主任"
    )
    assert ext["due"] == "2026-04-17"
    again = duban("event", "resume", n, "--on", "2026-04-01")
    assert again.exit_code == Conflict.exit_code and "没有暂停" in again.stderr


def test_the_evaluation_charges_against_the_clock(db, office, now, units, cal):
    """Two requests received 03-02, both answered 04-08: the one whose clock stopped for a
    third party (03-10 → 03-20, due 04-10) is on time; the other (due 03-30) is 6 working days
    late (03-31, 04-01, 02, 03, 07, 08)."""
    from workflow.evaluation.rules import ScoringRules
    from workflow.evaluation.scores import score_plan

    with db.session() as s:
        paused = add_event(s, office, "依申请公开", D(2026, 3, 2), "法规处", "申请 A", calendar=cal, now=now)  # fmt: skip
        plain = add_event(s, office, "依申请公开", D(2026, 3, 2), "财务处", "申请 B", calendar=cal, now=now)  # fmt: skip
        ids, plan_id = (paused.assignment.id, plain.assignment.id), paused.task.plan_id
    pause(db, office, ids[0], "征求第三方意见", D(2026, 3, 10), now)
    resume(db, office, ids[0], D(2026, 3, 20), cal, now)
    answered = datetime(2026, 4, 8, 15, 0, tzinfo=SHANGHAI)
    for aid, who in zip(ids, ("法规处", "财务处"), strict=True):
        with db.session() as s:
            fire(s, aid, "report", units[who], now=answered, text="已答复")
    with db.session() as s:
        assert [s.get(Assignment, aid).late for aid in ids] == [False, True]
        evaluation = score_plan(s, plan_id, D(2026, 12, 31), calendar=cal, rules=ScoringRules())
    lost = {u.unit_id: u.deducted for u in evaluation.units}
    rows = {d.assignment_id: d for d in evaluation.rows}
    assert ids[0] not in rows and rows[ids[1]].days_late == 6
    assert rows[ids[1]].due == D(2026, 3, 30)
    assert lost[units["法规处"].unit_id] == 0 and lost[units["财务处"].unit_id] > 0

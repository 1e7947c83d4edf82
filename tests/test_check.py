"""run_check over simulated days of 2026: exactly which notifications exist after each day.

Calendar facts used (official 2026 schedule): 2026-02-14 (Sat) and 2026-02-28 (Sat) are 调休
working days; 2026-02-15…23 is the Spring Festival break; 2026-09-20 (Sun) and 2026-10-10 (Sat)
are working days; 2026-09-25 (中秋) and 2026-10-01…07 (国庆) are off.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import date

import pytest
from check_helpers import (
    CAL,
    all_rows,
    at,
    check,
    days,
    directory,
    rendered,
    report,
    snapshot,
    task,
)
from sqlmodel import select

from workflow.chasing.check import check_database, run_check
from workflow.chasing.policy import Policy
from workflow.storage.models import Assignment, History, Notification

D = date.fromisoformat


def test_calendar_facts_this_file_relies_on():
    assert CAL.is_working_day(D("2026-02-14")) and CAL.is_working_day(D("2026-02-28"))
    assert CAL.is_working_day(D("2026-09-20")) and CAL.is_working_day(D("2026-10-10"))
    assert not any(CAL.is_working_day(d) for d in days(D("2026-02-15"), D("2026-02-23")))
    assert not any(CAL.is_working_day(d) for d in days(D("2026-10-01"), D("2026-10-07")))
    assert not CAL.is_working_day(D("2026-09-25"))


def simulate(db, start: date, end: date, skip: set[date] = frozenset(), policy=None):
    """Run the check every day from start to end except ``skip``; new rows per day."""
    per_day: dict[date, set] = {}
    seen = snapshot(db)
    for d in days(start, end):
        if d in skip:
            continue
        check(db, d, policy)
        now = snapshot(db)
        if now - seen:
            per_day[d] = now - seen
        seen = now
    return per_day


@pytest.fixture
def festival(db):
    with db.session() as s:
        directory(s)
        (a1,) = task(s, "更新政策解读专栏", D("2026-02-13"), "公开科")
        (a2,) = task(s, "发布部门预算", D("2026-02-25"), "公开科")
    return db, a1, a2


def test_spring_festival_exact_rows_each_day(festival):
    db, a1, a2 = festival
    seen = snapshot(db)
    got: dict[date, set] = {}
    for d in days(D("2026-02-01"), D("2026-03-15")):
        check(db, d, Policy())
        if d == D("2026-02-25"):
            with db.session() as s:
                report(s, a2, d)
        now = snapshot(db)
        if now - seen:
            got[d] = now - seen
        seen = now

    def row(kind, who, *covers, on):
        return (kind, who, tuple(covers), on)

    expected = {
        # 3 working days before 02-13 is Tue 02-10; 3 before 02-25 is Fri 02-13 (02-14 worked)
        D("2026-02-10"): {row("reminder", "公开科", f"r:{a1}:2026-02-13:3", on="2026-02-10")},
        D("2026-02-12"): {row("reminder", "公开科", f"r:{a1}:2026-02-13:1", on="2026-02-12")},
        D("2026-02-13"): {
            row("due_today", "公开科", f"r:{a1}:2026-02-13:0", on="2026-02-13"),
            row("reminder", "公开科", f"r:{a2}:2026-02-25:3", on="2026-02-13"),
        },
        # the 调休 Saturday is a working day: overdue by 1 working day
        D("2026-02-14"): {row("overdue", "公开科", f"o:{a1}:2026-02-13:unit", on="2026-02-14")},
        D("2026-02-24"): {row("reminder", "公开科", f"r:{a2}:2026-02-25:1", on="2026-02-24")},
        D("2026-02-25"): {
            row("due_today", "公开科", f"r:{a2}:2026-02-25:0", on="2026-02-25"),
            row("escalation", "张副主任", f"o:{a1}:2026-02-13:leader", on="2026-02-25"),
        },
        D("2026-03-02"): {("digest", "张副主任", (), "2026-03-02")},  # weekly, Monday
        D("2026-03-05"): {
            row("escalation", "李主任", f"o:{a1}:2026-02-13:principal", on="2026-03-05")
        },
        D("2026-03-09"): {
            ("digest", "张副主任", (), "2026-03-09"),
            ("digest", "李主任", (), "2026-03-09"),
        },
    }
    assert got == expected
    with db.session() as s:
        a = s.get(Assignment, a1)
        assert a.state == "overdue" and a.overdue_since == D("2026-02-13")
        expire = s.exec(
            select(History).where(History.assignment_id == a1, History.action == "expire")
        ).one()
        assert expire.at == at(D("2026-02-14")) and expire.data["due"] == "2026-02-13"
    # the week-9 digest day (02-24, Monday 02-23 being a holiday) had nothing at leader level
    assert not any(k == "digest" and on < "2026-03-02" for k, _, _, on in snapshot(db))


def test_national_day_and_mid_autumn(db):
    with db.session() as s:
        directory(s)
        (a3,) = task(s, "更新机构职能", D("2026-09-23"), "法规科")
        (a4,) = task(s, "公开统计数据", D("2026-09-30"), "法规科")
    got = simulate(db, D("2026-09-10"), D("2026-10-25"))
    flat = {(cov, on) for rows in got.values() for _, _, covers, on in rows for cov in covers}
    assert flat == {
        (f"r:{a3}:2026-09-23:3", "2026-09-20"),  # the 调休 Sunday
        (f"r:{a3}:2026-09-23:1", "2026-09-22"),
        (f"r:{a3}:2026-09-23:0", "2026-09-23"),
        (f"r:{a4}:2026-09-30:3", "2026-09-24"),  # 09-25…27 off (中秋 + weekend)
        (f"r:{a4}:2026-09-30:1", "2026-09-29"),
        (f"r:{a4}:2026-09-30:0", "2026-09-30"),
        (f"o:{a3}:2026-09-23:unit", "2026-09-24"),
        (f"o:{a3}:2026-09-23:leader", "2026-09-29"),
        (f"o:{a4}:2026-09-30:unit", "2026-10-08"),
        (f"o:{a4}:2026-09-30:leader", "2026-10-10"),  # the 调休 Saturday
        (f"o:{a3}:2026-09-23:principal", "2026-10-14"),
        (f"o:{a4}:2026-09-30:principal", "2026-10-20"),
    }
    # nothing is ever queued on a day off
    offdays = {
        d.isoformat() for d in days(D("2026-09-10"), D("2026-10-25")) if not CAL.is_working_day(d)
    }
    assert not {on for rows in got.values() for *_, on in rows} & offdays
    # a3 was marked overdue on 09-24, a4 during the holiday (first check after its due date)
    with db.session() as s:
        history = {
            h.assignment_id: h.at for h in s.exec(select(History).where(History.action == "expire"))
        }
    assert history == {a3: at(D("2026-09-24")), a4: at(D("2026-10-01"))}


def test_one_mail_per_unit_per_kind_grouping_all_its_items(db):
    with db.session() as s:
        directory(s)
        ids = [task(s, f"任务{i}", D("2026-03-10"), "公开科", "法规科") for i in range(4)]
    report_ = check(db, D("2026-03-05"))
    assert sorted((q.kind, q.recipient_name, len(q.assignment_ids)) for q in report_.queued) == [
        ("reminder", "公开科", 4),
        ("reminder", "法规科", 4),
    ]
    rows = all_rows(db)
    assert {r.recipients[0] for r in rows} == {"gk@office.example.cn", "fg@office.example.cn"}
    assert all(r.key.startswith("reminder:u") and r.key.split(":")[2] == "2026-03-05" for r in rows)
    assert (
        sum(len(r.context["covers"]) for r in rows)
        == 8
        == len({c for r in rows for c in r.context["covers"]})
    )
    assert len(ids) == 4


def test_catch_up_after_downtime_tells_every_audience_once_at_its_own_level(db):
    with db.session() as s:
        directory(s)
        (a1,) = task(s, "任务甲", D("2026-02-13"), "公开科")
        (a5,) = task(s, "任务乙", D("2026-02-12"), "公开科")
        (f1,) = task(s, "任务丙", D("2026-03-09"), "法规科")  # due in 1 working day on 03-06
    check(db, D("2026-02-09"))
    before = snapshot(db)
    check(db, D("2026-03-06"))  # the daemon was down from 02-10 to 03-05
    new = snapshot(db) - before
    assert new == {
        # 14 and 13 working days late: the unit hears of it, its 分管领导 gets the escalation
        # and the principal the top-level one, each once, one mail per audience
        ("overdue", "公开科", (f"o:{a5}:2026-02-12:unit", f"o:{a1}:2026-02-13:unit"), "2026-03-06"),
        (
            "escalation",
            "张副主任",
            (f"o:{a5}:2026-02-12:leader", f"o:{a1}:2026-02-13:leader"),
            "2026-03-06",
        ),
        (
            "escalation",
            "李主任",
            (f"o:{a5}:2026-02-12:principal", f"o:{a1}:2026-02-13:principal"),
            "2026-03-06",
        ),
        # this week's digest (Monday 03-02) as it was then: at leader level, not yet principal
        ("digest", "张副主任", (), "2026-03-06"),
        # only the latest reminder point reached (1 working day before), not the missed "3"
        ("reminder", "法规科", (f"r:{f1}:2026-03-09:1",), "2026-03-06"),
    }
    with db.session() as s:
        for a in (a1, a5):
            row = s.get(Assignment, a)
            assert row.state == "overdue" and row.overdue_since == row.due
    digest = next(r for r in all_rows(db) if r.kind == "digest")
    assert digest.key == "digest:p1:2026-W10"
    assert [u["unit"] for u in digest.context["units"]] == ["公开科"]
    # the days after: nothing repeats, the next levels never go backwards
    assert check(db, D("2026-03-06")).queued == []
    assert sorted(q.kind for q in check(db, D("2026-03-09")).queued) == [
        "digest",
        "digest",
        "due_today",
    ]


def test_running_twice_queues_nothing_new_and_dry_run_writes_nothing(db):
    with db.session() as s:
        directory(s)
        task(s, "任务", D("2026-03-10"), "公开科", "法规科", "无邮箱科")
    from calendars import ChinaCalendar

    dry = check_database(
        db,
        D("2026-03-11"),
        calendar=ChinaCalendar(),
        policy=Policy(),
        now=at(D("2026-03-11")),
        dry_run=True,
    )
    assert dry.dry_run and len(dry.expired) == 3 and {q.kind for q in dry.queued} == {"overdue"}
    with db.session() as s:
        assert {a.state for a in s.exec(select(Assignment))} == {"assigned"}
        assert s.exec(select(Notification)).all() == []
    first = check(db, D("2026-03-11"))
    assert [q.to_dict()["key"] for q in first.queued] == [q.key for q in dry.queued]
    second = check(db, D("2026-03-11"))
    assert second.queued == [] and second.expired == []


def test_units_without_email_are_skipped_with_a_warning_then_caught_up(db):
    with db.session() as s:
        directory(s)
        (a,) = task(s, "任务", D("2026-03-10"), "无邮箱科")
    rep = check(db, D("2026-03-05"))
    assert rep.queued == [] and any("无邮箱科" in w and "邮箱" in w for w in rep.warnings)
    from check_helpers import OFFICE

    from workflow.directory.units import edit_unit

    with db.session() as s:
        edit_unit(s, OFFICE, "无邮箱科", at(D("2026-03-06")), add_emails=["wy@office.example.cn"])
    rep = check(db, D("2026-03-06"))
    assert [(q.kind, q.recipients) for q in rep.queued] == [("reminder", ["wy@office.example.cn"])]
    assert all_rows(db)[0].context["covers"] == [f"r:{a}:2026-03-10:3"]


def test_no_leader_or_principal_warns(db):
    from check_helpers import OFFICE

    from workflow.directory.units import add_unit

    with db.session() as s:
        add_unit(s, OFFICE, "孤立科", at(D("2026-01-05")), emails=["gl@office.example.cn"])
        task(s, "任务", D("2026-03-02"), "孤立科")
    rep = check(db, D("2026-03-16"))
    assert any("分管领导" in w for w in rep.warnings) or any("主要领导" in w for w in rep.warnings)
    assert {q.kind for q in rep.queued} <= {"overdue"}


def test_extension_moves_the_reminders_and_restarts_escalation(db):
    from check_helpers import OFFICE

    from workflow.tasks.lifecycle import fire

    with db.session() as s:
        directory(s)
        (a,) = task(s, "任务", D("2026-03-10"), "公开科")
    simulate(db, D("2026-03-01"), D("2026-03-12"))
    with db.session() as s:
        fire(
            s,
            a,
            "extend",
            OFFICE,
            now=at(D("2026-03-12"), 10),
            reason="需要协调",
            new_due=D("2026-03-20"),
        )
    got = simulate(db, D("2026-03-13"), D("2026-03-24"))
    flat = sorted(c for rows in got.values() for _, _, covers, _ in rows for c in covers)
    assert flat == sorted(
        [
            f"r:{a}:2026-03-20:3",
            f"r:{a}:2026-03-20:1",
            f"r:{a}:2026-03-20:0",
            f"o:{a}:2026-03-20:unit",
        ]
    )


def test_progress_requests_before_plan_report_dates(db):
    from workflow.storage.models import Plan

    with db.session() as s:
        directory(s)
        plan = Plan(
            year=2026, title="2026年政务公开工作要点", report_dates=["2026-07-31", "2026-11-30"]
        )
        s.add(plan)
        s.flush()
        from check_helpers import OFFICE, SETUP

        from workflow.tasks.assignments import add_task

        _, pair = add_task(
            s,
            OFFICE,
            "长期坚持：更新专栏",
            ["公开科", "法规科"],
            D("2026-12-31"),
            SETUP,
            plan_id=plan.id,
        )
        long_a, long_b = (a.id for a in pair)
        add_task(s, OFFICE, "7月底前完成", ["公开科"], D("2026-07-31"), SETUP, plan_id=plan.id)
    got = simulate(db, D("2026-07-20"), D("2026-08-05"))
    progress = {
        (who, covers, on)
        for rows in got.values()
        for kind, who, covers, on in rows
        if kind == "progress_request"
    }
    # 5 working days before Fri 07-31 is Fri 07-24; the one due on the report date is reminded instead
    assert progress == {
        ("公开科", (f"p:{long_a}:2026-07-31",), "2026-07-24"),
        ("法规科", (f"p:{long_b}:2026-07-31",), "2026-07-24"),
    }
    row = next(r for r in all_rows(db) if r.kind == "progress_request")
    assert row.context["report_due"] == "2026-07-31"
    assert "7月31日" in rendered(row).subject


def test_every_queued_row_renders_over_a_year(db):
    with db.session() as s:
        directory(s)
        ids = []
        for month in range(1, 13):
            ids += task(
                s,
                f"{month}月任务",
                date(2026, month, 15 if month != 2 else 13),
                "公开科",
                "法规科",
                "无邮箱科",
            )
    # 公开科 reports everything on its due day; 法规科 2 working days late; 无邮箱科 never
    with db.session() as s:
        plan = defaultdict(list)
        for a in s.exec(select(Assignment)).all():
            if a.unit_id == 1:
                plan[a.due].append(a.id)
            elif a.unit_id == 2:
                plan[CAL.add_working_days(a.due, 2)].append(a.id)
    for d in days(D("2026-01-01"), D("2026-12-31")):
        check(db, d)
        if plan.get(d):
            with db.session() as s:
                for assignment_id in plan[d]:
                    report(s, assignment_id, d)
    rows = all_rows(db)
    for row in rows:
        mail = rendered(row)
        assert mail.subject and mail.text and mail.html
    covers = Counter(c for r in rows for c in r.context.get("covers", ()))
    assert covers and max(covers.values()) == 1
    kinds = Counter(r.kind for r in rows)
    assert kinds["due_today"] == 24 and kinds["overdue"] == 12  # 法规科 once a month
    assert all(CAL.is_working_day(r.as_of) for r in rows)
    by_unit = defaultdict(int)
    for r in rows:
        if r.kind == "overdue":
            by_unit[r.recipient_name] += 1
    assert by_unit == {"法规科": 12}
    assert len(ids) == 36


def test_statements_do_not_grow_with_assignments(tmp_path):
    import sqlalchemy as sa

    from workflow.storage.db import Database

    counts = []
    for n in (5, 60):
        db = Database(f"sqlite:///{tmp_path / f'n{n}.db'}")
        db.upgrade()
        with db.session() as s:
            directory(s)
            for i in range(n):
                due = D("2026-03-03") if i % 2 else D("2026-03-10")
                task(s, f"任务{i}", due, "公开科", "法规科")
        statements: list[str] = []

        def count(*args, statements=statements, **kwargs) -> None:
            statements.append(args[2])

        sa.event.listen(db.engine, "before_cursor_execute", count)
        with db.session() as s:
            rep = run_check(
                s, D("2026-03-05"), calendar=CAL, policy=Policy(), now=at(D("2026-03-05"))
            )
        assert len(rep.expired) == n // 2 * 2 and len(rep.queued) == 4
        counts.append(len(statements))
        db.engine.dispose()
    assert counts[0] == counts[1] and counts[0] < 30, counts


def test_escalation_on_the_digest_day_rides_in_the_digest(db):
    with db.session() as s:
        directory(s)
        (a,) = task(s, "任务", D("2026-03-04"), "公开科")
    simulate(db, D("2026-03-01"), D("2026-03-09"))  # leader level on Monday 03-09, digest day
    rows = [r for r in all_rows(db) if r.as_of == D("2026-03-09")]
    assert [(r.kind, r.recipient_name, r.key, r.context["covers"]) for r in rows] == [
        ("digest", "张副主任", "digest:p1:2026-W11", [f"o:{a}:2026-03-04:leader"])
    ]
    assert check(db, D("2026-03-09")).queued == [] and check(db, D("2026-03-10")).queued == []


@pytest.mark.skipif(not os.environ.get("DUBAN_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_two_checks_at_once_are_serialised_on_postgres(db):
    """A hand-run ``duban check`` waits for the daemon's check to commit, then queues nothing."""
    import threading

    import sqlalchemy as sa
    from sqlmodel import Session as SQLModelSession

    from calendars import ChinaCalendar
    from workflow.chasing.check import _one_check_at_a_time

    with db.session() as s:
        directory(s)
        task(s, "任务", D("2026-03-10"), "公开科")
    first = SQLModelSession(db.engine)
    _one_check_at_a_time(first)  # the daemon's check is in its transaction
    first_report = run_check(
        first, D("2026-03-05"), calendar=ChinaCalendar(), policy=Policy(), now=at(D("2026-03-05"))
    )
    results = []
    second = threading.Thread(
        target=lambda: results.append(
            check_database(
                db,
                D("2026-03-05"),
                calendar=ChinaCalendar(),
                policy=Policy(),
                now=at(D("2026-03-05")),
            )
        )
    )
    second.start()
    waiting = False
    with db.engine.connect() as conn:
        for _ in range(200):  # bounded poll: the second check blocks on the advisory lock
            waiting = conn.execute(
                sa.text("select count(*) from pg_locks where locktype = 'advisory' and not granted")
            ).scalar()
            if waiting:
                break
            second.join(0.05)
    assert waiting and not results
    first.commit()
    first.close()
    second.join(30)
    assert len(first_report.queued) == 1 and results[0].queued == []


def test_an_office_may_send_on_days_off_too(db):
    """``[check] notify_on_days_off = true``: the overdue notice of work due on 09-30 goes out on
    the first day of the National Day holiday instead of waiting for 10-08."""
    with db.session() as s:
        directory(s)
        (a4,) = task(s, "公开统计数据", D("2026-09-30"), "法规科")
    policy = Policy(notify_on_days_off=True)
    got = simulate(db, D("2026-09-28"), D("2026-10-09"), policy=policy)
    flat = {(cov, on) for rows in got.values() for _, _, covers, on in rows for cov in covers}
    assert (f"o:{a4}:2026-09-30:unit", "2026-10-01") in flat
    assert (f"o:{a4}:2026-09-30:unit", "2026-10-08") not in flat  # told once


def test_notify_on_days_off_is_a_setting():
    from workflow.chasing.policy import parse_policy
    from workflow.errors import ConfigError

    assert parse_policy({}).notify_on_days_off is False
    assert parse_policy({"notify_on_days_off": True}).notify_on_days_off is True
    with pytest.raises(ConfigError, match="notify_on_days_off"):
        parse_policy({"notify_on_days_off": "yes"})

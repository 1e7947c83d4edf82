"""The daily check's set-based parts: due-date cutoffs, rows outside the calendar, bounded
leader mails (per unit and per mail), every audience at its own level, grades only inside the
warning window."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from check_helpers import CAL, all_rows, bulk_office, check, directory, rendered, task

from notifiers.robot_render import RobotRenderer
from notifiers.robots import RobotMessage, RobotTarget, build_request
from workflow.chasing.check import render_context
from workflow.chasing.cutoffs import overdue_cutoff, reminder_bands
from workflow.chasing.policy import Policy
from workflow.storage.models import Assignment, ChaseCover

D = date.fromisoformat


def working_days(start: date, end: date):
    d = start
    while d <= end:
        if CAL.is_working_day(d):
            yield d
        d += timedelta(1)


@pytest.mark.parametrize("threshold", [1, 2, 3, 10, 25])
def test_overdue_cutoff_is_the_threshold_in_due_dates(threshold):
    """late >= threshold exactly when due <= cutoff, for every due date around the 2026
    Spring Festival and National Day (days off, 调休 Saturdays)."""
    for as_of in [*working_days(D("2026-02-10"), D("2026-03-06")), D("2026-10-09")]:
        cutoff = overdue_cutoff(CAL, as_of, threshold)
        for back in range(1, 60):
            due = as_of - timedelta(back)
            late = CAL.working_days_between(due, as_of)
            assert (late >= threshold) == (due <= cutoff), (as_of, due, late)


@pytest.mark.parametrize("offsets", [(3, 1, 0), (5, 1), (0,), (10, 3)])
def test_reminder_bands_name_the_latest_offset_reached(offsets):
    for as_of in working_days(D("2026-02-10"), D("2026-03-06")):
        bands = reminder_bands(CAL, as_of, offsets)
        for ahead in range(0, 40):
            due = as_of + timedelta(ahead)
            remaining = CAL.working_days_between(as_of, due)
            reached = [o for o in offsets if o >= remaining]
            band = [o for o, start, before in bands if start <= due < before]
            assert band == ([min(reached)] if reached else []), (as_of, due)


@pytest.mark.parametrize("bad_due", ["0001-01-01", "2000-12-31", "2101-01-01"])
def test_a_due_date_outside_the_calendar_is_skipped_and_the_others_still_go_out(db, bad_due):
    with db.session() as s:
        directory(s)
        (bad,) = task(s, "旧库里的坏数据", D("2026-03-10"), "公开科")
        (good,) = task(s, "正常任务", D("2026-03-10"), "法规科")
        (late,) = task(s, "逾期任务", D("2026-02-25"), "法规科")
        s.execute(sa.update(Assignment).where(Assignment.id == bad).values(due=D(bad_due)))
    rep = check(db, D("2026-03-05"))
    assert any(f"#{bad}" in w and bad_due in w and "跳过" in w for w in rep.warnings)
    covered = {c for r in all_rows(db) for c in r.context["covers"]}
    assert f"r:{good}:2026-03-10:3" in covered and f"o:{late}:2026-02-25:unit" in covered
    assert not any(f":{bad}:" in c for c in covered)
    assert bad not in rep.expired and late in rep.expired


def told_at(db, level: str) -> set[int]:
    """Assignments whose overdue item has been told at ``level`` (the ``o`` covers' bits)."""
    c = ChaseCover.__table__
    bit = {"unit": 1, "leader": 2, "principal": 4}[level]
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(c.c.assignment_id, c.c.levels).where(c.c.what == "o"))
        return {aid for aid, levels in rows if levels & bit}


def esc_total(row) -> int:
    return sum(u["total"] for u in row.context["units"])


def test_leader_mails_are_bounded_per_unit_and_cover_everything(db):
    with db.session() as s:
        directory(s)
        ids = [
            task(s, f"任务{i}", D("2026-02-24") + timedelta(i % 2), "公开科")[0] for i in range(7)
        ]
        (other,) = task(s, "另一单位的任务", D("2026-02-25"), "法规科")
    policy = Policy(items_per_unit=3)
    check(db, D("2026-03-03"), policy)  # leader level (3 working days) reached, not principal
    rows = {r.kind: r for r in all_rows(db) if r.kind in ("escalation", "overdue")}
    esc = rows["escalation"]
    assert esc.recipient_name == "张副主任" and esc.level == 1
    units = {u["unit"]: u for u in esc.context["units"]}
    assert (units["公开科"]["total"], units["公开科"]["omitted"]) == (7, 4)
    assert len(units["公开科"]["items"]) == 3 and units["法规科"]["omitted"] == 0
    assert units["公开科"]["more_at"] == "duban task list --unit 公开科 --overdue"
    # the mail carries the cover keys of what it lists; every item told is a chasecover row
    assert len(esc.context["covers"]) == 4 and esc.context["report_by"] == "2026-03-06"
    assert told_at(db, "leader") == {*ids, other} and esc_total(esc) == 8
    mail = rendered(esc)
    assert "另有4项未列出" in mail.text and "请督促上述单位于2026年3月6日前报送" in mail.text
    # the units' own notices are bounded the same way
    notices = [r for r in all_rows(db) if r.kind == "overdue" and r.recipient_name == "公开科"]
    assert [(len(r.context["items"]), r.context["omitted"]) for r in notices] == [(3, 4)]
    # the next Monday's digest: bounded, counts per unit, nothing covered twice
    check(db, D("2026-03-09"), policy)
    digest = next(r for r in all_rows(db) if r.kind == "digest" and r.level == 1)
    assert [(u["unit"], u["total"], len(u["items"])) for u in digest.context["units"]] == [
        ("公开科", 7, 3),
        ("法规科", 1, 1),
    ]
    covers = Counter(c for r in all_rows(db) for c in r.context["covers"])
    assert max(covers.values()) == 1 and len(ids) == 7 and other


def overdue_office(db, units: int, per_unit: int, spread: int = 30) -> tuple[list[str], dict]:
    """``units`` units with ``per_unit`` items each, all at the principal's level by the
    digest day (Monday 2026-06-08) of the check (Friday 2026-06-12); unit ``i``'s items go
    back ``(7 i) mod spread`` calendar days further. Returns the names and each unit's longest
    delay in working days as of the check."""
    cutoff = overdue_cutoff(CAL, D("2026-06-08"), 10)
    dues = [
        [cutoff - timedelta(days=(i * 7) % spread + j) for j in range(per_unit)]
        for i in range(units)
    ]
    names = bulk_office(db, dues)
    late = {
        n: CAL.working_days_between(min(d), D("2026-06-12"))
        for n, d in zip(names, dues, strict=True)
    }
    return names, late


def leader_rows(db) -> dict[tuple[str, str], object]:
    return {
        (r.kind, r.recipient_name): r
        for r in all_rows(db)
        if r.kind in ("escalation", "digest") and r.channel == "email"
    }


def test_a_leader_mail_over_its_bounds_lists_the_most_overdue_units_first(db):
    names, late = overdue_office(db, units=60, per_unit=10)
    policy = Policy(items_per_unit=4, items_per_mail=25, units_per_mail=40)
    rep = check(db, D("2026-06-12"), policy)
    rows = leader_rows(db)
    assert set(rows) == {
        (k, who) for k in ("escalation", "digest") for who in ("分管领导", "主要领导")
    }
    order = sorted(names, key=lambda n: -late[n])  # most overdue first, then the usual order
    for (kind, who), row in rows.items():
        ctx = row.context
        listed, compact = ctx["units"], ctx["compact_units"]
        # items unit by unit up to the mail's bound: six units of 4, then 1 of the seventh
        assert [len(u["items"]) for u in listed] == [4] * 6 + [1], (kind, who)
        assert [u["omitted"] for u in listed] == [6] * 6 + [9]
        # then one row per unit, its count only, up to 40 units; the rest on one line
        assert [u["unit"] for u in listed + compact] == order[:40]
        assert compact[0] == {
            "unit": order[7],
            "total": 10,
            "most_late": late[order[7]],
            "more_at": f"duban task list --unit {order[7]} --overdue",
        }
        assert ctx["unlisted"] == {
            "units": 20,
            "total": 200,
            "more_at": "duban task list --overdue",
        }
        # the counts stay exact: every unit, every item
        assert ctx["total"] == 600 == sum(u["total"] for u in listed + compact) + 200
        if kind == "escalation":
            assert len(ctx["covers"]) == 25 and len(ctx["items"]) == 25
        mail = rendered(row)
        flat = mail.text.replace(" ", "")
        assert "60个单位" in mail.subject and "600项" in mail.subject
        assert "60个单位" in flat and "600项" in flat
        assert ("您分管的" in mail.subject + mail.text) == (who == "分管领导")
        assert flat.count("（编号") == 25  # the table's item rows
        assert "另有20个单位共200项未列出，全部请见：duban task list --overdue" in mail.text
        assert (
            f"■ {order[7]}：10项，最长逾期{late[order[7]]}个工作日（未逐项列出，请见：" in mail.text
        )
        assert "另有 <b>20</b> 个单位共 <b>200</b> 项未列出" in mail.html
        assert mail.html.count("未逐项列出") == 33 and mail.html.count('font-size:12px;">#') == 25
    # every item was told at every level all the same (the units' own notices: 4 of 10 each)
    assert len(told_at(db, "principal")) == len(told_at(db, "leader")) == 600
    notices = [r for r in all_rows(db) if r.kind == "overdue"]
    assert len(notices) == 60 and {len(r.context["items"]) for r in notices} == {4}
    assert sum(q.count for q in rep.queued if q.kind == "escalation") == 1200


def test_a_leader_mail_within_its_bounds_is_as_before(db):
    """Under both bounds nothing changes: units in their usual order, no compact rows."""
    names, _ = overdue_office(db, units=5, per_unit=3)
    check(db, D("2026-06-12"), Policy(items_per_mail=15, units_per_mail=5))
    for row in leader_rows(db).values():
        assert [u["unit"] for u in row.context["units"]] == names
        assert "compact_units" not in row.context and "unlisted" not in row.context
        assert "单位较多" not in rendered(row).text


def test_an_office_override_from_before_the_bounds_still_renders_a_bounded_mail(db, tmp_path):
    """An office's own ``_items.txt`` whose ``unit_table`` knows nothing of compact units: the
    shipped digest.txt still calls it as before (one argument) and the counts stay exact."""
    from notifiers.render import Renderer

    (tmp_path / "_items.txt").write_text(
        "{% macro unit_table(units) %}{% for u in units %}■ {{ u.unit }}：{{ u.total }}项\n"
        "{% endfor %}{% endmacro %}\n{% macro footer() %}--{% endmacro %}\n",
        encoding="utf-8",
    )
    overdue_office(db, units=60, per_unit=10)
    check(db, D("2026-06-12"), Policy(items_per_unit=4, items_per_mail=25, units_per_mail=40))
    row = leader_rows(db)[("digest", "主要领导")]
    mail = Renderer(tmp_path).render("digest", render_context(row.context))
    assert "60个单位共有600项" in mail.text and mail.text.count("■") == 7


def test_robot_renderings_of_a_bounded_leader_mail_fit_the_platforms(db):
    overdue_office(db, units=60, per_unit=10)
    check(db, D("2026-06-12"), Policy(items_per_unit=4, items_per_mail=25, units_per_mail=40))
    robot = RobotRenderer()
    for (kind, who), row in leader_rows(db).items():
        r = robot.render(kind, render_context(row.context))
        assert "60个单位" in r.title or "60个单位" in r.text, (kind, who)
        assert r.total == 600 and "……另有590项" in r.text
        if kind == "digest":
            assert "……另有50个单位" in r.text
        for platform in ("wecom", "dingtalk", "feishu"):
            target = RobotTarget(platform, "t0ken")
            request = build_request(RobotMessage(row.key, target, r.title, r.text, r.total))
            if platform == "wecom":
                content = json.loads(request.body)["markdown"]["content"]
                assert len(content.encode()) <= 4096
            assert len(request.body) <= 20000


def test_the_principal_mails_stay_small_at_1000_units(db):
    """1,000 units with 12 items each at the principal's level: each leader mail lists 200 items
    (default bounds), 100 units, and its HTML stays a few hundred kilobytes, not megabytes."""
    overdue_office(db, units=1000, per_unit=12)
    check(db, D("2026-06-12"))
    rows = leader_rows(db)
    assert len(rows) == 4
    for (kind, who), row in rows.items():
        ctx = row.context
        assert sum(len(u["items"]) for u in ctx["units"]) == 200
        assert len(ctx["units"]) + len(ctx["compact_units"]) == 100
        assert ctx["unlisted"]["units"] == 900 and ctx["total"] == 12000
        mail = rendered(row)
        assert "1000个单位" in mail.subject and "12000项" in mail.subject
        assert "另有900个单位共" in mail.text.replace(" ", "")
        assert len(mail.html.encode()) < 400_000, (kind, who, len(mail.html.encode()))
        assert len(mail.text.encode()) < 100_000, (kind, who, len(mail.text.encode()))


def test_catch_up_gives_each_audience_its_own_mail_once(db):
    with db.session() as s:
        directory(s)
        (a,) = task(s, "任务", D("2026-02-12"), "公开科")
    check(db, D("2026-03-06"))  # 14 working days late, nobody checked before
    by_kind = sorted((r.kind, r.recipient_name, r.level) for r in all_rows(db))
    assert by_kind == [
        ("digest", "张副主任", 1),
        ("escalation", "张副主任", 1),
        ("escalation", "李主任", 2),
        ("overdue", "公开科", 0),
    ]
    for row in all_rows(db):
        text = rendered(row).text
        if row.kind == "escalation":
            assert ("您分管的" in text) == (row.level == 1) and "请督促公开科" in text
    assert check(db, D("2026-03-06")).queued == [] and check(db, D("2026-03-09")).queued != []


def test_progress_requests_far_from_due_carry_no_grade(db):
    from check_helpers import OFFICE, SETUP

    from workflow.storage.models import Plan
    from workflow.tasks.assignments import add_task

    with db.session() as s:
        directory(s)
        plan = Plan(year=2026, title="要点", report_dates=["2026-07-31"])
        s.add(plan)
        s.flush()
        add_task(s, OFFICE, "长期坚持", ["公开科"], D("2026-12-31"), SETUP, plan_id=plan.id)
    check(db, D("2026-07-24"))
    (row,) = [r for r in all_rows(db) if r.kind == "progress_request"]
    assert row.context["items"][0]["working_days"] > 80
    mail = rendered(row)
    assert not any(g in mail.text + mail.html for g in ("蓝色预警】", "蓝色预警</span>"))
    assert render_context(row.context)["warning_days"] == 3

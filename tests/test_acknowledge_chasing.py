"""A task nobody signed for (签收) goes early to the unit's leader, once, through the outbox.

Assigned Monday 2026-03-02 with ``ack_within_days = 2``: Tuesday 03-03 and Wednesday 03-04 are
the time to sign; Thursday 03-05's check tells the leader. Due 2026-11-30, so nothing else is
due: the only mails are the ``unsigned`` ones.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from conftest import unit_caller
from sqlmodel import select

from calendars import ChinaCalendar
from notifiers.render import Renderer
from workflow.chasing.check import check_database, render_context
from workflow.chasing.policy import Policy, parse_policy
from workflow.dates.clock import SHANGHAI
from workflow.directory.units import add_leader, add_unit
from workflow.errors import ConfigError
from workflow.storage.models import Notification
from workflow.tasks.acknowledge import acknowledge
from workflow.tasks.assignments import add_task
from workflow.tasks.lifecycle import fire

CAL = ChinaCalendar()
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(db, office):
    with db.session() as s:
        add_leader(s, office, "王副主任", MONDAY, email="wang@example.gov.cn")
        units = {
            name: add_unit(s, office, name, MONDAY, emails=[f"{i}@example.gov.cn"], leader=lead)
            for i, (name, lead) in enumerate(
                [("法规处", "王副主任"), ("财务处", "王副主任"), ("宣传处", None)]
            )
        }
        _, rows = add_task(
            s, office, "修订公开指南", ["法规处", "财务处", "宣传处"], date(2026, 11, 30), MONDAY
        )
        return {a.unit_id: a.id for a in rows}, {n: unit_caller(u) for n, u in units.items()}


def unsigned(db) -> list[Notification]:
    with db.session() as s:
        return list(s.exec(select(Notification).where(Notification.kind == "unsigned")).all())


ON = Policy(ack_within_days=2)


def run(db, day: date, policy: Policy = ON):
    return check_database(db, day, calendar=CAL, policy=policy, now=at(day))


def test_told_on_the_working_day_after_the_limit_once(db, world):
    ids, callers = world
    for day in (date(2026, 3, 3), date(2026, 3, 4)):
        run(db, day)
        assert unsigned(db) == []
    report = run(db, date(2026, 3, 5))
    mails = [n for n in unsigned(db) if n.channel == "email"]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.recipients == ["wang@example.gov.cn"] and mail.recipient_name == "王副主任"
    listed = sorted(it["assignment_id"] for it in mail.context["items"])
    fagui, caiwu = (ids[callers[n].unit_id] for n in ("法规处", "财务处"))
    assert listed == sorted([fagui, caiwu])
    assert any("宣传处" in w and "未签收" in w for w in report.warnings)  # no leader: said
    run(db, date(2026, 3, 6))
    assert len([n for n in unsigned(db) if n.channel == "email"]) == 1  # never twice
    rendered = Renderer().render("unsigned", render_context(mail.context))
    assert "尚未签收" in rendered.subject and "2个工作日" in rendered.text
    assert "修订公开指南" in rendered.text and "王副主任" in rendered.text


def test_a_signed_or_started_task_is_not_chased(db, world):
    ids, callers = world
    with db.session() as s:
        acknowledge(s, callers["法规处"], ids[callers["法规处"].unit_id], at(date(2026, 3, 3)))
        fire(s, ids[callers["财务处"].unit_id], "start", callers["财务处"], now=MONDAY)
    run(db, date(2026, 3, 5))
    assert unsigned(db) == []


@pytest.mark.parametrize(("days", "first"), [(1, date(2026, 3, 4)), (3, date(2026, 3, 6))])
def test_the_limit_is_the_offices(db, world, days, first):
    policy = Policy(ack_within_days=days)
    before = CAL.add_working_days(first, -1)
    run(db, before, policy)
    assert unsigned(db) == []
    run(db, first, policy)
    assert unsigned(db) != []


def test_zero_disables(db, world):
    run(db, date(2026, 3, 20), Policy(ack_within_days=0))
    run(db, date(2026, 3, 20), Policy())
    assert unsigned(db) == []


def test_only_newly_assigned_tasks_are_chased(db, world):
    """Turned on late (or a database upgraded with old unsigned tasks): a task whose limit ran
    out more than 10 working days ago is the overdue path's, not sent to the leader at once.
    Limit out after Wednesday 03-04; ten working days later is Wednesday 03-18."""
    run(db, date(2026, 3, 19))
    assert unsigned(db) == []
    run(db, date(2026, 3, 18))
    assert unsigned(db) != []


@pytest.mark.parametrize(("value", "fragment"), [(-1, "ack_within_days"), ("2", "ack_within_days")])
def test_bad_setting_is_one_chinese_line(value, fragment):
    with pytest.raises(ConfigError) as info:
        parse_policy({"ack_within_days": value})
    assert fragment in info.value.message
    assert parse_policy({"ack_within_days": 0}).ack_within_days == 0
    assert Policy().ack_within_days == 0  # off unless the office sets it


# ------------------------------------------------------------------ end to end, real SMTP


def test_cli_check_and_send_to_a_real_smtp_server(duban):
    """``duban check`` queues the leader's mail; the mail links to the board; a task signed
    between the check and the delivery is left out of it (and a mail with nothing left is
    dropped rather than sent)."""
    from pathlib import Path

    from conftest import Cli
    from smtp_server import SmtpServer

    with SmtpServer() as server:
        config = Path(duban.env["DUBAN_CONFIG_DIR"])
        config.mkdir(parents=True, exist_ok=True)
        (config / "duban.toml").write_text(
            '[office]\nname = "银川市卫健委办公室"\n'
            f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
            'from = "duban@office.example.cn"\ntimeout = 10\n'
            '[server]\nurl = "https://duban.example.gov.cn"\n[check]\nack_within_days = 2\n',
            encoding="utf-8",
        )
        duban.ok("leader", "add", "王副主任", "--email", "wang@example.gov.cn")
        duban.ok("unit", "add", "法规处", "--email", "fg@example.gov.cn", "--leader", "王副主任")
        duban.ok("unit", "add", "财务处", "--email", "cw@example.gov.cn", "--leader", "王副主任")
        rows = duban.json("task", "add", "年报", "--unit", "法规处", "--due", "2026-11-30")
        other = duban.json("task", "add", "预算公开", "--unit", "财务处", "--due", "2026-11-30")
        thursday = Cli({**duban.env, "DUBAN_NOW": "2026-03-05T09:00"})
        checked = thursday.json("check")
        assert checked["counts"]["unsigned"] == 1
        token = duban.json("token", "issue", "财务处")["token"]
        thursday.ok("task", "ack", str(other[0]["id"]), token=token)  # signed before delivery
        thursday.ok("notify", "send")
        mails = [m for m in server.received if m.rcpt_tos == ("wang@example.gov.cn",)]
        assert len(mails) == 1
        mail = mails[0]
        assert "【签收督办】" in mail.subject and "年报" in mail.text
        assert "预算公开" not in mail.text  # signed since the check: left out
        assert "https://duban.example.gov.cn/board" in mail.text
        assert f"#{rows[0]['id']}" in mail.text or str(rows[0]["id"]) in mail.text

"""Shared helpers for the daily-check tests: an office directory, a simulated clock, snapshots."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import select

from calendars import ChinaCalendar
from workflow.chasing.check import CheckReport, render_context, run_check
from workflow.chasing.policy import Policy
from workflow.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.directory.units import add_leader, add_unit
from workflow.models import Notification, Unit
from workflow.tasks.assignments import add_task
from workflow.tasks.lifecycle import fire

CAL = ChinaCalendar()
OFFICE = Caller(role="office", name="办公室")
SETUP = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)


def at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI)


def days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(1)


def directory(session) -> None:
    """Leader 张 (in charge of 公开科 and 法规科), principal 李, and 无邮箱科 without e-mail."""
    add_leader(session, OFFICE, "张副主任", SETUP, email="zhang@office.example.cn")
    add_leader(session, OFFICE, "李主任", SETUP, email="li@office.example.cn", principal=True)
    add_unit(session, OFFICE, "公开科", SETUP, emails=["gk@office.example.cn"], leader="张副主任")
    add_unit(session, OFFICE, "法规科", SETUP, emails=["fg@office.example.cn"], leader="张副主任")
    add_unit(session, OFFICE, "无邮箱科", SETUP)


def task(session, title: str, due: date, *units: str) -> list[int]:
    _, assignments = add_task(session, OFFICE, title, list(units), due, SETUP)
    return [a.id for a in assignments]


def report(session, assignment_id: int, when: date) -> None:
    a_unit = session.get(Unit, _unit_id(session, assignment_id))
    caller = Caller(role="unit", name=a_unit.name, unit_id=a_unit.id)
    fire(session, assignment_id, "report", caller, now=at(when, 15), text="已完成，见政府网站专栏")


def _unit_id(session, assignment_id: int) -> int:
    from workflow.models import Assignment

    return session.get(Assignment, assignment_id).unit_id


def check(db, d: date, policy: Policy | None = None) -> CheckReport:
    with db.session() as session:
        return run_check(session, d, calendar=CAL, policy=policy or Policy(), now=at(d))


def snapshot(db) -> set[tuple[str, str, tuple[str, ...], str]]:
    """Every outbox row as (kind, recipient, covers, as_of)."""
    with db.session() as session:
        rows = session.exec(select(Notification)).all()
        return {
            (n.kind, n.recipient_name, tuple(n.context.get("covers", ())), n.as_of.isoformat())
            for n in rows
        }


def all_rows(db) -> list[Notification]:
    with db.session() as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())


_RENDERER = []


def rendered(row: Notification):
    """The mail of an outbox row, rendered with the shipped templates."""
    from notifiers.render import Renderer

    if not _RENDERER:
        _RENDERER.append(Renderer())
    return _RENDERER[0].render(row.kind, render_context(row.context))

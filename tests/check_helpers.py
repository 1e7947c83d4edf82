"""Shared helpers for the daily-check tests: an office directory, a simulated clock, snapshots."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import select

from calendars import ChinaCalendar
from workflow.chasing.check import CheckReport, render_context, run_check
from workflow.chasing.policy import Policy
from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.directory.units import add_leader, add_unit
from workflow.storage.models import Notification, Unit
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
    from workflow.storage.models import Assignment

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


def bulk_office(db, dues: list[list[date]]) -> list[str]:
    """A large office written with Core bulk inserts (as bench/bench_check.py does): a leader
    in charge of every unit (分管领导), a principal (主要领导), and unit ``i`` (``单位0001`` …, with
    an address) holding one open assignment per due date of ``dues[i]``. Returns the unit names."""
    import sqlalchemy as sa

    from workflow.storage.models import Assignment, Person, Task

    names = [f"单位{i:04d}" for i in range(len(dues))]
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Person.__table__),
            [
                {"name": "分管领导", "email": "leader@office.example.cn", "principal": False},
                {"name": "主要领导", "email": "head@office.example.cn", "principal": True},
            ],
        )
        leader = conn.execute(sa.select(Person.id).where(Person.name == "分管领导")).scalar()
        conn.execute(
            sa.insert(Unit.__table__),
            [
                {
                    "name": name,
                    "aliases": [],
                    "groups": [],
                    "emails": [f"u{i}@units.example.cn"],
                    "leader_id": leader,
                    "active": True,
                }
                for i, name in enumerate(names)
            ],
        )
        unit_ids = list(conn.execute(sa.select(Unit.id).order_by(Unit.id)).scalars())
        most = max((len(d) for d in dues), default=0)
        conn.execute(
            sa.insert(Task.__table__),
            [
                {
                    "kind": "manual",
                    "title": f"按要求公开第{t + 1}类政府信息",
                    "section_path": ["一、重点领域信息公开"],
                    "lead_units": [],
                    "responsible_units": [],
                    "cooperating_units": [],
                    "created_at": SETUP,
                }
                for t in range(most)
            ],
        )
        task_ids = list(conn.execute(sa.select(Task.id).order_by(Task.id)).scalars())
        conn.execute(
            sa.insert(Assignment.__table__),
            [
                {
                    "task_id": task_ids[t],
                    "unit_id": unit_id,
                    "role": "responsible",
                    "period": "",
                    "state": "assigned",
                    "due": due,
                    "original_due": due,
                    "due_provisional": False,
                    "late": False,
                    "returned_count": 0,
                    "version": 1,
                    "created_at": SETUP,
                }
                for unit_id, unit_dues in zip(unit_ids, dues, strict=True)
                for t, due in enumerate(unit_dues)
            ],
        )
    return names

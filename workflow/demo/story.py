"""``duban demo``: a year of an office in a throwaway database, day by day.

It never touches the user's database or config: a fresh SQLite file in a temporary directory
(or in ``keep``), the official calendar without the office's overrides but with the days off of
its region (银川 is in 宁夏: 开斋节, 古尔邦节, see :mod:`calendars.regions`), the default policy.
It imports the sample ledger shipped with duban (:mod:`workflow.samples`, the 2023 Yinchuan
台账 with its deadlines spread over the year — 3月底前, 每季度, 上半年, 第三季度 … — dated into the
chosen year with report dates 31 July and 30 November), gives the units
leaders and addresses, and plays the year with a simulated clock: each morning the daemon's
check (:func:`workflow.chasing.check.run_check`), each afternoon what the units do. Units behave by a
fixed script: most report two working days early, some a few working days late, one very late,
one asks for an extension (approved by the office), and one never reports. At the end: the
year-end evaluation from :mod:`workflow.evaluation.scores`.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from workflow.chasing.check import KIND_LABELS, render_context, run_check
from workflow.chasing.policy import Policy
from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.errors import Conflict, InvalidInput
from workflow.storage.db import Database
from workflow.storage.models import Assignment, Plan, Unit

OFFICE = Caller(role="office", name="办公室（演示）")
BEHAVIOURS = {
    "on_time": "按时报送",
    "late": "逾期数日报送",
    "very_late": "逾期很久才报送",
    "extension": "申请延期后按时报送",
    "never": "从不报送",
}
_SCRIPT = ("on_time", "late", "on_time", "very_late", "on_time", "extension", "on_time", "late")
NEVER_UNIT = "银川市中医医院"
REGION = "宁夏"  # the demo office (银川) counts working days with its region's days off
LEADERS = (  # name, email, group it oversees (None = principal)
    ("王副主任", "wang@demo.duban.example", "委机关各科室"),
    ("赵副主任", "zhao@demo.duban.example", "委属各单位"),
    ("张主任", "zhang@demo.duban.example", None),
)


@dataclass(frozen=True)
class Mail:
    kind: str
    recipient: str
    items: int
    subject: str


@dataclass
class DemoDay:
    day: date
    working: bool
    expired: int = 0
    mails: list[Mail] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


@dataclass
class DemoResult:
    directory: Path
    database_url: str
    year: int
    days: list[DemoDay]
    behaviours: dict[str, str]
    year_end: list[dict[str, Any]]
    kept: bool
    token: str | None = None  # an office token for a kept database

    def totals(self) -> Counter:
        return Counter(m.kind for d in self.days for m in d.mails)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "database": self.database_url if self.kept else None,
            "token": self.token,
            "mails": dict(self.totals()),
            "days_with_mail": sum(1 for d in self.days if d.mails),
            "behaviours": self.behaviours,
            "year_end": self.year_end,
        }


def at(d: date, hour: int) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI)


def _fast_sqlite(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA synchronous=OFF")  # a throwaway database: no fsync per simulated day
    cur.close()


def run_demo(
    year: int = 2026,
    *,
    keep: Path | None = None,
    on_day: Callable[[DemoDay], None] | None = None,
) -> DemoResult:
    """Play ``year``; ``on_day`` is called for every day (the CLI prints the days with mail)."""
    from calendars import ChinaCalendar

    if not 2005 <= year <= 2099:
        raise InvalidInput(f"演示年份 {year} 超出范围（2005—2099）")
    directory = _directory(keep)
    url = f"sqlite:///{directory / 'demo.db'}"
    db = Database(url)
    sa.event.listen(db.engine, "connect", _fast_sqlite)
    db.upgrade()
    calendar = ChinaCalendar(region=REGION)
    policy = Policy(office_name="银川市卫生健康委员会办公室")
    start = date(year, 1, 1)
    with db.session() as session:
        plan_id = _setup(session, calendar, year, at(start, 8))
        behaviours = _behaviours(session)
        script = _script(session, calendar, behaviours)
    from notifiers.render import Renderer

    renderer = Renderer()
    days: list[DemoDay] = []
    d = start
    while d <= date(year, 12, 31):
        day = _play(db, d, calendar, policy, renderer, script.get(d, []))
        days.append(day)
        if on_day is not None:
            on_day(day)
        d += timedelta(1)
    token = None
    with db.session() as session:
        year_end = _year_end(session, plan_id, date(year, 12, 31), calendar, behaviours)
        if keep is not None:  # so the kept database can be explored with every command
            from workflow.directory.tokens import create_office_token

            token = create_office_token(session, at(date(year, 12, 31), 18))
    db.engine.dispose()
    return DemoResult(directory, url, year, days, behaviours, year_end, keep is not None, token)


def _directory(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="duban-demo-"))
    keep = Path(keep).expanduser()
    keep.mkdir(parents=True, exist_ok=True)
    if (keep / "demo.db").exists():
        raise Conflict(f"目录 {keep} 中已有 demo.db，请换一个目录或先删除它")
    return keep


def _setup(session, calendar, year: int, now: datetime) -> int:
    from workflow.directory.units import add_leader, add_unit
    from workflow.ledger.importing import import_ledger
    from workflow.samples import YINCHUAN_DEMO_LEDGER, YINCHUAN_DIRECTORY

    for name, email, group in LEADERS:
        add_leader(session, OFFICE, name, now, email=email, principal=group is None)
    for i, (name, aliases, groups) in enumerate(YINCHUAN_DIRECTORY, 1):
        leader = next((n for n, _, g in LEADERS if g in groups), None)
        add_unit(
            session,
            OFFICE,
            name,
            now,
            aliases=aliases,
            groups=groups,
            emails=[f"unit{i:02d}@demo.duban.example"],
            leader=leader,
        )
    result = import_ledger(
        session,
        OFFICE,
        YINCHUAN_DEMO_LEDGER,
        calendar=calendar,
        now=now,
        plan_year=year,
        report_dates=[date(year, 7, 31), date(year, 11, 30)],
    )
    plan = session.get(Plan, result.plan["id"])
    if plan is not None and plan.title:  # the sample says 2023; the demo plays ``year``
        plan.title = plan.title.replace("2023年", f"{year}年")
        session.add(plan)
        session.flush()
    return result.plan["id"]


def _behaviours(session) -> dict[str, str]:
    units = session.exec(select(Unit).order_by(Unit.id)).all()
    out: dict[str, str] = {}
    others = [u for u in units if u.name != NEVER_UNIT]
    for i, unit in enumerate(others):
        out[unit.name] = _SCRIPT[i % len(_SCRIPT)]
    if len(others) < len(units):
        out[NEVER_UNIT] = "never"
    elif others:
        out[others[-1].name] = "never"
    return out


def _script(session, calendar, behaviours: dict[str, str]) -> dict[date, list[tuple]]:
    """Day → actions: ("report"|"verify"|"request"|"approve", assignment id, extra)."""
    rows = session.exec(
        select(Assignment, Unit).join(Unit, Unit.id == Assignment.unit_id).order_by(Assignment.id)
    ).all()
    script: dict[date, list[tuple]] = {}

    def add(d: date, *action) -> None:
        script.setdefault(d, []).append(action)

    for a, unit in rows:
        how = behaviours.get(unit.name, "on_time")
        due = a.due
        if how == "never":
            continue
        if how == "extension":
            asked = calendar.add_working_days(due, -5)
            new_due = calendar.add_working_days(due, 10)
            add(asked, "request", a.id, new_due)
            add(calendar.add_working_days(asked, 1), "approve", a.id, new_due)
            due = new_due
        shift = {"on_time": -2, "extension": -1, "late": 3, "very_late": 12}[how]
        reported = calendar.add_working_days(due, shift)
        add(reported, "report", a.id, None)
        add(calendar.add_working_days(reported, 1), "verify", a.id, None)
    return script


def _play(db, d: date, calendar, policy: Policy, renderer, actions: list[tuple]) -> DemoDay:
    """09:00 the daemon's check; 15:00 what the units and the office do."""
    with db.session() as session:
        report = run_check(session, d, calendar=calendar, policy=policy, now=at(d, 9))
        day = DemoDay(d, report.working_day, expired=len(report.expired))
        if report.queued:
            from workflow.storage.models import Notification

            keys = [q.key for q in report.queued]
            for row in session.exec(select(Notification).where(Notification.key.in_(keys))):
                mail = renderer.render(row.kind, render_context(row.context))
                items = len(row.context.get("items", [])) or sum(
                    len(u["items"]) for u in row.context.get("units", [])
                )
                day.mails.append(Mail(row.kind, row.recipient_name, items, mail.subject))
    for action in actions:
        with db.session() as session:
            day.actions.append(_act(session, d, *action))
    return day


def _act(session, d: date, what: str, assignment_id: int, extra: Any) -> str:
    from workflow.tasks.extensions import approve_extension, list_extensions, request_extension
    from workflow.tasks.lifecycle import fire

    a = session.get(Assignment, assignment_id)
    unit = session.get(Unit, a.unit_id)
    caller = Caller(role="unit", name=unit.name, unit_id=unit.id)
    now = at(d, 15)
    if what == "report":
        fire(session, a.id, "report", caller, now=now, text="已按要求完成，见门户网站专栏")
        return f"{unit.name} 报送 #{a.id}{'（逾期）' if a.late else ''}"
    if what == "verify":
        fire(session, a.id, "verify", OFFICE, now=now)
        return f"办公室核验 #{a.id}"
    if what == "request":
        request_extension(session, caller, a.id, extra, "需与相关单位会签", now)
        return f"{unit.name} 申请 #{a.id} 延期至 {extra}"
    pending = [r for r in list_extensions(session, OFFICE, "pending") if r["assignment_id"] == a.id]
    approve_extension(session, OFFICE, pending[0]["id"], now)
    return f"办公室批准 #{a.id} 延期至 {extra}"


def _year_end(session, plan_id: int, as_of: date, calendar, behaviours) -> list[dict[str, Any]]:
    """Per-unit totals from the year-end evaluation (workflow.evaluation.scores)."""
    from workflow.evaluation.scores import parse_rules, score_plan

    evaluation = score_plan(session, plan_id, as_of, calendar=calendar, rules=parse_rules({}))
    return [
        {**u.to_dict(), "behaviour": BEHAVIOURS[behaviours.get(u.unit, "on_time")]}
        for u in evaluation.units
    ]


def write_sample(path: Path) -> Path:
    """Copy the sample ledger (the one the demo plays) to ``path`` for the README's walk-through."""
    from workflow.samples import YINCHUAN_DEMO_LEDGER
    from workflow.writing.files import atomic_write

    data = YINCHUAN_DEMO_LEDGER.read_bytes()
    atomic_write(Path(path), lambda tmp: tmp.write_bytes(data))
    return Path(path)


def mail_line(mail: Mail) -> str:
    return f"{KIND_LABELS[mail.kind]}→{mail.recipient}（{mail.items}项）：{mail.subject}"

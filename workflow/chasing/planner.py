"""What the daily check queues: reminders, overdue notices, escalations, progress requests, digests.

The rules (grouping, cover keys, catch-up, missing addresses) are described in
:mod:`workflow.chasing.check`. This module decides; :mod:`.covers` holds the set-based SQL that
selects what is due and records it as covered, :mod:`.mails` writes the outbox rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import states
from workflow.chasing import covers as cv
from workflow.chasing.acks import queue_unsigned
from workflow.chasing.channels import robot_owners
from workflow.chasing.cutoffs import calendar_range, overdue_cutoff, reminder_bands
from workflow.chasing.items import OpenRow, Queued, WorkdayCalendar
from workflow.chasing.mails import UnitPart, Writer, cover_key, iso
from workflow.chasing.notices import issue_notices
from workflow.chasing.policy import Policy
from workflow.chasing.statistics import after_bulk_change
from workflow.storage.models import Notification, Person, Plan, Report, Task, Unit

A = cv.A
NO_EMAIL = "单位“{}”没有登记邮箱或群机器人，发给该单位的通知未排队（用 duban unit edit 添加邮箱）"
NO_LEADER = "单位“{}”没有分管领导，逾期升级未排队（用 duban unit edit --leader 设置）"
LEADER_NO_EMAIL = "领导“{}”没有登记邮箱或群机器人，发给其的通知未排队"
LEVEL_OF = {1: "unit", 2: "leader", 4: "principal"}
NO_PRINCIPAL = "领导名录中没有主要领导，逾期升级未排队（用 duban leader add --principal 添加）"


class Planner:
    """Works out what to queue for one working day ``as_of``; a class to share loaded data."""

    def __init__(
        self,
        session: Session,
        as_of: date,
        calendar: WorkdayCalendar,
        policy: Policy,
        now: datetime,
    ) -> None:
        self.session = session
        self.as_of = as_of
        self.cal = calendar
        self.policy = policy
        self.now = now
        self.warnings: list[str] = []
        self.notices = 0  # numbered 督办单 / 催办通知书 issued by this run
        self._warned: set[str] = set()
        self._wd: dict[tuple[date, date], int] = {}
        self._remaining: dict[date, int] = {}  # called for every item listed
        self.first_day, self.last_day = calendar_range(calendar)

    # -- helpers
    def wd(self, a: date, b: date) -> int:
        key = (a, b)
        if key not in self._wd:
            self._wd[key] = self.cal.working_days_between(a, b)
        return self._wd[key]

    def remaining(self, due: date) -> int:
        """Working days remaining on ``as_of`` (negative: working days overdue)."""
        left = self._remaining.get(due)
        if left is None:
            left = self.wd(self.as_of, due) if due >= self.as_of else -self.wd(due, self.as_of)
            self._remaining[due] = left
        return left

    def warn(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self.warnings.append(text)

    # -- loading (one select each, sizes bounded by units, people, tasks and reports)
    def load(self) -> None:
        s = self.session
        self.units = {u.id: u for u in s.execute(sa.select(Unit)).scalars()}
        self.people = {p.id: p for p in s.execute(sa.select(Person)).scalars()}
        self.principals = sorted(
            (p for p in self.people.values() if p.principal), key=lambda p: p.id
        )
        self.run_no = cv.next_run(s)
        self.writer = Writer(s, self.as_of, self.now, self.policy, self.tasks, self.reports)
        self.robots = self.writer.robots = robot_owners(s)  # owner -> robot kinds

    def tasks(self) -> dict[int, Any]:
        t = Task.__table__
        return {
            r.id: r
            for r in self.session.execute(
                sa.select(t.c.id, t.c.title, t.c.section_path, t.c.plan_id)
            )
        }

    def reports(self) -> dict[int, tuple[str, Any]]:
        """The last report of each open assignment that has one (returned work)."""
        r = Report.__table__
        latest = (
            sa.select(sa.func.max(r.c.id))
            .join(A, A.c.id == r.c.assignment_id)
            .where(A.c.state.in_(states.OPEN_STATES))
            .group_by(r.c.assignment_id)
        )
        return {
            row.assignment_id: (row.text, row.created_at)
            for row in self.session.execute(
                sa.select(r.c.assignment_id, r.c.text, r.c.created_at).where(r.c.id.in_(latest))
            )
        }

    # -- deciding
    def run(self) -> list[Queued]:
        self.load()
        self.skip_out_of_range()
        self.select_due()
        self.unit_mails()
        digests = self.plan_digests()
        riding = self.overdue_mails(digests)
        queue_unsigned(self)  # tasks nobody signed for (签收): early to the unit's leader
        self.write_digests(digests, riding)
        return self.writer.done()

    def skip_out_of_range(self) -> None:
        rows = cv.out_of_range(self.session, self.first_day, self.last_day)
        for r in rows:
            unit = self.units.get(r.unit_id)
            self.warn(
                f"任务 #{r.id}（{unit.name if unit else r.unit_id}）的截止日期 {r.due} 超出工作日历范围"
                f"（{self.first_day} 至 {self.last_day}），本次检查已跳过；请用 duban task extend 改正"
            )
        if rows and rows[0].n > len(rows):
            self.warn(f"另有 {rows[0].n - len(rows)} 项任务的截止日期超出工作日历范围，已跳过")

    def reachable_unit(self, unit: Unit) -> bool:
        """A unit is told when it has an e-mail address or a group robot."""
        return bool(unit.emails) or f"u{unit.id}" in self.robots

    def reachable(self, person: Person) -> bool:
        return bool(person.email) or f"p{person.id}" in self.robots

    def selections(self) -> list[tuple[cv.Selection, list[int] | None, str]]:
        """(what is due, the units whose recipient has an address, the warning otherwise)."""
        unit_ok = [u.id for u in self.units.values() if self.reachable_unit(u)]
        out: list[tuple[cv.Selection, list[int] | None, str]] = []
        bands = reminder_bands(self.cal, self.as_of, self.policy.reminder_offsets)
        if bands:  # one selection: the band a due date falls in names its offset
            what = sa.case(*((A.c.due < before, f"r{o}") for o, _, before in bands))
            where = (
                A.c.state.in_(cv.WAITING),
                A.c.due >= self.as_of,
                A.c.due < bands[-1][2],
                A.c.clock_paused_on.is_(None),  # a stopped clock: nothing to remind of
            )
            out.append((cv.Selection(what, where), unit_ok, NO_EMAIL))
        for report_due in self.report_dates():
            plans = [pid for pid, dates in self.windows.items() if report_due in dates]
            where = (
                A.c.state.in_(states.OPEN_STATES),
                cv.T.c.plan_id.in_(plans),
                A.c.due > report_due,
                A.c.due <= self.last_day,
            )
            sel = cv.Selection("p", where, sa.literal(report_due, sa.Date), joins_task=True)
            out.append((sel, unit_ok, NO_EMAIL))
        return out

    def levels(self) -> list[cv.Level]:
        """The enabled escalation levels as due-date cutoffs, with the units each may tell."""
        eligible = {
            "unit": [u.id for u in self.units.values() if self.reachable_unit(u)],
            "leader": [
                u.id
                for u in self.units.values()
                if u.leader_id in self.people and self.reachable(self.people[u.leader_id])
            ],
            "principal": None if any(self.reachable(p) for p in self.principals) else [],
        }
        return [
            cv.Level(name, overdue_cutoff(self.cal, self.as_of, threshold), eligible[name])
            for name, threshold in self.policy.levels()
        ]

    def report_dates(self) -> list[date]:
        """Plan report dates the progress-request window has reached (``self.windows``)."""
        self.windows: dict[int, list[date]] = {}
        for plan_id, dates in self.session.execute(sa.select(Plan.id, Plan.report_dates)):
            for raw in dates or []:
                try:
                    due = date.fromisoformat(str(raw))
                except ValueError:
                    self.warn(f"工作计划 #{plan_id} 的报送日期无效：{raw!r}，已忽略")
                    continue
                if (
                    self.as_of <= due <= self.last_day
                    and self.wd(self.as_of, due) <= self.policy.progress_request_days
                ):
                    self.windows.setdefault(plan_id, []).append(due)
        return sorted({d for dates in self.windows.values() for d in dates})

    def select_due(self) -> None:
        """Cover everything due today (a few INSERT … SELECT); warn about who is left out."""
        written = 0
        for sel, units, why in self.selections():
            written += cv.cover(self.session, sel, units, self.run_no, self.as_of)
            if units is not None and len(units) < len(self.units):
                for unit_id in cv.units_left_out(self.session, sel, units):
                    self.warn_left_out(why, self.units[unit_id])
        levels = self.levels()
        written += cv.cover_overdue(self.session, levels, self.first_day, self.run_no, self.as_of)
        self.notices = issue_notices(  # a numbered 督办单 / 催办通知书 per level told
            self.session, self.run_no, self.as_of, self.cal, self.policy.office_name, self.now
        )
        after_bulk_change(self.session, "chasecover", written)  # read back next, by run
        for level in levels:
            if level.units is not None and len(level.units) < len(self.units):
                for unit_id in cv.overdue_left_out(
                    self.session, level, self.first_day, level.units
                ):
                    self.warn_left_out(level.name, self.units[unit_id])

    def warn_left_out(self, why: str, unit: Unit) -> None:
        if why == "leader":
            person = self.people.get(unit.leader_id) if unit.leader_id else None
            self.warn(
                LEADER_NO_EMAIL.format(person.name) if person else NO_LEADER.format(unit.name)
            )
        elif why == "principal":
            if not self.principals:
                self.warn(NO_PRINCIPAL)
            for person in self.principals:
                self.warn(LEADER_NO_EMAIL.format(person.name))
        else:
            self.warn(NO_EMAIL.format(unit.name))

    # -- the units' own reminders and progress requests: all their items
    def unit_mails(self) -> None:
        whats = [f"r{o}" for o in self.policy.reminder_offsets] + ["p"]
        rows = cv.covered_now(self.session, self.run_no, whats)
        for unit_id, unit_rows in groupby(rows, key=lambda wr: wr[1].unit_id):
            unit = self.units[unit_id]
            groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
            for what, r in unit_rows:
                row = OpenRow(r.id, r.unit_id, r.task_id, r.state, r.due)
                if what == "p":
                    group = ("progress_request", r.cover_due)
                else:
                    group = ("due_today" if what == "r0" else "reminder", None)
                items, covers = groups[group]
                items.append((row, self.remaining(row.due)))
                covers.append(cover_key(what, r.id, r.cover_due))
            for (kind, report_due), (items, covers) in sorted(
                groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or date.min)
            ):
                extra = {"report_due": report_due.isoformat()} if report_due else {}
                self.writer.unit_mail(kind, unit, items, covers, **extra)

    # -- overdue: the unit's notice, then one escalation per leader per day, bounded per unit
    #    and per mail (:meth:`Writer.bound`)
    def overdue_mails(self, digests: dict[int, tuple]) -> dict[int, list[str]]:
        """Queue today's overdue notices and escalations (one stream over this run's ``o``
        covers, by unit); the escalations of a leader whose digest goes out today ride in it
        (returned: person id → covers)."""
        limit = self.policy.items_per_unit
        report_by = self.cal.add_working_days(self.as_of, self.policy.report_within_days)
        by_person: dict[int, dict[int, list[UnitPart]]] = defaultdict(lambda: defaultdict(list))
        for unit_id, told in cv.overdue_told_now(self.session, self.run_no, limit):
            unit = self.units[unit_id]
            if 1 in told:
                total, rows = told[1]
                rows = rows[: self.policy.items_per_mail]  # a unit's notice: the mail's bound too
                listed = [(r, self.remaining(r.due)) for r in rows]
                covers = [f"o:{r.id}:{iso(r.due)}:unit" for r in rows]
                self.writer.unit_mail("overdue", unit, listed, covers, total)
            for bit, number in ((2, 1), (4, 2)):
                if bit not in told:
                    continue
                total, rows = told[bit]
                part = UnitPart(unit, total=total)
                part.rows = [(r, self.remaining(r.due)) for r in rows]
                part.covers = [f"o:{r.id}:{iso(r.due)}:{LEVEL_OF[bit]}" for r in rows]
                if number == 1:
                    by_person[unit.leader_id][1].append(part)
                else:
                    for person in self.principals:
                        if self.reachable(person):
                            by_person[person.id][2].append(part)
        riding: dict[int, list[str]] = {}
        for person_id in sorted(by_person):
            person = self.people[person_id]
            for number, parts_ in sorted(by_person[person_id].items()):
                if person_id in digests and self.digest_day() == self.as_of:
                    riding.setdefault(person_id, []).extend(c for p in parts_ for c in p.covers)
                    continue
                self.writer.escalation(person, number, parts_, report_by)
        return riding

    # -- digests
    def digest_day(self) -> date | None:
        """The day this period's digest is computed for, if it has come; None otherwise."""
        if self.policy.digest_weekday is None:
            return self.as_of
        monday = self.as_of - timedelta(self.as_of.weekday())
        day = monday + timedelta(self.policy.digest_weekday)
        while day <= monday + timedelta(6) and not self.cal.is_working_day(day):
            day += timedelta(1)
        if day > monday + timedelta(6) or day > self.as_of:
            return None
        return day

    def period(self) -> tuple[str, str]:
        if self.policy.digest_weekday is None:
            return (
                self.as_of.isoformat(),
                f"{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日",
            )
        year, week, _ = self.as_of.isocalendar()
        return f"{year}-W{week:02d}", f"{year}年第{week}周"

    def plan_digests(self) -> dict[int, tuple[str, str, list[UnitPart]]]:
        """Person id → (key, label, units): open items at or past their level on the digest
        day, by unit, at most ``items_per_unit`` each; only digests not queued yet."""
        day = self.digest_day()
        if day is None:
            return {}
        period, label = self.period()
        keys = {p.id: f"digest:p{p.id}:{period}" for p in self.people.values()}
        n = Notification.__table__
        existing = set(
            self.session.execute(sa.select(n.c.key).where(n.c.key.in_(list(keys.values()))))
            .scalars()
            .all()
        )
        limit = self.policy.items_per_unit
        pending = [p for p in self.people.values() if keys[p.id] not in existing]
        needed = {"principal" if p.principal else "leader" for p in pending}
        cut = {
            level: overdue_cutoff(self.cal, day, at)
            for level, at in self.policy.escalation.items()
            if level in needed
        }
        found: dict[int, tuple[int, int, list[OpenRow]]] = {}
        if cut:  # one query: the wider cutoff, the narrower one counted inside it
            wide, narrow = cut.get("leader") or cut["principal"], cut.get("principal")
            if "leader" not in cut:
                narrow = None
            found = cv.bounded_by_unit(self.session, wide, narrow, self.first_day, limit)
        out: dict[int, tuple[str, str, list[UnitPart]]] = {}
        for person in sorted(self.people.values(), key=lambda p: p.id):
            if keys[person.id] in existing:
                continue
            units: dict[int, tuple[int, list[OpenRow]]] = {}
            if person.principal and "principal" in cut:
                narrowed = "leader" in cut
                for unit_id, (n, n_inner, rows) in found.items():
                    count = n_inner if narrowed else n
                    if count:
                        units[unit_id] = (count, rows[:count] if narrowed else rows)
            elif not person.principal and "leader" in cut:
                for unit_id, (n, _, rows) in found.items():
                    if self.units[unit_id].leader_id == person.id:
                        units[unit_id] = (n, rows)
            if not units:
                continue
            if not self.reachable(person):
                self.warn(LEADER_NO_EMAIL.format(person.name))
                continue
            parts = []
            for unit_id, (count, rows) in sorted(units.items()):
                part = UnitPart(self.units[unit_id], total=count)
                part.rows = [(r, self.remaining(r.due)) for r in rows]
                parts.append(part)
            out[person.id] = (keys[person.id], label, parts)
        return out

    def write_digests(
        self, digests: dict[int, tuple[str, str, list[UnitPart]]], riding: dict[int, list[str]]
    ) -> None:
        for person_id, (key, label, parts) in digests.items():
            covers = sorted(riding.get(person_id, []))
            self.writer.digest(key, self.people[person_id], label, parts, covers)

"""What the daily check queues: reminders, overdue notices, escalations, progress requests, digests.

The rules (grouping, cover keys, catch-up, missing addresses) are described in
:mod:`workflow.chasing.check`, which runs a :class:`Planner` after bringing states up to date.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import states
from workflow.chasing.channels import robot_owners, with_channels
from workflow.chasing.items import Group, OpenRow, Queued, WorkdayCalendar, local_date_of
from workflow.chasing.policy import Policy
from workflow.models import Assignment, Notification, Person, Plan, Report, Task, Unit


class Planner:
    """Works out what to queue for one ``as_of``; a class only to share the loaded data."""

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
        self._wd: dict[tuple[date, date], int] = {}
        self.groups: dict[tuple, Group] = {}
        self.digests: list[
            tuple[Person, str, str, list[tuple[Unit, list[tuple[OpenRow, int]]]]]
        ] = []
        self._warned: set[str] = set()
        self.level_names = [n for n, _ in policy.levels()]

    # -- helpers
    def wd(self, a: date, b: date) -> int:
        key = (a, b)
        if key not in self._wd:
            self._wd[key] = self.cal.working_days_between(a, b)
        return self._wd[key]

    def warn(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self.warnings.append(text)

    # -- loading
    def load(self) -> None:
        s = self.session
        a = Assignment.__table__
        open_states = list(states.OPEN_STATES)
        horizon = self.cal.add_working_days(self.as_of, self.policy.max_offset + 1)
        self.report_windows = self._report_windows()
        where = [a.c.state.in_(open_states)]
        if not self.report_windows:  # without a report date in reach, only near or past due
            where.append(a.c.due < horizon)
        self.rows = [
            OpenRow(r.id, r.unit_id, r.task_id, r.state, r.due)
            for r in s.execute(
                sa.select(a.c.id, a.c.unit_id, a.c.task_id, a.c.state, a.c.due)
                .where(*where)
                .order_by(a.c.due, a.c.id)
            )
        ]
        self.units = {u.id: u for u in s.execute(sa.select(Unit)).scalars()}
        self.robots = robot_owners(s)  # owner -> robot kinds (workflow.chasing.channels)
        self.people = {p.id: p for p in s.execute(sa.select(Person)).scalars()}
        task_ids = sa.select(a.c.task_id).where(a.c.state.in_(open_states)).distinct()
        t = Task.__table__
        self.tasks = {
            r.id: r
            for r in s.execute(
                sa.select(t.c.id, t.c.title, t.c.section_path, t.c.plan_id).where(
                    t.c.id.in_(task_ids)
                )
            )
        }
        self.reports = self._last_reports(open_states)
        earliest = min((r.due for r in self.rows), default=self.as_of)
        self.covered = self._covers(min(earliest, self.as_of))

    def _report_windows(self) -> dict[int, list[date]]:
        """Plan id → its report dates the progress request window has reached."""
        windows: dict[int, list[date]] = {}
        for plan_id, dates in self.session.execute(sa.select(Plan.id, Plan.report_dates)):
            for raw in dates or []:
                try:
                    due = date.fromisoformat(str(raw))
                except ValueError:
                    self.warn(f"工作计划 #{plan_id} 的报送日期无效：{raw!r}，已忽略")
                    continue
                if (
                    due >= self.as_of
                    and self.wd(self.as_of, due) <= self.policy.progress_request_days
                ):
                    windows.setdefault(plan_id, []).append(due)
        return windows

    def _last_reports(self, open_states: list[str]) -> dict[int, tuple[str, Any]]:
        r = Report.__table__
        a = Assignment.__table__
        latest = (
            sa.select(sa.func.max(r.c.id))
            .join(a, a.c.id == r.c.assignment_id)
            .where(a.c.state.in_(open_states))
            .group_by(r.c.assignment_id)
        )
        rows = self.session.execute(
            sa.select(r.c.assignment_id, r.c.text, r.c.created_at).where(r.c.id.in_(latest))
        )
        return {row.assignment_id: (row.text, row.created_at) for row in rows}

    def _covers(self, earliest_due: date) -> set[str]:
        """Cover keys of items already queued that could concern today's candidates."""
        reach = max(self.policy.max_offset, self.policy.progress_request_days) + 1
        since = self.cal.add_working_days(earliest_due, -reach) - timedelta(7)
        n = Notification.__table__
        rows = self.session.execute(sa.select(n.c.context["covers"]).where(n.c.as_of >= since))
        covered: set[str] = set()
        for (covers,) in rows:
            covered.update(covers or ())
        return covered

    # -- deciding
    def run(self) -> list[Queued]:
        self.load()
        for row in self.rows:
            if row.state == "overdue":
                self.overdue(row)
            elif row.due >= self.as_of:
                self.reminder(row)
        self.progress_requests()
        self.leader_digests()
        return self.queue()

    def reminder(self, row: OpenRow) -> None:
        remaining = self.wd(self.as_of, row.due)
        offsets = [o for o in self.policy.reminder_offsets if o >= remaining]
        if not offsets:
            return
        offset = min(offsets)  # the latest reminder point reached; earlier missed ones are moot
        cover = f"r:{row.id}:{row.due.isoformat()}:{offset}"
        if cover in self.covered:
            return
        kind = "due_today" if remaining == 0 and offset == 0 else "reminder"
        self.add_for_unit(kind, row, remaining, cover)

    def overdue(self, row: OpenRow) -> None:
        if row.due >= self.as_of:
            return
        late = self.wd(row.due, self.as_of)
        level = self.policy.level_reached(late)
        if level is None:
            return
        names = self.level_names
        base = f"o:{row.id}:{row.due.isoformat()}:"
        if any(base + n in self.covered for n in names[names.index(level) :]):
            return
        cover = base + level
        if level == "unit":
            self.add_for_unit("overdue", row, -late, cover)
        elif level == "leader":
            self.add_for_leader(row, -late, cover)
        else:
            self.add_for_principals(row, -late, cover)

    def add_for_unit(self, kind: str, row: OpenRow, working_days: int, cover: str) -> None:
        unit = self.units[row.unit_id]
        if not unit.emails and f"u{unit.id}" not in self.robots:
            self.warn(
                f"单位“{unit.name}”没有登记邮箱或群机器人，发给该单位的通知未排队（用 duban unit edit 添加邮箱）"
            )
            return
        group = self.groups.get((kind, unit.id))
        if group is None:
            group = self.groups[(kind, unit.id)] = Group(
                kind, f"u{unit.id}", unit.name, list(unit.emails), unit
            )
        group.items.append((row, working_days))
        group.covers.append(cover)

    def add_for_leader(self, row: OpenRow, working_days: int, cover: str) -> None:
        unit = self.units[row.unit_id]
        person = self.people.get(unit.leader_id) if unit.leader_id else None
        if person is None:
            self.warn(
                f"单位“{unit.name}”没有分管领导，逾期升级未排队（用 duban unit edit --leader 设置）"
            )
            return
        self._add_person(person, unit, 1, row, working_days, cover)

    def add_for_principals(self, row: OpenRow, working_days: int, cover: str) -> None:
        unit = self.units[row.unit_id]
        principals = sorted((p for p in self.people.values() if p.principal), key=lambda p: p.id)
        if not principals:
            self.warn(
                "领导名录中没有主要领导，逾期升级未排队（用 duban leader add --principal 添加）"
            )
            return
        for person in principals:
            self._add_person(person, unit, 2, row, working_days, cover)

    def _add_person(
        self, person: Person, unit: Unit, level: int, row: OpenRow, working_days: int, cover: str
    ) -> None:
        if not person.email and f"p{person.id}" not in self.robots:
            self.warn(f"领导“{person.name}”没有登记邮箱或群机器人，发给其的通知未排队")
            return
        key = ("escalation", person.id, unit.id)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(
                "escalation",
                f"p{person.id}:u{unit.id}",
                person.name,
                [person.email],
                unit,
                level=level,
                extra={"level": level, "leader": person.name},
            )
        group.items.append((row, working_days))
        group.covers.append(cover)

    def progress_requests(self) -> None:
        if not self.report_windows:
            return
        for row in self.rows:
            task = self.tasks.get(row.task_id)
            if task is None or task.plan_id not in self.report_windows:
                continue
            for report_due in self.report_windows[task.plan_id]:
                if row.due <= report_due:  # chased by its own reminders and overdue notices
                    continue
                cover = f"p:{row.id}:{report_due.isoformat()}"
                if cover in self.covered:
                    continue
                unit = self.units[row.unit_id]
                if not unit.emails and f"u{unit.id}" not in self.robots:
                    self.warn(
                        f"单位“{unit.name}”没有登记邮箱或群机器人，发给该单位的通知未排队（用 duban unit edit 添加邮箱）"
                    )
                    continue
                key = ("progress_request", unit.id, report_due)
                group = self.groups.get(key)
                if group is None:
                    group = self.groups[key] = Group(
                        "progress_request",
                        f"u{unit.id}:{report_due.isoformat()}",
                        unit.name,
                        list(unit.emails),
                        unit,
                        extra={"report_due": report_due.isoformat()},
                    )
                group.items.append((row, self.wd(self.as_of, row.due)))
                group.covers.append(cover)

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

    def leader_digests(self) -> None:
        """Per leader: open items at or past their level as of the digest day, by unit."""
        day = self.digest_day()
        if day is None:
            return
        period, label = self.period()
        leader_at = self.policy.escalation.get("leader")
        principal_at = self.policy.escalation.get("principal")
        leader_of = {uid: u.leader_id for uid, u in self.units.items()}
        by_leader: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        for_principal: dict[int, list] = defaultdict(list)
        for row in self.rows:
            if row.state != "overdue" or row.due >= day:
                continue
            late = self.wd(row.due, day)
            item = (row, -self.wd(row.due, self.as_of))
            if leader_at is not None and late >= leader_at and leader_of[row.unit_id]:
                by_leader[leader_of[row.unit_id]][row.unit_id].append(item)
            if principal_at is not None and late >= principal_at:
                for_principal[row.unit_id].append(item)
        for person in sorted(self.people.values(), key=lambda p: p.id):
            by_unit = for_principal if person.principal else by_leader.get(person.id, {})
            if not by_unit:
                continue
            if not person.email and f"p{person.id}" not in self.robots:
                self.warn(f"领导“{person.name}”没有登记邮箱或群机器人，发给其的通知未排队")
                continue
            units = [(self.units[uid], items) for uid, items in sorted(by_unit.items())]
            self.digests.append((person, period, label, units))

    # -- writing
    def item(self, row: OpenRow, working_days: int) -> dict[str, Any]:
        task = self.tasks[row.task_id]
        text, at = self.reports.get(row.id, (None, None))
        return {
            "assignment_id": row.id,
            "task_title": task.title,
            "section": " / ".join(task.section_path or []),
            "due": row.due.isoformat(),
            "working_days": working_days,
            "state_label": states.STATE_LABELS[row.state],
            "last_report": text,
            "last_report_at": local_date_of(at),
        }

    def planned(self) -> list[tuple[Notification, Queued]]:
        """Every row this run would queue, in key order."""
        out: list[tuple[Notification, Queued]] = []
        by_person: dict[str, list[Group]] = defaultdict(list)
        for group in self.groups.values():
            if group.kind == "escalation":
                by_person[group.who.split(":")[0]].append(group)
            else:
                out.append(self.group_row(group))
        for person, period, label, units in self.digests:
            key = self.digest_key(person, period)
            if key in self.existing_digests:
                continue
            in_digest = {r.id for _, items in units for r, _ in items}
            merged: list[str] = []
            escalations = by_person.get(f"p{person.id}", [])
            if self.digest_day() == self.as_of and all(
                row.id in in_digest for g in escalations for row, _ in g.items
            ):  # today's escalations ride in today's digest: one mail for the leader
                merged = sorted(c for g in escalations for c in g.covers)
                by_person.pop(f"p{person.id}", None)
            context = {
                "office": self.policy.office_name,
                "leader": person.name,
                "as_of": self.as_of.isoformat(),
                "period_label": label,
                "units": [
                    {"unit": unit.name, "items": [self.item(r, wd) for r, wd in items]}
                    for unit, items in units
                ],
                "covers": merged,
            }
            out.append(
                self._row(
                    key,
                    "digest",
                    [person.email],
                    person.name,
                    context,
                    [r.id for _, items in units for r, _ in items],
                    2 if person.principal else 1,
                    None,
                )
            )
        for person_groups in by_person.values():
            if len(person_groups) == 1:
                out.append(self.group_row(person_groups[0]))
            else:
                out.append(self.escalation_digest(person_groups))
        return sorted(out, key=lambda p: p[0].key)

    def sorted_items(self, group: Group) -> tuple[list[dict[str, Any]], list[str], list[int]]:
        pairs = sorted(
            zip(group.items, group.covers, strict=True), key=lambda p: (p[0][0].due, p[0][0].id)
        )
        items = [self.item(row, wd) for (row, wd), _ in pairs]
        return items, [c for _, c in pairs], [row.id for (row, _), _ in pairs]

    def key(self, kind: str, who: str, covers: list[str]) -> str:
        digest = hashlib.sha1("\n".join(sorted(covers)).encode()).hexdigest()[:10]
        return f"{kind}:{who}:{self.as_of.isoformat()}:{digest}"

    def group_row(self, group: Group) -> tuple[Notification, Queued]:
        items, covers, ids = self.sorted_items(group)
        context = {
            "office": self.policy.office_name,
            "unit": group.unit.name if group.unit else "",
            "recipient": group.recipient_name,
            "as_of": self.as_of.isoformat(),
            "items": items,
            **group.extra,
            "covers": covers,
        }
        return self._row(
            self.key(group.kind, group.who, covers),
            group.kind,
            group.recipients,
            group.recipient_name,
            context,
            ids,
            group.level,
            group.unit,
        )

    def escalation_digest(self, groups: list[Group]) -> tuple[Notification, Queued]:
        """A leader's escalations of one day about several units: one mail grouped by unit."""
        groups = sorted(groups, key=lambda g: g.unit.id)
        first = groups[0]
        units, covers, ids = [], [], []
        for group in groups:
            items, group_covers, group_ids = self.sorted_items(group)
            units.append({"unit": group.unit.name, "items": items})
            covers += group_covers
            ids += group_ids
        label = "主要领导" if first.level == 2 else "分管领导"
        context = {
            "office": self.policy.office_name,
            "leader": first.recipient_name,
            "as_of": self.as_of.isoformat(),
            "period_label": f"逾期升级报告（{label}）",
            "units": units,
            "level": first.level,
            "covers": covers,
        }
        who = first.who.split(":")[0]
        return self._row(
            self.key("escalation", who, covers),
            "digest",
            first.recipients,
            first.recipient_name,
            context,
            ids,
            first.level,
            None,
        )

    @staticmethod
    def digest_key(person: Person, period: str) -> str:
        return f"digest:p{person.id}:{period}"

    def _row(
        self,
        key: str,
        kind: str,
        recipients: list[str],
        name: str,
        context: dict[str, Any],
        ids: list[int],
        level: int,
        unit: Unit | None,
    ) -> tuple[Notification, Queued]:
        row = Notification(
            key=key,
            kind=kind,
            recipients=list(recipients),
            recipient_name=name,
            assignment_id=ids[0] if len(ids) == 1 else None,
            level=level,
            context=context,
            as_of=self.as_of,
            created_at=self.now,
            next_attempt_at=self.now,
        )
        queued = Queued(key, kind, name, list(recipients), level, unit.name if unit else None, ids)
        return row, queued

    def queue(self) -> list[Queued]:
        n = Notification.__table__
        keys = [self.digest_key(person, period) for person, period, _, _ in self.digests]
        self.existing_digests = (
            set(self.session.execute(sa.select(n.c.key).where(n.c.key.in_(keys))).scalars())
            if keys
            else set()
        )
        planned = with_channels(self.session, self.planned(), self.robots)
        if not planned:
            return []
        existing = set(
            self.session.execute(sa.select(n.c.key).where(n.c.as_of == self.as_of)).scalars()
        )
        new = [(row, q) for row, q in planned if row.key not in existing]
        if new:  # one executemany: no per-row INSERT … RETURNING as an ORM flush would do
            columns = [c.name for c in n.columns if c.name != "id"]
            self.session.execute(
                sa.insert(n), [{c: getattr(row, c) for c in columns} for row, _ in new]
            )
        return [q for _, q in new]

"""Writing what the planner decided: item dicts, mail contexts, outbox rows and their keys.

Every context keeps the keys the renderer has always read (see :mod:`notifiers.render`) and adds:
``covers`` (the cover keys of the items it lists: a bounded mail lists a few per unit, while every
item told is a row of ``chasecover``), ``warning_days`` (预警 grades only within the
reminder window) and, for a leader's mail, ``units`` grouped by unit with ``total``, ``omitted``
and ``more_at`` (the link or command for the items not listed).

A leader's mail is bounded twice (:meth:`Writer.bound`): at most ``items_per_unit`` items of a
unit (the planner reads no more) and ``items_per_mail`` items in all. A mail over the second
bound, or naming more than ``units_per_mail`` units, takes its units most overdue first (the
longest overdue item, then the most items, then the usual order): items are listed unit by unit
until ``items_per_mail``; the next units go to ``compact_units`` (``unit``, ``total``,
``most_late``, ``more_at``: one row each, no items) and the units past ``units_per_mail`` to
``unlisted`` (``units``, ``total``, ``more_at``: one line). ``total`` stays the exact sum. Its
``covers`` are those of the items listed; its outbox key hashes the covers of every unit's
first ``items_per_unit`` items, new in this run, so keys never repeat (every item told is a row
of ``chasecover`` either way). A mail within both bounds is as it always was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import states
from workflow.chasing.channels import CHANNEL_LABELS, OWNER, owner_of_key
from workflow.chasing.items import OpenRow, Queued, local_date_of
from workflow.chasing.policy import Policy
from workflow.storage.models import Notification, Unit

NOTIFICATION_COLUMNS = [c.name for c in Notification.__table__.columns if c.name != "id"]


_ISO: dict[date, str] = {}


def iso(d: date) -> str:
    text = _ISO.get(d)
    if text is None:
        text = _ISO[d] = d.isoformat()
    return text


def cover_key(what: str, assignment_id: int, due: date) -> str:
    """The cover's text form, as stored in ``context["covers"]`` since the first version."""
    if what == "p":
        return f"p:{assignment_id}:{iso(due)}"
    if what[0] == "r":
        return f"r:{assignment_id}:{iso(due)}:{what[1:]}"
    return f"o:{assignment_id}:{iso(due)}:{what}"


def mail_key(kind: str, who: str, as_of: date, covers: list[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(covers)).encode()).hexdigest()[:10]
    return f"{kind}:{who}:{as_of.isoformat()}:{digest}"


@dataclass
class UnitPart:
    """One unit's share of a leader's mail: how many items, the first ``limit`` of them and
    their cover keys."""

    unit: Unit
    total: int = 0
    rows: list[tuple[OpenRow, int]] = field(default_factory=list)
    covers: list[str] = field(default_factory=list)

    @property
    def most_late(self) -> int:
        """Working days overdue of its longest overdue item (0 when none is overdue)."""
        return max([0, *(-wd for _, wd in self.rows)])

    def first(self, n: int) -> UnitPart:
        """The same unit listing only its first ``n`` items (its total unchanged)."""
        return UnitPart(self.unit, self.total, self.rows[:n], self.covers[:n])


@dataclass
class Bounded:
    """A leader's mail within ``items_per_mail`` / ``units_per_mail`` (see the module doc)."""

    listed: list[UnitPart]
    compact: list[UnitPart] = field(default_factory=list)
    unlisted: list[UnitPart] = field(default_factory=list)


class Writer:
    """Builds outbox rows for one check and inserts them in batches (few statements)."""

    BATCH = 200

    def __init__(
        self,
        session: Session,
        as_of: date,
        now: datetime,
        policy: Policy,
        load_tasks: Callable[[], dict[int, Any]],
        load_reports: Callable[[], dict[int, tuple[str, Any]]],
    ) -> None:
        self.session = session
        self.as_of = as_of
        self.now = now
        self.policy = policy
        self._load_tasks = load_tasks
        self._load_reports = load_reports
        self.pending: list[dict[str, Any]] = []
        self.queued: list[Queued] = []
        self._tasks: dict[int, tuple[str, str]] = {}
        self.robots: dict[str, list[str]] = {}  # owner -> robot kinds (workflow.chasing.channels)

    # -- pieces (tasks and last reports are read only when a mail is written)
    @cached_property
    def tasks(self) -> dict[int, Any]:
        return self._load_tasks()

    @cached_property
    def reports(self) -> dict[int, tuple[str, Any]]:
        return self._load_reports()

    def item(self, row: OpenRow, working_days: int) -> dict[str, Any]:
        title, section = self._task(row.task_id)
        text, at = self.reports.get(row.id, (None, None))
        return {
            "assignment_id": row.id,
            "task_title": title,
            "section": section,
            "due": iso(row.due),
            "working_days": working_days,
            "state_label": states.STATE_LABELS[row.state],
            "last_report": text,
            "last_report_at": local_date_of(at),
        }

    def _task(self, task_id: int) -> tuple[str, str]:
        cached = self._tasks.get(task_id)
        if cached is None:
            task = self.tasks[task_id]
            cached = self._tasks[task_id] = (task.title, " / ".join(task.section_path or []))
        return cached

    def base(self) -> dict[str, Any]:
        return {
            "office": self.policy.office_name,
            "as_of": self.as_of.isoformat(),
            "warning_days": self.policy.max_offset,
        }

    def more(self, unit: Unit | None = None) -> str:
        """Where a leader sees a unit's items beyond those listed (every overdue item: None)."""
        if self.policy.server_url:
            return f"{self.policy.server_url}/board"
        if unit is None:
            return "duban task list --overdue"
        return f"duban task list --unit {unit.name} --overdue"

    def bound(self, parts: list[UnitPart]) -> Bounded:
        """``parts`` within the policy's per-mail bounds (see the module doc)."""
        per_mail, max_units = self.policy.items_per_mail, self.policy.units_per_mail
        if len(parts) <= max_units and sum(len(p.rows) for p in parts) <= per_mail:
            return Bounded(parts)
        order = sorted(parts, key=lambda p: (-p.most_late, -p.total))  # stable: usual order next
        out = Bounded([], unlisted=order[max_units:])
        room = per_mail
        for part in order[:max_units]:
            if room <= 0:
                out.compact.append(part)
                continue
            if len(part.rows) > room:
                part = part.first(room)
            out.listed.append(part)
            room -= len(part.rows)
        return out

    def unit_parts(self, parts: list[UnitPart]) -> list[dict[str, Any]]:
        return [
            {
                "unit": p.unit.name,
                "items": [self.item(r, wd) for r, wd in p.rows],
                "total": p.total,
                "omitted": p.total - len(p.rows),
                "more_at": self.more(p.unit),
            }
            for p in parts
        ]

    def leader_units(self, bounded: Bounded) -> dict[str, Any]:
        """The context keys of a leader's mail for its units: ``units``, and ``compact_units`` /
        ``unlisted`` when the mail is over its bounds."""
        out: dict[str, Any] = {"units": self.unit_parts(bounded.listed)}
        if bounded.compact:
            out["compact_units"] = [
                {
                    "unit": p.unit.name,
                    "total": p.total,
                    "most_late": p.most_late,
                    "more_at": self.more(p.unit),
                }
                for p in bounded.compact
            ]
        if bounded.unlisted:
            out["unlisted"] = {
                "units": len(bounded.unlisted),
                "total": sum(p.total for p in bounded.unlisted),
                "more_at": self.more(),
            }
        return out

    # -- rows
    def unit_mail(
        self,
        kind: str,
        unit: Unit,
        rows: list[tuple[OpenRow, int]],
        covers: list[str],
        total: int | None = None,
        **extra,
    ) -> None:
        """A unit's reminder / due_today / overdue / progress_request mail. ``rows`` are the
        items listed and ``covers`` their cover keys; ``total`` (when given) the number of items
        it covers, those not listed counted in ``omitted`` with ``more_at``, where the unit sees
        them all."""
        who = f"u{unit.id}" + (f":{extra['report_due']}" if "report_due" in extra else "")
        context = {
            **self.base(),
            "unit": unit.name,
            "recipient": unit.name,
            "items": [self.item(r, wd) for r, wd in rows],
            **extra,
            "covers": covers,
        }
        ids = [r.id for r, _ in rows]
        if total is not None:
            context["total"] = total
            context["omitted"] = total - len(rows)
            context["more_at"] = (
                f"{self.policy.server_url}/tasks"
                if self.policy.server_url
                else "duban task list --overdue"
            )
        key = mail_key(kind, who, self.as_of, covers)
        self.add(key, kind, list(unit.emails), unit.name, context, ids, 0, unit.name, total)

    def escalation(self, person, level: int, parts: list[UnitPart], report_by: date) -> None:
        """One escalation to one leader: every unit newly at ``level``, bounded per unit and
        per mail."""
        key = mail_key(
            "escalation", f"p{person.id}", self.as_of, [c for p in parts for c in p.covers]
        )
        bounded = self.bound(parts)
        covers = [c for p in bounded.listed for c in p.covers]
        units = self.leader_units(bounded)
        first = bounded.listed[0].unit.name
        context = {
            **self.base(),
            "unit": first if len(parts) == 1 else f"{first}等{len(parts)}个单位",
            "recipient": person.name,
            "items": [it for u in units["units"] for it in u["items"]],
            "level": level,
            "leader": person.name,
            **units,
            "total": sum(p.total for p in parts),
            "report_by": report_by.isoformat(),
            "covers": covers,
        }
        ids = [r.id for p in bounded.listed for r, _ in p.rows]
        unit = first if len(parts) == 1 else None
        total = context["total"]
        self.add(key, "escalation", [person.email], person.name, context, ids, level, unit, total)

    def digest(
        self, key: str, person, label: str, parts: list[UnitPart], covers: list[str]
    ) -> None:
        bounded = self.bound(parts)
        level = 2 if person.principal else 1
        context = {
            **self.base(),
            "leader": person.name,
            "period_label": label,
            "level": level,  # the principal's digest does not say 您分管的
            **self.leader_units(bounded),
            "total": sum(p.total for p in parts),
            "covers": covers,
        }
        ids = [r.id for p in bounded.listed for r, _ in p.rows]
        total = context["total"]
        self.add(key, "digest", [person.email], person.name, context, ids, level, None, total)

    def add(self, key, kind, recipients, name, context, ids, level, unit, total=None) -> None:
        """Queue one mail (when the recipient has an address) and one copy per group robot of
        the recipient (``<key>#<channel>``, see :mod:`workflow.chasing.channels`)."""
        recipients = [a for a in recipients if a]
        owner = owner_of_key(key)
        if recipients:
            self._add(key, kind, recipients, name, context, ids, level, unit, "email", total)
        for channel in self.robots.get(owner or "", []):
            robot_context = {**context, OWNER: owner}
            self._add(
                f"{key}#{channel}", kind, [], name, robot_context, ids, level, unit, channel, total
            )

    def _add(self, key, kind, recipients, name, context, ids, level, unit, channel, total) -> None:
        self.pending.append(
            {
                "key": key,
                "kind": kind,
                "channel": channel,
                "recipients": list(recipients),
                "recipient_name": name,
                "assignment_id": ids[0] if len(ids) == 1 and total in (None, 1) else None,
                "level": level,
                "context": context,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": self.now,
                "last_error": None,
                "message_id": None,
                "as_of": self.as_of,
                "created_at": self.now,
                "sent_at": None,
            }
        )
        shown = list(recipients) if channel == "email" else [CHANNEL_LABELS[channel]]
        self.queued.append(
            Queued(key, kind, name, shown, level, unit, ids, channel=channel, total=total)
        )
        if len(self.pending) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.session.execute(sa.insert(Notification.__table__), self.pending)
            self.pending = []

    def done(self) -> list[Queued]:
        self.flush()
        return sorted(self.queued, key=lambda q: q.key)

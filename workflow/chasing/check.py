"""The daily check: ``run_check(session, as_of)`` decides what the office's clerk would do today.

One function, used by the daemon, by ``duban check`` and by the tests; deterministic for a given
date and database. In order:

0. **One check at a time.** :func:`check_database` takes the check lock before reading
   (PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``), so checks started together —
   the daemon's and any by hand, for the same or neighbouring dates — queue everything once.
1. **Overdue** (:mod:`.expiry`). Every assignment still waiting (assigned / in progress) whose
   due date is before ``as_of`` becomes overdue, ``overdue_since`` = the missed *due date*.
   The check's ``as_of`` is the day it runs (the daemon runs in the morning): work due that day
   is not overdue during its own working hours, and is marked by the first check of the next
   day. That is the evaluation's "as of D" (the end of day D) seen from the morning of D + 1. The
   transition comes from ``states/``; one ``INSERT … SELECT`` writes the history rows, one
   ``UPDATE … RETURNING id`` the rows (a row changed meanwhile fails the whole check, which rolls
   back and is simply run again).
2. **Notifications** (working days only: on a day off nothing is queued, the next working day
   catches up; ``[check] notify_on_days_off = true`` queues on days off too) into the outbox (:mod:`.planner` decides, :mod:`.covers` selects, :mod:`.mails`
   writes):

   * ``reminder`` / ``due_today`` at the policy's offsets (working days before due);
   * ``overdue`` to the unit, ``escalation`` to the leader in charge (level 1) and to the
     principal leader(s) (level 2), after the policy's working days overdue;
   * ``progress_request`` before each plan report date, for open work due after that date;
   * ``digest`` to each leader once per period (weekly on the policy's weekday, or daily).

Thresholds become due-date cutoffs (:mod:`.cutoffs`), so every selection is one set-based
statement: ``INSERT INTO chasecover … SELECT`` of the items due today that were not told before,
restricted to units whose recipient has an address; the check then reads this run's covers back,
streamed by unit, and writes the mails.

Grouping and exactly-once. A person gets one mail per kind per day: a unit's reminders in one
mail, its overdue notice in one; a leader's escalations of the day in one ``escalation`` mail
grouped by unit; on the leader's digest day they ride inside the digest. A leader's mail (and a
unit's overdue notice) lists at most ``[check] items_per_unit`` (20) items per unit and counts
the rest (``omitted``, with ``more_at``: the page or the command that lists them), and at most
``items_per_mail`` (200) items and ``units_per_mail`` (100) units in all, most overdue units
first, the others counted (see :mod:`.mails`), so no mail carries thousands of items. Each item told to an audience is a row of ``chasecover`` — keyed
(assignment, due date, ``r<offset>`` / ``o`` / ``p``), the ``o`` row holding one bit per level
told — and its text form (``r:<assignment>:<due>:<offset>``, ``o:<assignment>:<due>:<level>``,
``p:<assignment>:<report date>``) is kept in ``context["covers"]`` of the mail that lists it (a
bounded mail keeps those of the items it lists). An item covered is
never queued again, so running the check twice queues nothing new. The outbox key of a mail is
``<kind>:<recipient>:<as_of>:<hash of its covers>``; a digest's key is
``digest:<person>:<period>``.

Catch-up after downtime. Each run looks at where every assignment *is*: a reminder is due for the
latest offset already reached (missed offsets are not sent late one by one); an overdue
assignment is told once to every audience whose level it has reached — the unit its overdue
notice, the leader in charge the escalation, the principal the top-level escalation — each at its
own level, none twice. A digest missed on its weekday is sent on the next run of the same week,
as it would have been on its day (minus what was reported since).

Missing addresses. A unit without e-mail, a unit without a leader in charge, a leader without
e-mail, or no principal leader: nothing is queued for that recipient and the report carries a
warning; nothing is covered for it either, so once the office fills in the address the next run
queues what is still applicable.

Bad rows. An open assignment whose due date the calendar cannot count (before its first or after
its last year) is skipped with a warning naming it; everyone else's mails still go out.

SQL. A bounded number of statements whatever the number of assignments (about 30 on a working
day; executemany batches of outbox rows aside).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import states
from workflow.chasing.cutoffs import calendar_range
from workflow.chasing.expiry import expire
from workflow.chasing.items import KIND_LABELS, Queued, WorkdayCalendar
from workflow.chasing.planner import Planner
from workflow.chasing.policy import Policy
from workflow.errors import CalendarInputError, Conflict
from workflow.storage import pglocks
from workflow.storage.models import Notification

ITEM_KINDS = ("reminder", "due_today", "overdue", "escalation", "progress_request")
DATE_FIELDS = ("as_of", "due", "report_due", "last_report_at", "report_by", "requested_due")


@dataclass
class CheckReport:
    as_of: date
    working_day: bool
    expired: list[int] = field(default_factory=list)
    queued: list[Queued] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    notices: int = 0  # numbered 督办单 / 催办通知书 issued (workflow.chasing.notices)

    def counts(self) -> dict[str, int]:
        counts = {k: 0 for k in KIND_LABELS}
        for q in self.queued:
            counts[q.kind] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "working_day": self.working_day,
            "dry_run": self.dry_run,
            "expired": self.expired,
            "queued": [q.to_dict() for q in self.queued],
            "counts": self.counts(),
            "warnings": self.warnings,
            "notices": self.notices,
        }


# ---------------------------------------------------------------- the entry point


def run_check(
    session: Session,
    as_of: date,
    *,
    calendar: WorkdayCalendar,
    policy: Policy,
    now: datetime,
) -> CheckReport:
    """Bring assignments up to date as of ``as_of`` and queue what is due; see module doc."""
    session.flush()
    try:
        working = calendar.is_working_day(as_of)
        report = CheckReport(as_of=as_of, working_day=working)
        report.expired = expire(session, as_of, now, calendar_range(calendar)[0])
        if working or policy.notify_on_days_off:
            planner = Planner(session, as_of, calendar, policy, now)
            report.queued = planner.run()
            report.warnings = planner.warnings
            report.notices = planner.notices
    except ValueError as exc:  # calendars.CalendarError: a date outside the calendar's range
        if isinstance(exc, states.TransitionError):
            raise
        raise CalendarInputError(f"每日检查（{as_of}）无法计算工作日：{exc}") from None
    return report


def check_database(
    db,
    as_of: date,
    *,
    calendar: WorkdayCalendar,
    policy: Policy,
    now: datetime,
    dry_run: bool = False,
) -> CheckReport:
    """``run_check`` in its own transaction: committed, or rolled back for a dry run."""
    from sqlmodel import Session as SQLModelSession

    session = SQLModelSession(db.engine, expire_on_commit=False)
    try:
        one_check_at_a_time(session)
        report = run_check(session, as_of, calendar=calendar, policy=policy, now=now)
        report.dry_run = dry_run
        if dry_run:
            session.rollback()
        else:
            session.commit()
        return report
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def one_check_at_a_time(session) -> None:
    """Serialise checks (the daemon's and any ``duban check`` by hand) BEFORE the check reads,
    so the second sees what the first queued and queues nothing twice.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback. SQLite:
    ``BEGIN IMMEDIATE`` takes the database's write lock first (reading, then writing, would not
    be serialised); a check that cannot get it within the busy timeout is refused with one line.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        pglocks.xact_lock(conn, "duban-check")  # an advisory lock, or its fallback
        # a catch-up sorts hundreds of thousands of rows by unit: in memory, not on disk
        conn.execute(sa.text("set local work_mem = '64MB'"))
    elif conn.dialect.name == "sqlite":
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except sa.exc.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise Conflict(
                "另一个每日检查（或其他写入）正在运行，本次检查未执行；请稍后再运行 duban check"
            ) from None


_one_check_at_a_time = one_check_at_a_time  # the name the PostgreSQL test imports


def load_calendar(config) -> WorkdayCalendar:
    """The office's calendar (with its override files when ``workflow.dates.workdays`` provides it)."""
    try:
        from workflow.dates.workdays import load_calendar as load
    except ImportError:
        from calendars import ChinaCalendar

        return ChinaCalendar()
    return load(config)


def render_context(context: dict[str, Any]) -> dict[str, Any]:
    """A stored (JSON) context with its ISO dates turned back into ``date`` for the renderer."""

    def convert(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: convert(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if key in DATE_FIELDS and isinstance(value, str):
            return date.fromisoformat(value[:10])
        return value

    return convert(context)


def covers_of(rows: Iterable[Notification]) -> set[str]:
    """All cover keys carried by outbox rows (for tests and diagnostics)."""
    return {c for row in rows for c in (row.context or {}).get("covers", [])}

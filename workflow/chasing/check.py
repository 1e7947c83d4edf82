"""The daily check: ``run_check(session, as_of)`` decides what the office's clerk would do today.

One function, used by the daemon, by ``duban check`` and by the tests; deterministic for a given
date and database. In order:

1. **Overdue.** Every assignment still waiting (assigned / in progress) whose due date is before
   ``as_of`` becomes overdue, ``overdue_since`` = the missed *due date* (not the check date).
   The transition comes from ``states/``; the rows are changed in one bulk UPDATE guarded by the
   ``version`` column (the optimistic lock: a row changed meanwhile fails the whole check, which
   rolls back and is simply run again) plus one bulk INSERT of history rows.
2. **Notifications** (working days only: on a day off nothing is queued, the next working day
   catches up) into the outbox:

   * ``reminder`` / ``due_today`` at the policy's offsets (working days before due);
   * ``overdue`` to the unit, ``escalation`` to the leader in charge and then to the principal
     leader(s), after the policy's working days overdue;
   * ``progress_request`` before each plan report date, for open work due after that date;
   * ``digest`` to each leader once per period (weekly on the policy's weekday, or daily).

Grouping and exactly-once. A person gets one mail per kind per day, listing all their items:
a unit's reminders in one mail; a leader's escalations of the day in one mail (the
``escalation`` template when they concern one unit, the ``digest`` template grouped by unit,
titled 逾期升级报告, when several); on the leader's digest day they ride inside the digest.
Each item inside a mail is identified by a *cover* key — ``r:<assignment>:<due>:<offset>``,
``o:<assignment>:<due>:<level>``, ``p:<assignment>:<report date>`` — stored in the row's
``context["covers"]``; an item whose cover exists is never queued again, so running the check
twice queues nothing new, and work added later in the day still gets its own mail. The outbox key
of a grouped mail is ``<kind>:<recipient>:<as_of>:<hash of its covers>``; a digest's key is
``digest:<person>:<period>``.

Catch-up after downtime. Each run looks at where every assignment *is*, not at what happened
since the last run: a reminder is due for the latest offset already reached (e.g. the due day),
so offsets missed while the daemon was down are not sent late one by one; an overdue assignment
is notified at the highest escalation level it has reached, lower levels missed are skipped.
A digest missed on its weekday is sent on the next run of the same week, with the content it
would have had on its day (minus what was reported since).

Missing addresses. A unit without e-mail, a unit without a leader in charge, a leader without
e-mail, or no principal leader: nothing is queued for that recipient and the report carries a
warning. Nothing is marked as covered either, so once the office fills in the address the next
run queues what is still applicable.

SQL. A fixed number of statements whatever the number of assignments (executemany batches aside):
one select of waiting rows to expire, one UPDATE and one INSERT (executemany), then one select
each for open assignments, their tasks, last reports, units, leaders, plans and existing covers,
one for existing keys and one flush of the new rows.
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
from workflow.models import Notification

ITEM_KINDS = ("reminder", "due_today", "overdue", "escalation", "progress_request")
DATE_FIELDS = ("as_of", "due", "report_due", "last_report_at", "report_by")


@dataclass
class CheckReport:
    as_of: date
    working_day: bool
    expired: list[int] = field(default_factory=list)
    queued: list[Queued] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

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
        if working:
            planner = Planner(session, as_of, calendar, policy, now)
            report.queued = planner.run()
            report.warnings = planner.warnings
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
        conn.execute(
            sa.text("select pg_advisory_xact_lock(hashtext('duban-check' || current_schema()))")
        )
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
    """The office's calendar (with its override files when ``workflow.workdays`` provides it)."""
    try:
        from workflow.workdays import load_calendar as load
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

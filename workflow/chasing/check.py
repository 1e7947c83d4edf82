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
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import states
from workflow.chasing.items import KIND_LABELS, Queued, WorkdayCalendar
from workflow.chasing.planner import Planner
from workflow.chasing.policy import Policy
from workflow.directory.roles import Caller
from workflow.errors import CalendarInputError, Conflict
from workflow.models import Assignment, History, Notification

ITEM_KINDS = ("reminder", "due_today", "overdue", "escalation", "progress_request")
DATE_FIELDS = ("as_of", "due", "report_due", "last_report_at")
SYSTEM = Caller.system()


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
        report.expired = _expire(session, as_of, now)
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
        _one_check_at_a_time(session)
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


def _one_check_at_a_time(session) -> None:
    """Serialise checks (the daemon's and a hand-run ``duban check``) on PostgreSQL: a
    transaction-level advisory lock, released at commit or rollback, so the second check sees
    what the first queued and queues nothing twice. SQLite's single writer does this already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("select pg_advisory_xact_lock(hashtext('duban-check' || current_schema()))")
        )


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


# ---------------------------------------------------------------- 1. overdue


def _expire(session: Session, as_of: date, now: datetime) -> list[int]:
    """Mark waiting assignments past due as overdue, in bulk; returns their ids."""
    table = Assignment.__table__
    sources = [s for s in states.STATES if "expire" in states.allowed_triggers(s)]
    rows = session.execute(
        sa.select(table.c.id, table.c.task_id, table.c.state, table.c.due, table.c.version)
        .where(table.c.state.in_(sources), table.c.due < as_of)
        .order_by(table.c.id)
    ).all()
    if not rows:
        return []
    transition: dict[str, str] = {}
    for state in {r.state for r in rows}:  # the lifecycle decides, once per source state
        transition[state] = states.fire(SimpleNamespace(state=state), "expire")[1]
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"), table.c.version == sa.bindparam("b_version"))
        .values(
            state=sa.bindparam("b_state"),
            overdue_since=sa.bindparam("b_due"),
            version=sa.bindparam("b_new_version"),
        )
    )
    params = [
        {
            "b_id": r.id,
            "b_version": r.version,
            "b_state": transition[r.state],
            "b_due": r.due,
            "b_new_version": r.version + 1,
        }
        for r in rows
    ]
    result = session.execute(update, params, execution_options={"synchronize_session": False})
    if result.rowcount not in (-1, len(rows)):
        raise Conflict(
            f"每日检查标记逾期时有 {len(rows) - result.rowcount} 项任务刚被他人修改，本次检查未保存，请重新运行"
        )
    session.execute(
        sa.insert(History.__table__),
        [
            {
                "assignment_id": r.id,
                "task_id": r.task_id,
                "entity": "assignment",
                "action": "expire",
                "from_state": r.state,
                "to_state": transition[r.state],
                "actor": SYSTEM.name,
                "role": SYSTEM.role,
                "reason": None,
                "data": {"due": r.due.isoformat(), "as_of": as_of.isoformat()},
                "at": now,
            }
            for r in rows
        ],
    )
    _expire_loaded(session, {r.id for r in rows})
    return [r.id for r in rows]


def _expire_loaded(session: Session, ids: set[int]) -> None:
    """Refresh ORM copies of rows changed behind the session's back."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Assignment) and obj.id in ids:
            session.expire(obj)


def covers_of(rows: Iterable[Notification]) -> set[str]:
    """All cover keys carried by outbox rows (for tests and diagnostics)."""
    return {c for row in rows for c in (row.context or {}).get("covers", [])}

"""Benchmark ``run_check`` over many open assignments: time and number of SQL statements.

    python bench/bench_check.py                      # 100,000 on SQLite
    python bench/bench_check.py --sizes 100000 1000000
    python bench/bench_check.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
    (or DUBAN_BENCH_DATABASE_URL / DUBAN_TEST_DATABASE_URL: PostgreSQL runs in a fresh schema)

The data: 1,000 units (10 leaders in charge, 1 principal), N / 1,000 tasks each assigned to
every unit, due dates spread over 2026, everything still open; on PostgreSQL then vacuumed,
analysed and checkpointed, as a database is some minutes after an import (:func:`settle`).
Timed, each rolled back and run again until the fastest three agree within 10% (``--runs``,
:mod:`steady`; the load average is printed before and after):

* ``first``, as of 2026-06-15: the catch-up of half a year, about half the assignments become
  overdue (bulk UPDATE + history), every unit gets its overdue/escalation mail, reminders go out;
* ``first``, as of 2026-12-01: an office installing late in the year, ~79% overdue at once;
  each ``first`` beside its raw-SQL floor (the same UPDATE and history INSERT by hand) and the
  ratio;
* ``again``: 1 December again after its first check was committed: nothing new;
* ``next``: the next working day, with the whole late-year backlog overdue.

Statements are counted with a ``before_cursor_execute`` listener (an executemany counts once).
The checks run in a child process (the data is populated by another), so its peak resident
memory (``ru_maxrss``) is the check's own. The figures before the rework (issue 18, measured on
this 2-core machine at 1,000,000) are printed beside the new ones.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import steady  # noqa: E402

from calendars import ChinaCalendar  # noqa: E402
from workflow.chasing.check import run_check  # noqa: E402
from workflow.chasing.policy import Policy  # noqa: E402
from workflow.dates.clock import SHANGHAI  # noqa: E402
from workflow.storage.db import Database  # noqa: E402
from workflow.storage.models import Assignment, Person, Task, Unit  # noqa: E402

UNITS = 1000
AS_OF = date(2026, 6, 15)
LATE = date(2026, 12, 1)  # an office installing late in the year: ~790,000 overdue at once
# Measured before the set-based rework (issue 18), 1,000,000 open assignments, this machine.
OLD = {
    "SQLite": "first 38 s, again 10 s, peak 1.1 GB",
    "PostgreSQL": "first 72–86 s, again ~10 s, peak 1.1 GB",
}
# Issue 32, 1,000,000, this machine: the late-year backlog before its fix
OLD_32 = {
    "SQLite": "first 5.3 s mid-June, 14.3 s on 1 December; again 1.25-2.4 s",
    "PostgreSQL": "first 6.6 s mid-June, > 11 min on 1 December (raw SQL 16 s)",
}
TARGET = (
    "first < 10 s on SQLite and within 1.5x of the raw-SQL floor on PostgreSQL, in any month;"
    " again < 1 s; peak < 400 MB"
)


def populate(db: Database, n: int) -> None:
    tasks = max(1, n // UNITS)
    now = datetime(2026, 1, 5, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Person.__table__),
            [
                {"name": f"领导{i}", "email": f"leader{i}@bench.example", "principal": i == 0}
                for i in range(11)
            ],
        )
        leaders = list(
            conn.execute(sa.select(Person.id).where(Person.principal.is_(False))).scalars()
        )
        conn.execute(
            sa.insert(Unit.__table__),
            [
                {
                    "name": f"单位{i:04d}",
                    "aliases": [],
                    "groups": [],
                    "emails": [f"unit{i}@bench.example"],
                    "leader_id": leaders[i % len(leaders)],
                    "active": True,
                }
                for i in range(UNITS)
            ],
        )
        unit_ids = list(conn.execute(sa.select(Unit.id).order_by(Unit.id)).scalars())
        conn.execute(
            sa.insert(Task.__table__),
            [
                {
                    "kind": "manual",
                    "title": f"任务{t}",
                    "section_path": ["一、基准测试"],
                    "lead_units": [],
                    "responsible_units": [],
                    "cooperating_units": [],
                    "created_at": now,
                }
                for t in range(tasks)
            ],
        )
        task_ids = list(conn.execute(sa.select(Task.id).order_by(Task.id)).scalars())
        batch: list[dict] = []
        for t, task_id in enumerate(task_ids):
            due = date(2026, 1, 10) + timedelta(days=(t * 355) // len(task_ids))
            for unit_id in unit_ids:
                batch.append(
                    {
                        "task_id": task_id,
                        "unit_id": unit_id,
                        "role": "responsible",
                        "period": "",
                        "state": "assigned" if (t + unit_id) % 3 else "in_progress",
                        "due": due,
                        "original_due": due,
                        "due_provisional": False,
                        "late": False,
                        "returned_count": 0,
                        "version": 1,
                        "created_at": now,
                    }
                )
                if len(batch) >= 50_000:
                    conn.execute(sa.insert(Assignment.__table__), batch)
                    batch = []
        if batch:
            conn.execute(sa.insert(Assignment.__table__), batch)


def settle(db: Database) -> None:
    """Leave the freshly populated database as one in use is: on PostgreSQL, ``VACUUM
    ANALYZE``, which autovacuum runs within a minute of a bulk import (hint bits set, visibility
    map and statistics current), and a checkpoint. Timing the check against the bulk load's
    untouched pages, with autovacuum starting on them meanwhile, measured the load as much as
    the check (21 s against 16 s on the previous session's machine, before this session's index
    changes; 9.4 s against 9.5 s after them). SQLite has nothing of the kind."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        # and written out, as the next checkpoint (every 5 minutes) does; not a superuser:
        # the checkpointer will do it, maybe during the check
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.execute(sa.text("CHECKPOINT"))


def _vacuum(db: Database) -> None:
    """Between rolled-back repeats on PostgreSQL: clear the dead rows the last one left."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM assignment, history, chasecover, notification"))


def timed_check(
    db: Database, as_of: date, calendar, policy, commit: bool
) -> tuple[float, int, int, int]:
    """One ``run_check`` as of ``as_of`` with its commit (or its rollback, to run it again)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    from sqlmodel import Session as SQLModelSession

    sa.event.listen(db.engine, "before_cursor_execute", count)
    start = time.perf_counter()
    session = SQLModelSession(db.engine, expire_on_commit=False)
    try:
        report = run_check(
            session,
            as_of,
            calendar=calendar,
            policy=policy,
            now=datetime(as_of.year, as_of.month, as_of.day, 9, tzinfo=SHANGHAI),
        )
        if commit:
            session.commit()
            elapsed = time.perf_counter() - start
        else:
            elapsed = time.perf_counter() - start  # the commit's share is in the committed run
            session.rollback()
    finally:
        session.close()
    sa.event.remove(db.engine, "before_cursor_execute", count)
    if not commit:
        _vacuum(db)
    return elapsed, len(statements), len(report.expired), len(report.queued)


def floor(db: Database, as_of: date) -> float:
    """The raw-SQL floor of a first check: the expiry's UPDATE and history INSERT alone, written
    by hand, on the same data (rolled back)."""
    pg = db.engine.dialect.name == "postgresql"
    data = (
        "json_build_object('due', due::text, 'as_of', CAST(:as_of_text AS text))"
        if pg
        else "json_object('due', due, 'as_of', :as_of_text)"
    )
    where = (
        "state IN ('assigned', 'in_progress') AND due < :as_of AND due >= :first"
        " AND clock_paused_on IS NULL"
    )
    params = {"as_of": as_of, "as_of_text": as_of.isoformat(), "first": date(2004, 1, 1)}
    params["now"] = datetime(as_of.year, as_of.month, as_of.day, 1, tzinfo=UTC)
    with db.engine.connect() as conn:
        start = time.perf_counter()
        conn.execute(
            sa.text(
                "INSERT INTO history (assignment_id, task_id, entity, action, from_state,"
                " to_state, actor, role, data, at) SELECT id, task_id, 'assignment', 'expire',"
                f" state, 'overdue', 'system', 'system', {data}, :now FROM assignment"
                f" WHERE {where}"
            ),
            params,
        )
        conn.execute(
            sa.text(
                "UPDATE assignment SET state = 'overdue', overdue_since = due,"
                f" version = version + 1 WHERE {where}"
            ),
            params,
        )
        elapsed = time.perf_counter() - start
        conn.rollback()
    _vacuum(db)
    return elapsed


def run_checks(url: str, runs: int) -> list[dict]:
    """The timed checks, in this process (a child of :func:`bench`): the first check as of
    mid-June and as of 1 December, each rolled back and run again until steady, the raw-SQL
    floor of each; then the December one committed, the same day again and the next day."""
    db = Database(url)
    calendar, policy = ChinaCalendar(), Policy()
    calendar.is_working_day(AS_OF)  # build the calendar index outside the timing
    out = []

    def record(name: str, day: date, result: steady.Steady, info: tuple, floor_s=None) -> None:
        out.append(
            {
                "name": name,
                "day": day.isoformat(),
                "seconds": result.median,
                "describe": result.describe(),
                "statements": info[0],
                "expired": info[1],
                "queued": info[2],
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "floor": floor_s,
            }
        )

    def measured(day: date, commit_last: bool = False):
        info: list = []

        def once() -> float:
            elapsed, statements, expired, queued = timed_check(db, day, calendar, policy, False)
            info[:] = [statements, expired, queued]
            return elapsed

        return steady.repeat_until_steady(once, max_runs=runs), tuple(info)

    for name, day in (("first", AS_OF), ("first", LATE)):
        result, info = measured(day)
        low = steady.repeat_until_steady(lambda day=day: floor(db, day), max_runs=runs)
        record(name, day, result, info, low.median)
    timed_check(db, LATE, calendar, policy, True)  # the late-year backlog, committed
    next_day = calendar.add_working_days(LATE, 1)
    for name, day in (("again", LATE), ("next", next_day)):
        result, info = measured(day)
        record(name, day, result, info)
    db.engine.dispose()
    return out


def bench(label: str, db: Database, n: int, runs: int) -> None:
    db.upgrade()
    print(steady.load_line(label), flush=True)
    start = time.perf_counter()
    populate(db, n)
    print(
        f"[{label}] {n:,} open assignments, {UNITS} units: populated in {time.perf_counter() - start:.1f}s",
        flush=True,
    )
    settle(db)
    url = db.engine.url.render_as_string(hide_password=False)
    db.engine.dispose()
    child = subprocess.run(
        [sys.executable, __file__, "--run-checks", url, "--runs", str(runs)],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        sys.exit(f"[{label}] the checks failed:\n{child.stderr}")
    for r in json.loads(child.stdout.strip().splitlines()[-1]):
        ratio = ""
        if r["floor"]:
            ratio = (
                f"\n[{label}]        raw-SQL floor (UPDATE + history INSERT) {r['floor']:.2f}s:"
                f" check / floor = {r['seconds'] / r['floor']:.2f}x"
            )
        print(
            f"[{label}] {r['name']:5s} {r['day']}: {r['seconds']:7.2f}s  "
            f"{r['statements']:3d} SQL statements  expired {r['expired']:,}  "
            f"queued {r['queued']:,}  peak {r['peak_mb']:.0f} MB (process so far)\n"
            f"[{label}]        {r['describe']}{ratio}"
        )
    print(steady.load_line(label))
    print(f"[{label}] before (issue 18, 1,000,000): {OLD[label]}; issue 32: {OLD_32[label]}")
    print(f"[{label}] target: {TARGET}")


def sqlite_db(n: int) -> tuple[Database, Path]:
    directory = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    return Database(f"sqlite:///{directory / 'bench.db'}"), directory


def pg_db(url: str) -> tuple[Database, str, sa.Engine]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return Database(scoped.render_as_string(hide_password=False)), schema, admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000], help="e.g. 100000 1000000"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("DUBAN_BENCH_DATABASE_URL")
        or os.environ.get("DUBAN_TEST_DATABASE_URL"),
        help="PostgreSQL URL (a fresh schema is created and dropped)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--runs", type=int, default=5, help="at most this many runs of each timing (default 5)"
    )
    parser.add_argument("--run-checks", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_checks:
        print(json.dumps(run_checks(args.run_checks, args.runs)))
        return
    import shutil

    for n in args.sizes:
        if not args.no_sqlite:
            db, directory = sqlite_db(n)
            try:
                bench("SQLite", db, n, args.runs)
            finally:
                db.engine.dispose()
                shutil.rmtree(directory, ignore_errors=True)
        if args.pg:
            db, schema, admin = pg_db(args.pg)
            try:
                bench("PostgreSQL", db, n, args.runs)
            finally:
                db.engine.dispose()
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()

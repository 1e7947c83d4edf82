"""Importing a ledger into the database: plan, tasks, assignments; re-import and dry run.

:func:`import_ledger` reads the file, parses it, reads every deadline, resolves every unit and
then writes, all in the caller's session (one transaction: the caller commits, any error rolls
everything back). A plan is identified by its year and title, a task by its ``source_key`` (its
number, see :func:`workflow.ledger.parsed.assign_keys`), an assignment by (task, unit,
period). So importing the same file again changes nothing, and an edited version changes only
what differs: changed task fields, new or changed assignments, and assignments of units (or
tasks) no longer in the file are cancelled (撤销) through the lifecycle, with a reason. When a
later version lists them again, the assignments an import cancelled are reopened (恢复); the
ones the office cancelled by hand stay cancelled, with a warning. A due date the office already
extended keeps its extension; only ``original_due`` follows the file.

New tasks and assignments are written in a few multi-row INSERTs (:mod:`workflow.ledger.apply`).
``dry_run`` computes the same changes without writing the new rows; changes to existing rows
(few) are made and rolled back, so the preview is what an import would do. The session must
have nothing else pending.

Imports of one database are serialised (a transaction-level advisory lock on PostgreSQL, the
write lock taken before the first read on SQLite): six ``duban import`` of one file started
together make one plan, and the others find it "已是最新".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.dates.clock import local_date
from workflow.directory.roles import Caller, require_role
from workflow.ledger.apply import LedgerApplier, NewTask
from workflow.ledger.parse import parse_ledger
from workflow.ledger.periods import counting_start, issued_in, skip_early_periods
from workflow.ledger.planning import PlannedLedger, plan_ledger
from workflow.ledger.prose import ProseLedger, resolve_paragraph_units
from workflow.ledger.readers import read_source
from workflow.ledger.resolve import UnitResolver
from workflow.ledger.restore import Restorer
from workflow.ledger.result import ImportResult, TaskView, task_view
from workflow.storage import pglocks
from workflow.storage.models import Unit

Progress = Callable[[int, int], None]


def one_import_at_a_time(session: Session) -> None:
    """Hold the database's import lock until this transaction ends.

    PostgreSQL: a transaction-level advisory lock per schema. SQLite: a write that matches no
    row takes the database's write lock at once (reads after it see every committed import;
    another writer waits up to ``busy_timeout``)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        pglocks.xact_lock(session.connection(), "duban-import")  # advisory, or its fallback
    elif dialect == "sqlite":
        session.execute(sa.text("UPDATE plan SET year = year WHERE 0"))


def directory_names(session: Session) -> frozenset[str]:
    """Every unit name, alias and group of the directory: a column of them holds units.

    Read on a connection of its own, in a transaction of its own: the session's first read
    must come after the import lock (see :func:`one_import_at_a_time`), and the file is parsed
    before the lock is taken, so that imports wait on each other only for their writes."""
    query = sa.select(Unit.name, Unit.aliases, Unit.groups)
    bind = session.get_bind()
    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            rows = conn.execute(query).all()
    else:
        rows = session.execute(query).all()
    names: set[str] = set()
    for name, aliases, groups in rows:
        names.add(name)
        names.update(aliases or ())
        names.update(groups or ())
    return frozenset(names)


def read_ledger(
    path: str | Path,
    *,
    calendar: Any,
    plan_year: int | None = None,
    report_dates: list[date] | None = None,
    sheet: str | None = None,
    limits: Any = None,
    columns: dict[str, str] | None = None,
    known: frozenset[str] = frozenset(),
    rest_day: str = "next",
) -> PlannedLedger:
    """Read, parse and date a ledger file (no database); ``columns``: the office's column
    roles (see :func:`workflow.ledger.choice.parse_columns`); ``rest_day``: where a written-out
    deadline on a day off goes."""
    parsed = parse_ledger(read_source(path, sheet=sheet, limits=limits), columns, known)
    return plan_ledger(
        parsed, calendar=calendar, year=plan_year, dates=report_dates, rest_day=rest_day
    )


def import_ledger(
    session: Session,
    caller: Caller,
    path: str | Path,
    *,
    calendar: Any,
    now: datetime,
    plan_year: int | None = None,
    report_dates: list[date] | None = None,
    sheet: str | None = None,
    create_units: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    limits: Any = None,
    columns: dict[str, str] | None = None,
    rest_day: str = "next",
    periods_from: str = "issued",
    issued: date | None = None,
) -> ImportResult:
    """Import (or, with ``dry_run``, preview) a ledger file. Office only.

    ``periods_from`` and ``issued``: which periodic obligations are left out because they were
    due before the plan counts (see :mod:`workflow.ledger.periods`).
    """
    require_role(caller, "office", "导入台账")
    planned = read_ledger(
        path,
        calendar=calendar,
        plan_year=plan_year,
        report_dates=report_dates,
        sheet=sheet,
        limits=limits,
        columns=columns,
        known=directory_names(session),
        rest_day=rest_day,
    )
    if not dry_run:
        one_import_at_a_time(session)
    restorer = Restorer(session, caller, now, planned, path, dry_run=dry_run)
    resolver = UnitResolver(session, caller, now, create_units=create_units)
    if isinstance(planned.parsed, ProseLedger):  # paragraphs: unknown units warn in a dry run
        resolved = resolve_paragraph_units(resolver, planned, dry_run=dry_run)
    else:
        resolved = resolver.resolve_all([t.parsed for t in planned.tasks], planned.parsed.path)
    applier = LedgerApplier(session, caller, now, planned, dry_run=dry_run)
    plan, action = applier.plan()
    start, why = counting_start(
        periods_from,
        issued=issued or issued_in(f"{planned.parsed.title}\n{planned.parsed.intro}"),
        imported=local_date(plan.created_at or now),
        plan_year=planned.year,
    )
    skipped = skip_early_periods(planned, start, why)
    if skipped:
        applier.warnings.append(skipped)
    existing = applier.existing_tasks(plan)
    views: list[tuple[TaskView, Any]] = []
    total = len(planned.tasks)
    created: list[tuple[Any, Any]] = []  # (planned task, new task): records restore these
    for index, (pt, units) in enumerate(zip(planned.tasks, resolved, strict=True), start=1):
        if restorer.known(plan, pt):  # a hand-added or event task the plan already holds
            continue
        task, status = applier.apply_task(plan, existing.get(pt.parsed.key), pt, units)
        views.append((task_view(pt, units, status, None), task))
        if status == "created":
            created.append((pt, task))
        if progress is not None:
            progress(index, total)
    applier.remove_missing(plan, {t.parsed.key for t in planned.tasks})
    applier.write_new(plan)
    session.flush()
    for view, task in views:
        view.task_id = task.id if not isinstance(task, NewTask) or not dry_run else None
    restorer.apply([(pt, task.id) for pt, task in created])
    applier.changes.extend(restorer.changes)
    applier.warnings.extend(restorer.warnings)
    if action == "unchanged" and any(applier.counts.values()):
        action = "update"
    if action == "update" and applier.source_change:
        applier.changes.insert(0, applier.source_change)
    created = [u.name for u in resolver.created]
    for name in created:
        applier.changes.insert(0, f"新建单位“{name}”")
    plan_view = {
        "id": None if dry_run and action == "create" else plan.id,
        "title": plan.title,
        "year": plan.year,
        "issuer": plan.issuer,
        "report_dates": list(plan.report_dates),
        "source_file": plan.source_file,
        "action": action,
        "year_source": planned.year_source,
        "report_dates_source": planned.report_dates_source,
    }
    result = ImportResult(
        plan=plan_view,
        tasks=[view for view, _ in views],
        warnings=list(dict.fromkeys(applier.warnings)),
        changes=applier.changes,
        counts=applier.counts,
        created_units=created,
        dry_run=dry_run,
        columns=list(planned.parsed.columns),
        unused=[u.to_dict() for u in planned.parsed.unused],
    )
    if dry_run:
        session.rollback()
    return result

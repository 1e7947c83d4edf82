"""Evidence that still opens (issue 31): which links are due a check, running them, the flags.

A report's evidence links (items of ``Report.evidence`` that start with http:// or https://;
document numbers are left alone) are checked when reported (no check yet), again while the
assignment awaits verification (``[evidence] recheck_days`` after the last check) and once at
year end (from ``[evidence] year_end``, 12-20). Each (report, link) keeps its first result (the
reference) and its latest; a link is flagged when its latest check did not open it or its
page's SHA-256 differs from the first check's. The outside evaluators look at the published
page, so these flags show on the 待核验 page and in the evaluation workbook.

The daemon runs :func:`run_due_checks` with its upkeep job; ``duban evidence check`` runs the
same. Pages are fetched outside any transaction; each result is written in its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.config import Config
from workflow.dates.clock import local_date, parse_date
from workflow.directory.roles import Caller, require_role
from workflow.storage.db import Database
from workflow.storage.models import Assignment, EvidenceCheck, Report
from workflow.tasks.evidence_fetch import (
    EvidenceSettings,
    PageCheck,
    check_link,
    evidence_settings,
)

STAGE_LABELS = {"reported": "报送时", "verify": "核验前", "year_end": "年终"}
AWAITING_VERIFICATION = "reported"


@dataclass(frozen=True)
class DueCheck:
    report_id: int
    assignment_id: int
    url: str
    stage: str


def links_of(evidence: Iterable[str] | None) -> list[str]:
    """The items of a report's evidence that are web links (文号 and other text are skipped)."""
    seen: list[str] = []
    for item in evidence or []:
        text = str(item).strip()
        if text.lower().startswith(("http://", "https://")) and text not in seen:
            seen.append(text)
    return seen


def _year_end(day: date, settings: EvidenceSettings) -> date:
    month, dom = (int(x) for x in settings.year_end.split("-"))
    return date(day.year, month, dom)


def due_checks(session: Session, as_of: date, settings: EvidenceSettings) -> list[DueCheck]:
    """Every (report, link) due a check on ``as_of``, oldest report first."""
    rows = session.exec(
        select(Report.id, Report.assignment_id, Report.evidence, Assignment.state)
        .join(Assignment, Assignment.id == Report.assignment_id)
        .order_by(Report.id)
    ).all()
    checks = {
        (c.report_id, c.url): c
        for c in session.exec(select(EvidenceCheck)).all()  # one row per (report, link)
    }
    year_end = _year_end(as_of, settings)
    due: list[DueCheck] = []
    for report_id, assignment_id, evidence, state in rows:
        for url in links_of(evidence):
            last = checks.get((report_id, url))
            if last is None:
                due.append(DueCheck(report_id, assignment_id, url, "reported"))
                continue
            last_day = local_date(last.latest_at)
            if as_of >= year_end and last_day < year_end:
                due.append(DueCheck(report_id, assignment_id, url, "year_end"))
            elif state == AWAITING_VERIFICATION and as_of >= last_day + timedelta(
                days=settings.recheck_days
            ):
                due.append(DueCheck(report_id, assignment_id, url, "verify"))
    return due


def record(session: Session, due: DueCheck, page: PageCheck, now: datetime) -> EvidenceCheck:
    """Keep ``page`` as the latest result of ``due`` (and as the first, for a new link)."""
    row = session.exec(
        select(EvidenceCheck).where(
            EvidenceCheck.report_id == due.report_id, EvidenceCheck.url == due.url
        )
    ).first()
    if row is None:
        row = EvidenceCheck(
            report_id=due.report_id,
            assignment_id=due.assignment_id,
            url=due.url,
            first_at=now,
            first_status=page.status,
            first_hash=page.sha256,
            checks=0,
        )
    elif row.first_hash is None and page.opens:  # it never opened before: this is the reference
        row.first_status, row.first_hash = page.status, page.sha256
    row.latest_at = now
    row.latest_stage = due.stage
    row.latest_status = page.status
    row.latest_final_url = page.final_url
    row.latest_title = page.title
    row.latest_hash = page.sha256
    row.latest_pub_date = page.pub_date
    row.latest_error = page.error
    row.checks += 1
    session.add(row)
    return row


def run_due_checks(
    db: Database,
    config: Config,
    now: datetime,
    as_of: date | None = None,
    fetch: Callable[[str, EvidenceSettings], PageCheck] | None = None,
    budget: float | None = None,
) -> dict[str, Any]:
    """Check the links due on ``as_of`` (default: today), at most ``max_per_run`` and
    ``per_host_per_minute`` per host, and no new fetch after ``budget`` seconds (the daemon's
    upkeep job must stay short); the rest wait for the next run."""
    import time

    settings = evidence_settings(config)
    day = as_of or local_date(now)
    fetch = fetch or check_link
    with db.session() as session:
        due = due_checks(session, day, settings)
    per_host: dict[str, int] = {}
    done: list[dict[str, Any]] = []
    deferred = 0
    deadline = None if budget is None else time.monotonic() + budget
    for item in due:
        host = (urlsplit(item.url).hostname or "").lower()
        if (
            len(done) >= settings.max_per_run
            or per_host.get(host, 0) >= settings.per_host_per_run
            or (deadline is not None and time.monotonic() >= deadline)
        ):
            deferred += 1
            continue
        per_host[host] = per_host.get(host, 0) + 1
        page = fetch(item.url, settings)
        with db.session() as session:
            row = record(session, item, page, now)
            done.append(_describe(row))
    flagged = [d for d in done if d["flag"]]
    return {
        "as_of": day.isoformat(),
        "checked": len(done),
        "flagged": len(flagged),
        "deferred": deferred,
        "results": done,
    }


def flag_of(row: EvidenceCheck) -> str | None:
    """Why the link is flagged (Chinese), or None."""
    if row.latest_error:
        return row.latest_error
    if row.latest_status is None or not 200 <= row.latest_status < 300:
        return f"打不开（HTTP {row.latest_status}）"
    if row.first_hash and row.latest_hash != row.first_hash:
        return "页面内容已变化（与报送时首次检查不同）"
    return None


def _describe(row: EvidenceCheck) -> dict[str, Any]:
    return {
        "report_id": row.report_id,
        "assignment_id": row.assignment_id,
        "url": row.url,
        "stage": row.latest_stage,
        "stage_label": STAGE_LABELS.get(row.latest_stage, row.latest_stage),
        "status": row.latest_status,
        "final_url": row.latest_final_url,
        "title": row.latest_title,
        "sha256": row.latest_hash,
        "pub_date": row.latest_pub_date,
        "checked_at": row.latest_at.isoformat() if row.latest_at else None,
        "checks": row.checks,
        "flag": flag_of(row),
    }


def flagged_links(
    session: Session, assignment_ids: Iterable[int] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """The flagged evidence links per assignment (all assignments, or those given)."""
    query = select(EvidenceCheck).order_by(EvidenceCheck.report_id, EvidenceCheck.id)
    if assignment_ids is not None:
        ids = list(assignment_ids)
        if not ids:
            return {}
        query = query.where(EvidenceCheck.assignment_id.in_(ids))  # type: ignore[attr-defined]
    out: dict[int, list[dict[str, Any]]] = {}
    for row in session.exec(query).all():
        if flag_of(row):
            out.setdefault(row.assignment_id, []).append(_describe(row))
    return out


# -- the doors (workflow/calls/table.py) ---------------------------------------------------


def evidence_check(
    db: Database, caller: Caller, config: Config, now: datetime, as_of: str | None = None
) -> dict[str, Any]:
    """Office only: run the checks due on ``as_of`` (default today)."""
    require_role(caller, "office", "检查报送佐证链接")
    day = parse_date(as_of, "{field} 日期", "as_of") if as_of else None
    return run_due_checks(db, config, now, day)


def evidence_flags(session: Session, caller: Caller) -> list[dict[str, Any]]:
    """Office only: every flagged link."""
    require_role(caller, "office", "查看佐证链接检查结果")
    return [link for links in flagged_links(session).values() for link in links]


EVIDENCE_HEADERS = ("任务编号", "责任单位", "任务", "佐证链接", "最近检查", "问题", "首次检查")


def flagged_for_plans(session: Session, plan_ids: Iterable[int]) -> list[list[Any]]:
    """The flagged links of the plans' assignments, as rows under :data:`EVIDENCE_HEADERS`
    (the evaluation workbook's sheet: the evaluators open the published page, not the report)."""
    from workflow.dates.clock import SHANGHAI
    from workflow.storage.models import Task, Unit

    rows = session.exec(
        select(EvidenceCheck, Task.title, Unit.name)
        .join(Assignment, Assignment.id == EvidenceCheck.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Task.plan_id.in_(list(plan_ids)))  # type: ignore[union-attr]
        .order_by(EvidenceCheck.assignment_id, EvidenceCheck.id)
    ).all()

    def when(instant: datetime | None) -> str:
        return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if instant else ""

    return [
        [row.assignment_id, unit, title, row.url, when(row.latest_at), flag, when(row.first_at)]
        for row, title, unit in rows
        if (flag := flag_of(row))
    ]

"""The office's queue of reports to verify (待核验): reported assignments with their last report."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.directory.roles import Caller, require_role
from workflow.storage.models import Assignment, Report, Task, Unit
from workflow.tasks.assignments import assignment_view
from workflow.tasks.evidence import flagged_links


def reports_to_verify(session: Session, caller: Caller) -> list[dict[str, Any]]:
    """Every reported (已报送) assignment, oldest report first, with the report and evidence."""
    require_role(caller, "office", "查看待核验的报送")
    latest = (
        sa.select(Report.assignment_id, sa.func.max(Report.id).label("report_id"))
        .group_by(Report.assignment_id)
        .subquery()
    )
    rows = session.exec(
        select(Assignment, Task, Unit, Report)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(latest, latest.c.assignment_id == Assignment.id)
        .join(Report, Report.id == latest.c.report_id)
        .where(Assignment.state == "reported")
        .order_by(Report.created_at, Assignment.id)
    ).all()
    flags = flagged_links(session, [a.id for a, *_ in rows])
    out = []
    for a, task, unit, report in rows:
        view = assignment_view(a, task, unit)
        # evidence links that no longer open or whose page changed (issue 31): {url: why}
        view["evidence_flags"] = {
            f["url"]: f["flag"] for f in flags.get(a.id, []) if f["report_id"] == report.id
        }
        view["report"] = {
            "text": report.text,
            "evidence": list(report.evidence),
            "actor": report.actor,
            "at": report.created_at,
            "late": report.late,
        }
        out.append(view)
    return out

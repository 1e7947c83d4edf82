"""The daily check as the doors call it (see ``workflow/calls/table.py``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflow.chasing.check import KIND_LABELS, check_database, load_calendar
from workflow.chasing.policy import load_policy
from workflow.config import Config
from workflow.dates.clock import local_date, parse_date
from workflow.directory.roles import Caller, require_role
from workflow.storage.db import Database


def check(
    db: Database,
    caller: Caller,
    config: Config,
    now: datetime,
    as_of: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Office only. ``{"result": the report, "display": its lines and table cells}``."""
    require_role(caller, "office", "运行每日检查")
    day = parse_date(as_of, "{field} 日期", "as_of") if as_of else local_date(now)
    policy = load_policy(config)
    calendar = load_calendar(config)
    report = check_database(db, day, calendar=calendar, policy=policy, now=now, dry_run=dry_run)
    kind = "工作日" if report.working_day else "休息日，不发送通知"
    prefix = "（演练，未写入）" if report.dry_run else ""
    return {
        "result": report.to_dict(),
        "display": {
            "headline": f"{prefix}{report.as_of}（{kind}）：标记逾期 {len(report.expired)} 项，"
            f"排队通知 {len(report.queued)} 封"
            + (f"，印发督办单/催办通知书 {report.notices} 份" if report.notices else ""),
            "queued": [
                [
                    KIND_LABELS[q.kind],
                    q.recipient_name,
                    q.unit or "",
                    q.count,
                    "、".join(q.recipients),
                ]
                for q in report.queued
            ],
            "warnings": list(report.warnings) + _provisional(calendar, day),
        },
    }


def _provisional(calendar: Any, day: Any) -> list[str]:
    """The provisional-calendar warning when ``day``'s year is not confirmed yet (the national
    notice, or the office's region's): which days are worked may still change."""
    from workflow.dates.workdays import provisional_message

    check = getattr(calendar, "is_provisional", None)
    message = provisional_message([day.year]) if check and check(day.year) else None
    return [message] if message else []


# ------------------------------------------------------------------ 督办单 / 催办通知书


def notice_list(
    session: Session,
    caller: Caller,
    year: int | None = None,
    unit: str | None = None,
    assignment_id: int | None = None,
) -> list[dict[str, Any]]:
    """Notices the caller may see: the office all, a unit its own, a leader their units'."""
    from workflow.chasing.notices import list_notices

    return list_notices(session, caller, year=year, unit=unit, assignment_id=assignment_id)


def notice_show(session: Session, caller: Caller, ref: str) -> dict[str, Any]:
    from workflow.chasing.notices import get_notice, notice_view

    return notice_view(get_notice(session, caller, ref))


def notice_export(session: Session, caller: Caller, ref: str, path: str) -> dict[str, Any]:
    """Write the notice as .docx to ``path`` (atomically); returns the notice and the path."""
    from workflow.chasing.notice_docx import render_notice
    from workflow.chasing.notices import get_notice, notice_view
    from workflow.errors import InvalidInput
    from workflow.writing.files import atomic_write

    view = notice_view(get_notice(session, caller, ref))
    target = Path(path)
    if target.suffix.lower() != ".docx":
        raise InvalidInput(f"导出文件应以 .docx 结尾：{path}")
    atomic_write(target, lambda tmp: render_notice(view, tmp))
    return {**view, "path": str(target)}

"""The daily check as the doors call it (see ``workflow/calls/table.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflow.chasing.check import KIND_LABELS, check_database, load_calendar
from workflow.chasing.policy import load_policy
from workflow.clock import local_date, parse_date
from workflow.config import Config
from workflow.db import Database
from workflow.directory.roles import Caller, require_role


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
    day = parse_date(as_of, "--as-of 日期") if as_of else local_date(now)
    policy = load_policy(config)
    calendar = load_calendar(config)
    report = check_database(db, day, calendar=calendar, policy=policy, now=now, dry_run=dry_run)
    kind = "工作日" if report.working_day else "休息日，不发送通知"
    prefix = "（演练，未写入）" if report.dry_run else ""
    return {
        "result": report.to_dict(),
        "display": {
            "headline": f"{prefix}{report.as_of}（{kind}）：标记逾期 {len(report.expired)} 项，"
            f"排队通知 {len(report.queued)} 封",
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
    from workflow.workdays import provisional_message

    check = getattr(calendar, "is_provisional", None)
    message = provisional_message([day.year]) if check and check(day.year) else None
    return [message] if message else []

"""The audit log's operations as the doors call them (see ``workflow/calls/table.py``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflow.audit.reading import (
    AuditFilter,
    audit_settings,
    export_events,
    list_events,
    prune,
    require_reader,
)
from workflow.audit.record import entry_for
from workflow.config import Config
from workflow.dates.clock import parse_date


def _filter(
    since: str | None,
    until: str | None,
    action: str | None,
    actor: str | None,
    outcome: str | None,
    address: str | None,
    limit: int | None,
) -> AuditFilter:
    return AuditFilter(
        since=parse_date(since, "起始日期") if since else None,
        until=parse_date(until, "截止日期") if until else None,
        action=action or None,
        actor=actor or None,
        outcome=outcome or None,
        address=address or None,
        limit=limit,
    )


def audit_list(
    session: Session,
    caller: Any,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    address: str | None = None,
    limit: int | None = 200,
) -> list[dict[str, Any]]:
    where = _filter(since, until, action, actor, outcome, address, limit)
    return list_events(session.connection(), caller, where)


def audit_export(
    session: Session,
    caller: Any,
    path: str,
    since: str | None = None,
    until: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    where = _filter(since, until, action, actor, outcome, address, None)
    count = export_events(session.connection(), caller, where, Path(path))
    return {"path": path, "rows": count}


def audit_verify(session: Session, caller: Any) -> dict[str, Any]:
    from workflow.audit.chain import verify

    require_reader(caller)
    return verify(session.connection()).to_dict()


def audit_prune(session: Session, caller: Any, config: Config, now: datetime) -> dict[str, Any]:
    require_reader(caller)
    settings = audit_settings(config)
    actor = entry_for(caller, "audit.prune", now, door="api" if caller.address else "cli")
    return prune(session.connection(), settings, now, actor)

"""The auditor's page ``/office/audit``: the audit log with filters and the chain's verdict.

Who may read it is decided by :func:`workflow.audit.reading.may_read` (the 审计员, or the office
of issue 29 later), the same check as ``duban audit list``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from workflow.audit.actions import ACTION_LABELS, OUTCOME_LABELS
from workflow.audit.calls import audit_list, audit_verify
from workflow.audit.reading import may_read
from workflow.web.pages.frame import PageRoute, Visitor, render, unit_of_work, visitor

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/office/audit")
def audit_page(
    request: Request,
    since: str = "",
    until: str = "",
    action: str = "",
    actor: str = "",
    outcome: str = "",
    address: str = "",
    who: Visitor = Depends(visitor),
) -> Response:
    filters = {
        "since": since,
        "until": until,
        "action": action,
        "actor": actor,
        "outcome": outcome if outcome in OUTCOME_LABELS else "",
        "address": address,
    }
    if not may_read(who.caller):
        page_audit(request, who.caller, "audit.read", "denied", target="/office/audit")
    with unit_of_work(request) as session:
        rows = audit_list(
            session, who.caller, **{k: v or None for k, v in filters.items()}, limit=500
        )
        verdict = audit_verify(session, who.caller)
    return render(
        request,
        "office/audit.html",
        who,
        rows=rows,
        verdict=verdict,
        filters=filters,
        actions=ACTION_LABELS,
        outcomes=OUTCOME_LABELS,
    )


def page_audit(
    request: Request, caller: object, action: str, outcome: str = "ok", target: str | None = None
) -> None:
    """One audit row for something done on the pages (sign-in, sign-out, import…)."""
    from workflow.audit.record import record
    from workflow.web.deps import remote_address, server_state
    from workflow.web.pages.frame import now

    record(
        server_state(request).db,
        caller,
        action,
        now(),
        door="page",
        outcome=outcome,
        target=target,
        address=remote_address(request) or None,
    )


@contextmanager
def page_import_audit(request: Request, caller: object, name: str, dry_run: bool) -> Iterator[None]:
    """Around an import on the pages: a row when it succeeds (not a dry run) or is refused."""
    from workflow.audit.record import outcome_of
    from workflow.errors import PermissionDenied

    try:
        yield
    except PermissionDenied as exc:  # other failures leave the database as it was
        page_audit(request, caller, "import", outcome_of(exc), target=name)
        raise
    if not dry_run:
        page_audit(request, caller, "import", target=name)

"""The directory's operations as the doors call them (see ``workflow/calls/table.py``): plain
values in, plain data out; permission is decided by the functions they call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.directory.plans import list_plans, show_plan
from workflow.directory.roles import Caller
from workflow.directory.tokens import issue_token, list_tokens, revoke_token
from workflow.directory.units import (
    add_leader,
    add_unit,
    edit_unit,
    list_leaders,
    list_units,
    resolve_unit,
    unit_view,
)


def whoami(caller: Caller) -> dict[str, Any]:
    return {"role": caller.role, "name": caller.name}


def token_issue(
    session: Session, caller: Caller, now: datetime, holder: str, role: str = "unit"
) -> dict[str, Any]:
    return {"token": issue_token(session, caller, holder, now, role=role)}


def token_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    return list_tokens(session, caller)


def token_revoke(session: Session, caller: Caller, now: datetime, token_id: int) -> dict[str, Any]:
    t = revoke_token(session, caller, token_id, now)
    return {"id": t.id, "holder": t.label, "role": t.role, "revoked": True}


def unit_add(
    session: Session,
    caller: Caller,
    now: datetime,
    name: str,
    aliases: list[str] | None = None,
    groups: list[str] | None = None,
    emails: list[str] | None = None,
    leader: str | None = None,
) -> dict[str, Any]:
    u = add_unit(
        session,
        caller,
        name,
        now,
        aliases=aliases or [],
        groups=groups or [],
        emails=emails or [],
        leader=leader,
    )
    return unit_view(session, u)


def unit_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    return list_units(session)


def unit_show(session: Session, caller: Caller, name: str) -> dict[str, Any]:
    return unit_view(session, resolve_unit(session, name))


def unit_edit(
    session: Session,
    caller: Caller,
    now: datetime,
    name: str,
    add_aliases: list[str] | None = None,
    remove_aliases: list[str] | None = None,
    add_groups: list[str] | None = None,
    remove_groups: list[str] | None = None,
    add_emails: list[str] | None = None,
    remove_emails: list[str] | None = None,
    leader: str | None = None,
    rename: str | None = None,
    deactivate: bool = False,
) -> dict[str, Any]:
    u = edit_unit(
        session,
        caller,
        name,
        now,
        add_aliases=add_aliases or [],
        remove_aliases=remove_aliases or [],
        add_groups=add_groups or [],
        remove_groups=remove_groups or [],
        add_emails=add_emails or [],
        remove_emails=remove_emails or [],
        leader=leader,
        rename=rename,
        active=False if deactivate else None,
    )
    return unit_view(session, u)


def leader_add(
    session: Session,
    caller: Caller,
    now: datetime,
    name: str,
    email: str | None = None,
    title: str | None = None,
    principal: bool = False,
) -> dict[str, Any]:
    p = add_leader(session, caller, name, now, email=email, title=title, principal=principal)
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "title": p.title,
        "principal": p.principal,
    }


def leader_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    return list_leaders(session)


def plan_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    return list_plans(session)


def plan_show(session: Session, caller: Caller, plan: str | None = None) -> dict[str, Any]:
    return show_plan(session, plan)

"""The directory's operations as the doors call them (see ``workflow/calls/table.py``): plain
values in, plain data out; permission is decided by the functions they call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.config import Config
from workflow.directory.plans import show_plan
from workflow.directory.robots import edit_leader, edit_unit_and_robots, robot_change
from workflow.directory.roles import Caller, require_role
from workflow.directory.tokens import issue_token, revoke_token
from workflow.directory.units import (
    add_leader,
    add_unit,
    leader_view,
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


def _seen_by(caller: Caller, view: dict[str, Any]) -> dict[str, Any]:
    """A unit's view as ``caller`` may see it: a unit sees another unit's name, aliases and
    groups only — its e-mail addresses, leader and group robots (their fingerprints and the
    mobiles they mention) stay with the office, the leaders and the unit itself. The keys stay,
    emptied, so every door renders both alike."""
    if caller.role != "unit" or view["id"] == caller.unit_id:
        return view
    return {**view, "emails": [], "leader": None, "robots": []}


def unit_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    return [_seen_by(caller, view) for view in list_units(session)]


def unit_show(session: Session, caller: Caller, name: str) -> dict[str, Any]:
    return _seen_by(caller, unit_view(session, resolve_unit(session, name)))


def unit_edit(
    session: Session,
    caller: Caller,
    config: Config,
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
    robot: str | None = None,
    robot_token: str | None = None,
    robot_secret: str | None = None,
    remove_robots: list[str] | None = None,
    robot_mentions: list[str] | None = None,
) -> dict[str, Any]:
    """The directory fields and the unit's group robots. ``robot``: a kind to set with
    ``robot_token`` (the key, or the whole webhook address) and an optional ``robot_secret``,
    or ``"none"`` to remove every robot; ``remove_robots``: kinds to remove;
    ``robot_mentions``: the @mention mobiles (``[]`` clears them). Keys are never returned."""
    require_role(caller, "office", "管理单位名录")
    change = robot_change(robot, robot_token, robot_secret, remove_robots, robot_mentions)
    u = edit_unit_and_robots(
        session,
        caller,
        config,
        name,
        now,
        change,
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


def unit_import(
    session: Session, caller: Caller, now: datetime, file: str, dry_run: bool = False
) -> dict[str, Any]:
    """A directory sheet (.xlsx / .csv): the preview (``dry_run``) or the units written."""
    from pathlib import Path

    from workflow.directory.sheet import import_directory

    return import_directory(session, caller, Path(file), now, dry_run=dry_run)


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
    return leader_view(session, p)


def leader_edit(
    session: Session,
    caller: Caller,
    config: Config,
    now: datetime,
    name: str,
    email: str | None = None,
    title: str | None = None,
    robot: str | None = None,
    robot_token: str | None = None,
    robot_secret: str | None = None,
    remove_robots: list[str] | None = None,
    robot_mentions: list[str] | None = None,
) -> dict[str, Any]:
    """E-mail (``""`` clears it), title and the leader's group robots (as :func:`unit_edit`)."""
    require_role(caller, "office", "管理领导名录")
    change = robot_change(robot, robot_token, robot_secret, remove_robots, robot_mentions)
    p = edit_leader(session, caller, config, name, now, email=email, title=title, robots=change)
    return leader_view(session, p)


def leader_list(session: Session, caller: Caller) -> list[dict[str, Any]]:
    """The leaders; a unit sees their names and titles, not their e-mail or robots."""
    leaders = list_leaders(session)
    if caller.role != "unit":
        return leaders
    return [{**view, "email": None, "robots": []} for view in leaders]


def plan_show(session: Session, caller: Caller, plan: str | None = None) -> dict[str, Any]:
    return show_plan(session, plan)

"""The account operations as the doors call them (see ``workflow/calls/table.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.accounts import manage
from workflow.directory.roles import Caller


def account_add(
    session: Session,
    caller: Caller,
    now: datetime,
    name: str,
    role: str,
    unit: str | None = None,
    email: str | None = None,
    mobile: str | None = None,
) -> dict[str, Any]:
    account, password = manage.add_account(
        session, caller, name, role, now, unit=unit, email=email, mobile=mobile
    )
    return {**manage.account_view(session, account, now), "password": password}


def account_list(session: Session, caller: Caller, now: datetime) -> list[dict[str, Any]]:
    return manage.list_accounts(session, caller, now)


def account_show(session: Session, caller: Caller, now: datetime, name: str) -> dict[str, Any]:
    return manage.show_account(session, caller, name, now)


def account_edit(
    session: Session,
    caller: Caller,
    now: datetime,
    name: str,
    role: str | None = None,
    unit: str | None = None,
    email: str | None = None,
    mobile: str | None = None,
    rename: str | None = None,
) -> dict[str, Any]:
    account = manage.edit_account(
        session, caller, name, now, roles=role, unit=unit, email=email, mobile=mobile, rename=rename
    )
    return manage.account_view(session, account, now)


def account_lock(session: Session, caller: Caller, now: datetime, name: str) -> dict[str, Any]:
    return manage.account_view(session, manage.lock_account(session, caller, name, now), now)


def account_unlock(session: Session, caller: Caller, now: datetime, name: str) -> dict[str, Any]:
    return manage.account_view(session, manage.unlock_account(session, caller, name, now), now)


def account_reset_password(
    session: Session, caller: Caller, now: datetime, name: str
) -> dict[str, Any]:
    account, password = manage.reset_password(session, caller, name, now)
    return {"id": account.id, "name": account.name, "password": password}


def account_remove(session: Session, caller: Caller, now: datetime, name: str) -> dict[str, Any]:
    return manage.remove_account(session, caller, name, now)

"""Managing accounts: add, list, show, edit, lock, unlock, reset the password, remove.

Permission: the security administrator (安全管理员); the office's clerks as long as no account
holds that duty (see :meth:`workflow.directory.roles.Caller.holds`). Every function takes the
session and the caller and leaves the commit to the door.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import delete, select, update

from workflow.accounts.passwords import check_strength, hash_password, initial_password
from workflow.directory.roles import ACCOUNT_ROLES, ROLE_LABELS, WORK_ROLES, Caller
from workflow.directory.web_sessions import end_account_sessions
from workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Account, SignInLink, Token, Unit

MAX_NAME = 40  # a person's name: "张三（单位）" must fit the history's actor (100)
LOCKED_FOREVER = datetime(9999, 12, 31, tzinfo=UTC)  # locked by hand: until unlocked
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^\+?[0-9][0-9-]{5,19}$")


def require_security(caller: Caller, action: str) -> None:
    if not caller.holds("security"):
        who = f"{ROLE_LABELS.get(caller.role, caller.role)} {caller.name}"
        raise PermissionDenied(f"无权{action}：仅安全管理员可以操作（当前身份：{who}）")


def parse_roles(roles: str | list[str] | tuple[str, ...]) -> list[str]:
    """``office,security`` (or a list) → the checked roles, in the canonical order."""
    given = roles.split(",") if isinstance(roles, str) else list(roles)
    given = [r.strip() for r in given if r and r.strip()]
    unknown = [r for r in given if r not in ACCOUNT_ROLES]
    if unknown or not given:
        raise InvalidInput(
            f"角色无效：{'、'.join(unknown) or '（空）'}（可选 {' / '.join(ACCOUNT_ROLES)}，"
            "多个角色用逗号分隔）"
        )
    work = [r for r in given if r in WORK_ROLES]
    if len(work) > 1:
        raise InvalidInput(f"角色冲突：office、unit、leader 只能选一个（现为 {','.join(work)}）")
    return [r for r in ACCOUNT_ROLES if r in given]


def _unit(session: Session, unit: str | None, roles: list[str]) -> int | None:
    if "unit" in roles and not unit:
        raise InvalidInput("单位账号须指定所属单位", field="unit")
    if not unit:
        return None
    from workflow.directory.units import resolve_unit

    return resolve_unit(session, unit).id


def _contact(email: str | None, mobile: str | None) -> tuple[str | None, str | None]:
    email = (email or "").strip() or None
    mobile = (mobile or "").strip() or None
    if email and not _EMAIL.match(email):
        raise InvalidInput(f"电子邮箱格式不正确：{email}")
    if mobile and not _MOBILE.match(mobile):
        raise InvalidInput(f"手机号格式不正确：{mobile}")
    return email, mobile


def find_account(session: Session, name: str) -> Account:
    """An account by name (or by number: ``#3`` / ``3`` when no account has that name)."""
    key = (name or "").strip()
    row = session.exec(select(Account).where(Account.name == key)).first()
    if row is None and key.lstrip("#").isdigit():
        row = session.get(Account, int(key.lstrip("#")))
    if row is None:
        raise NotFound(f"账号不存在：{key}")
    return row


def account_view(session: Session, a: Account, now: datetime | None = None) -> dict[str, Any]:
    unit = session.get(Unit, a.unit_id) if a.unit_id else None
    locked = a.locked_until is not None and (now is None or a.locked_until > now)
    return {
        "id": a.id,
        "name": a.name,
        "roles": list(a.roles),
        "unit": unit.name if unit else None,
        "email": a.email,
        "mobile": a.mobile,
        "must_change_password": a.must_change,
        "locked": locked,
        "locked_until": a.locked_until if locked and a.locked_until != LOCKED_FOREVER else None,
        "failures": a.failures,
        "created_at": a.created_at,
        "password_changed_at": a.password_changed_at,
    }


def add_account(
    session: Session,
    caller: Caller,
    name: str,
    roles: str | list[str],
    now: datetime,
    unit: str | None = None,
    email: str | None = None,
    mobile: str | None = None,
) -> tuple[Account, str]:
    """A new account with a random initial password (returned once; changed at first sign-in)."""
    require_security(caller, "新增账号")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"账号名不能为空，且不超过 {MAX_NAME} 个字符")
    checked = parse_roles(roles)
    unit_id = _unit(session, unit, checked)
    email, mobile = _contact(email, mobile)
    if session.exec(select(Account).where(Account.name == name)).first() is not None:
        raise Conflict(f"账号已存在：{name}")
    password = initial_password()
    account = Account(
        name=name,
        roles=checked,
        unit_id=unit_id,
        email=email,
        mobile=mobile,
        password_hash=hash_password(password),
        must_change=True,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account, password


def list_accounts(session: Session, caller: Caller, now: datetime) -> list[dict[str, Any]]:
    require_security(caller, "查看账号")
    rows = session.exec(select(Account).order_by(Account.id)).all()
    return [account_view(session, a, now) for a in rows]


def show_account(session: Session, caller: Caller, name: str, now: datetime) -> dict[str, Any]:
    if not (caller.holds("security") or _is_self(caller, name, session)):
        require_security(caller, "查看账号")
    account = find_account(session, name)
    view = account_view(session, account, now)
    tokens = session.exec(
        select(Token).where(Token.account_id == account.id).order_by(Token.id)
    ).all()
    view["tokens"] = [
        {
            "id": t.id,
            "prefix": t.prefix,
            "label": t.label,
            "expires_at": t.expires_at,
            "last_used_at": t.last_used_at,
            "revoked": t.revoked_at is not None,
        }
        for t in tokens
    ]
    return view


def _is_self(caller: Caller, name: str, session: Session) -> bool:
    if caller.account_id is None:
        return False
    try:
        return find_account(session, name).id == caller.account_id
    except NotFound:
        return False


def edit_account(
    session: Session,
    caller: Caller,
    name: str,
    now: datetime,
    roles: str | list[str] | None = None,
    unit: str | None = None,
    email: str | None = None,
    mobile: str | None = None,
    rename: str | None = None,
) -> Account:
    """Change what is given (an empty e-mail or mobile clears it)."""
    require_security(caller, "修改账号")
    account = find_account(session, name)
    checked = parse_roles(roles) if roles is not None else list(account.roles)
    if unit is not None:
        account.unit_id = _unit(session, unit, checked) if unit.strip() else None
    if "unit" in checked and account.unit_id is None:
        raise InvalidInput("单位账号须指定所属单位", field="unit")
    account.roles = checked
    if email is not None or mobile is not None:
        new_email, new_mobile = _contact(email, mobile)
        if email is not None:
            account.email = new_email
        if mobile is not None:
            account.mobile = new_mobile
    if rename is not None and rename.strip() != account.name:
        rename = rename.strip()
        if not rename or len(rename) > MAX_NAME:
            raise InvalidInput(f"账号名不能为空，且不超过 {MAX_NAME} 个字符")
        if session.exec(select(Account).where(Account.name == rename)).first() is not None:
            raise Conflict(f"账号已存在：{rename}")
        account.name = rename
    session.add(account)
    session.flush()
    return account


def lock_account(session: Session, caller: Caller, name: str, now: datetime) -> Account:
    """Lock until unlocked; the account is signed out everywhere."""
    require_security(caller, "锁定账号")
    account = find_account(session, name)
    account.locked_until = LOCKED_FOREVER
    session.add(account)
    end_account_sessions(session, account.id)
    return account


def unlock_account(session: Session, caller: Caller, name: str, now: datetime) -> Account:
    require_security(caller, "解锁账号")
    account = find_account(session, name)
    account.locked_until = None
    account.failures = 0
    session.add(account)
    return account


def reset_password(
    session: Session, caller: Caller, name: str, now: datetime
) -> tuple[Account, str]:
    """A new one-time password (to change at the next sign-in); signed out everywhere."""
    require_security(caller, "重置密码")
    account = find_account(session, name)
    password = initial_password()
    account.password_hash = hash_password(password)
    account.must_change = True
    account.password_changed_at = now
    account.failures = 0
    if account.locked_until is not None and account.locked_until != LOCKED_FOREVER:
        account.locked_until = None
    session.add(account)
    end_account_sessions(session, account.id)
    return account, password


def remove_account(session: Session, caller: Caller, name: str, now: datetime) -> dict[str, Any]:
    """Remove an account: its tokens are revoked, its sessions and links end. History keeps the
    person's name as it was written."""
    require_security(caller, "删除账号")
    account = find_account(session, name)
    if caller.account_id == account.id:
        raise InvalidInput("不能删除自己正在使用的账号")
    view = {"id": account.id, "name": account.name, "removed": True}
    session.execute(
        update(Token)
        .where(Token.account_id == account.id, Token.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now)
    )
    end_account_sessions(session, account.id)
    session.execute(delete(SignInLink).where(SignInLink.account_id == account.id))
    session.delete(account)
    session.flush()
    return view


def change_password(
    session: Session, account_id: int, old: str, new: str, now: datetime
) -> Account:
    """The person changes their own password (required at first sign-in)."""
    from workflow.accounts.passwords import verify
    from workflow.errors import NotAuthenticated

    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("账号不存在")
    if not verify(account.password_hash, old):
        raise NotAuthenticated("原密码不正确")
    if new == old:
        raise InvalidInput("新密码不能与原密码相同")
    check_strength(new, account.name)
    account.password_hash = hash_password(new)
    account.must_change = False
    account.password_changed_at = now
    session.add(account)
    return account

"""Who presents a token: plain SQL over a :class:`workflow.storage.reading.Reader`, so read paths need
neither the ORM nor (on SQLite) SQLAlchemy.

:func:`workflow.directory.tokens.authenticate` (sessions, the server) uses
:func:`authenticate_connection`; the fast listing path (``duban task list``) uses
:func:`authenticate_reader` on its own reader.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from workflow.dates import clock
from workflow.directory.roles import DUTIES, ROLE_LABELS, WORK_ROLES, Caller
from workflow.errors import NotAuthenticated
from workflow.storage.reading import CoreReader, Reader


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def authenticate_reader(reader: Reader, token: str | None) -> Caller:
    """Turn a presented token into a Caller, or refuse."""
    if not token:
        raise NotAuthenticated(
            "未提供令牌：请设置环境变量 DUBAN_TOKEN 或运行 duban login", reason="token_missing"
        )
    row = reader.first(
        "SELECT id, role, unit_id, person_id, label, revoked_at, account_id, expires_at"
        " FROM token WHERE token_hash = :token_hash",
        token_hash=hash_token(token),
    )
    if row is None:
        raise NotAuthenticated(
            "令牌无效：请检查 DUBAN_TOKEN 或重新运行 duban login", reason="token_unknown"
        )
    token_id, role, unit_id, person_id, label, revoked_at, account_id, expires_at = row
    if revoked_at is not None:
        raise NotAuthenticated(
            f"令牌已吊销（{label}）：请向办公室申领新令牌", reason="token_revoked"
        )
    expires = _aware(expires_at)
    if expires is not None and expires <= clock.now():
        raise NotAuthenticated(
            f"令牌已过期（{label}）：请重新运行 duban login", reason="token_expired"
        )
    if account_id is not None:
        return account_caller(reader, account_id, token_id=token_id)
    if role == "unit":
        name = reader.first("SELECT name FROM unit WHERE id = :id", id=unit_id)
        return Caller(
            role="unit", name=name[0] if name else label, unit_id=unit_id, token_id=token_id
        )
    if role == "leader":
        name = reader.first("SELECT name FROM person WHERE id = :id", id=person_id)
        return Caller(
            role="leader", name=name[0] if name else label, person_id=person_id, token_id=token_id
        )
    return with_reserved(reader, Caller(role="office", name=label, token_id=token_id))


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _roles(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def reserved_duties(reader: Reader) -> tuple[str, ...]:
    """The 三员 duties some account holds: the office's clerks no longer have them."""
    held: set[str] = set()
    for (roles,) in reader.rows("SELECT roles FROM account"):
        held |= set(_roles(roles)) & set(DUTIES)
    return tuple(sorted(held))


def with_reserved(reader: Reader, caller: Caller) -> Caller:
    from dataclasses import replace

    return replace(caller, reserved=reserved_duties(reader))


def work_role(roles: list[str]) -> str:
    """The role a set of account roles acts as: its work role, else its first duty."""
    for role in (*WORK_ROLES, *DUTIES):
        if role in roles:
            return role
    raise NotAuthenticated("账号没有任何角色，请联系安全管理员")


def account_caller(reader: Reader, account_id: int, token_id: int | None = None) -> Caller:
    """The Caller of a person's account: named "张三（法规处）" so that every history row, audit
    row and decision records the person and their unit."""
    row = reader.first(
        "SELECT a.name, a.roles, a.unit_id, u.name FROM account a"
        " LEFT JOIN unit u ON u.id = a.unit_id WHERE a.id = :id",
        id=account_id,
    )
    if row is None:
        raise NotAuthenticated("账号已删除，请联系安全管理员")
    name, roles, unit_id, unit_name = row
    roles = _roles(roles)
    role = work_role(roles)
    person_id = None
    if role == "leader":
        found = reader.first("SELECT id FROM person WHERE name = :name", name=name)
        person_id = found[0] if found else None
    caller = Caller(
        role=role,
        name=f"{name}（{unit_name or ROLE_LABELS[role]}）"[:100],  # history's actor: 100
        unit_id=unit_id if role == "unit" else None,
        person_id=person_id,
        token_id=token_id,
        account_id=account_id,
        duties=tuple(r for r in DUTIES if r in roles),
    )
    return with_reserved(reader, caller) if role == "office" else caller


def authenticate_connection(conn: Any, token: str | None) -> Caller:
    """:func:`authenticate_reader` on a SQLAlchemy connection (a session's)."""
    return authenticate_reader(CoreReader(conn), token)

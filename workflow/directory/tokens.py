"""Tokens, roles and the permission check.

Roles: ``office`` (办公室: everything), ``unit`` (one 科室/单位: start and report its own
assignments), ``leader`` (领导: read). Tokens are random, shown once, stored as SHA-256 hashes
(they carry 192 bits of entropy, so a plain hash is enough) and can be revoked.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.dates import clock
from workflow.directory.callers import (
    account_caller,
    authenticate_connection,
    hash_token,
    with_reserved,
)
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, NotFound, PermissionDenied
from workflow.storage.models import Person, Token, Unit
from workflow.storage.reading import CoreReader

TOKEN_PREFIX = "dbn_"


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def _store(session: Session, role: str, label: str, now: datetime, **owner: int | None) -> str:
    token = _new_token()
    session.add(
        Token(
            token_hash=hash_token(token),
            prefix=token[:12],
            role=role,
            label=label,
            created_at=now,
            **owner,
        )
    )
    session.flush()
    return token


def create_office_token(session: Session, now: datetime) -> str:
    """The first office token, made by ``duban init``; refused if an office token exists."""
    existing = session.exec(
        select(Token).where(Token.role == "office", Token.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if existing is not None:
        raise Conflict("数据库已初始化，办公室令牌已存在（如遗失，请用现有办公室令牌签发新令牌）")
    return _store(session, "office", "办公室", now)


def issue_token(
    session: Session, caller: Caller, holder: str, now: datetime, role: str | None = None
) -> str:
    """Issue a token for a unit (default), a leader (``role='leader'``) or another office clerk."""
    require_role(caller, "office", "签发令牌")
    role = role or "unit"
    if role == "unit":
        from workflow.directory.units import resolve_unit

        unit = resolve_unit(session, holder)
        return _store(session, "unit", unit.name, now, unit_id=unit.id)
    if role == "leader":
        from workflow.directory.units import resolve_leader

        person = resolve_leader(session, holder)
        return _store(session, "leader", person.name, now, person_id=person.id)
    if role == "office":
        return _store(session, "office", holder or "办公室", now)
    raise PermissionDenied(f"未知角色：{role}（可选 unit / leader / office）")


def list_tokens(session: Session, caller: Caller) -> list[dict]:
    require_role(caller, "office", "查看令牌")
    rows = session.exec(select(Token).order_by(Token.id)).all()
    return [
        {
            "id": t.id,
            "prefix": t.prefix,
            "role": t.role,
            "holder": t.label,
            "created_at": t.created_at,
            "revoked": t.revoked_at is not None,
            "account_id": t.account_id,
            "expires_at": t.expires_at,
            "last_used_at": t.last_used_at,
        }
        for t in rows
    ]


def revoke_token(session: Session, caller: Caller, token_id: int, now: datetime) -> Token:
    require_role(caller, "office", "吊销令牌")
    token = session.get(Token, token_id)
    if token is None:
        raise NotFound(f"令牌 #{token_id} 不存在")
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
    return token


def authenticate(session: Session, token: str | None) -> Caller:
    """Turn a presented token into a Caller, or refuse (Core: see ``directory/callers.py``).
    A person's token notes when it was last used (at most once a minute)."""
    caller = authenticate_connection(session.connection(), token)
    if caller.account_id is not None and caller.token_id is not None:
        touch_token(session, caller.token_id, clock.now())
    return caller


def touch_token(session: Session, token_id: int, now: datetime) -> None:
    """Note a personal token's use (at most once a minute)."""
    session.execute(
        sa.update(Token)
        .where(
            Token.id == token_id,
            sa.or_(
                Token.last_used_at.is_(None),  # type: ignore[union-attr]
                Token.last_used_at < now - timedelta(minutes=1),  # type: ignore[operator]
            ),
        )
        .values(last_used_at=now)
    )


def caller_of(session: Session, row: Token) -> Caller:
    """The Caller a (valid) token row stands for."""
    if row.account_id is not None:
        return account_caller(CoreReader(session.connection()), row.account_id, token_id=row.id)
    if row.role == "unit":
        unit = session.get(Unit, row.unit_id)
        name = unit.name if unit else row.label
        return Caller(role="unit", name=name, unit_id=row.unit_id, token_id=row.id)
    if row.role == "leader":
        person = session.get(Person, row.person_id)
        name = person.name if person else row.label
        return Caller(role="leader", name=name, person_id=row.person_id, token_id=row.id)
    return with_reserved(
        CoreReader(session.connection()), Caller(role="office", name=row.label, token_id=row.id)
    )

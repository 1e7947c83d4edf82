"""Tokens, roles and the permission check.

Roles: ``office`` (办公室: everything), ``unit`` (one 科室/单位: start and report its own
assignments), ``leader`` (领导: read). Tokens are random, shown once, stored as SHA-256 hashes
(they carry 192 bits of entropy, so a plain hash is enough) and can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied
from workflow.models import Person, Token, Unit

TOKEN_PREFIX = "dbn_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


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
    """Turn a presented token into a Caller, or refuse."""
    if not token:
        raise NotAuthenticated("未提供令牌：请设置环境变量 DUBAN_TOKEN 或运行 duban login")
    row = session.exec(select(Token).where(Token.token_hash == hash_token(token))).first()
    if row is None:
        raise NotAuthenticated("令牌无效：请检查 DUBAN_TOKEN 或重新运行 duban login")
    if row.revoked_at is not None:
        raise NotAuthenticated(f"令牌已吊销（{row.label}）：请向办公室申领新令牌")
    if row.role == "unit":
        unit = session.get(Unit, row.unit_id)
        name = unit.name if unit else row.label
        return Caller(role="unit", name=name, unit_id=row.unit_id, token_id=row.id)
    if row.role == "leader":
        person = session.get(Person, row.person_id)
        name = person.name if person else row.label
        return Caller(role="leader", name=name, person_id=row.person_id, token_id=row.id)
    return Caller(role="office", name=row.label, token_id=row.id)

"""Who presents a token: the check on SQLAlchemy Core, so read paths need no ORM.

:func:`workflow.directory.tokens.authenticate` (sessions) and the fast listing path
(``duban task list``) both use :func:`authenticate_connection`.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from workflow.directory.roles import Caller
from workflow.errors import NotAuthenticated

_token = sa.table(
    "token",
    sa.column("id", sa.Integer),
    sa.column("token_hash", sa.String),
    sa.column("role", sa.String),
    sa.column("unit_id", sa.Integer),
    sa.column("person_id", sa.Integer),
    sa.column("label", sa.String),
    sa.column("revoked_at", sa.String),
)
_unit = sa.table("unit", sa.column("id", sa.Integer), sa.column("name", sa.String))
_person = sa.table("person", sa.column("id", sa.Integer), sa.column("name", sa.String))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def authenticate_connection(conn: sa.Connection, token: str | None) -> Caller:
    """Turn a presented token into a Caller, or refuse."""
    if not token:
        raise NotAuthenticated("未提供令牌：请设置环境变量 DUBAN_TOKEN 或运行 duban login")
    t = _token.c
    row = conn.execute(
        sa.select(t.id, t.role, t.unit_id, t.person_id, t.label, t.revoked_at).where(
            t.token_hash == hash_token(token)
        )
    ).first()
    if row is None:
        raise NotAuthenticated("令牌无效：请检查 DUBAN_TOKEN 或重新运行 duban login")
    if row.revoked_at is not None:
        raise NotAuthenticated(f"令牌已吊销（{row.label}）：请向办公室申领新令牌")
    if row.role == "unit":
        name = conn.execute(sa.select(_unit.c.name).where(_unit.c.id == row.unit_id)).scalar()
        return Caller(role="unit", name=name or row.label, unit_id=row.unit_id, token_id=row.id)
    if row.role == "leader":
        name = conn.execute(sa.select(_person.c.name).where(_person.c.id == row.person_id)).scalar()
        return Caller(
            role="leader", name=name or row.label, person_id=row.person_id, token_id=row.id
        )
    return Caller(role="office", name=row.label, token_id=row.id)

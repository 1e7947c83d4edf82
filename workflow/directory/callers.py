"""Who presents a token: plain SQL over a :class:`workflow.reading.Reader`, so read paths need
neither the ORM nor (on SQLite) SQLAlchemy.

:func:`workflow.directory.tokens.authenticate` (sessions, the server) uses
:func:`authenticate_connection`; the fast listing path (``duban task list``) uses
:func:`authenticate_reader` on its own reader.
"""

from __future__ import annotations

import hashlib
from typing import Any

from workflow.directory.roles import Caller
from workflow.errors import NotAuthenticated
from workflow.reading import CoreReader, Reader


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def authenticate_reader(reader: Reader, token: str | None) -> Caller:
    """Turn a presented token into a Caller, or refuse."""
    if not token:
        raise NotAuthenticated(
            "未提供令牌：请设置环境变量 DUBAN_TOKEN 或运行 duban login", reason="token_missing"
        )
    row = reader.first(
        "SELECT id, role, unit_id, person_id, label, revoked_at FROM token"
        " WHERE token_hash = :token_hash",
        token_hash=hash_token(token),
    )
    if row is None:
        raise NotAuthenticated(
            "令牌无效：请检查 DUBAN_TOKEN 或重新运行 duban login", reason="token_unknown"
        )
    token_id, role, unit_id, person_id, label, revoked_at = row
    if revoked_at is not None:
        raise NotAuthenticated(
            f"令牌已吊销（{label}）：请向办公室申领新令牌", reason="token_revoked"
        )
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
    return Caller(role="office", name=label, token_id=token_id)


def authenticate_connection(conn: Any, token: str | None) -> Caller:
    """:func:`authenticate_reader` on a SQLAlchemy connection (a session's)."""
    return authenticate_reader(CoreReader(conn), token)

"""What every request needs: the server's settings, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from workflow.config import Config
from workflow.db import Database
from workflow.directory.roles import Caller


@dataclass
class ServerState:
    """Shared by all requests of one server process; stateless across processes."""

    config: Config
    db: Database


def server_state(request: Request) -> ServerState:
    return request.app.state.duban


def db_session(request: Request) -> Iterator[Any]:
    """A unit of work per request: committed when the handler returns, rolled back on error."""
    with server_state(request).db.session() as session:
        yield session


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def remote_address(request: Request) -> str:
    return request.client.host if request.client else ""


def api_caller(request: Request, session: Any) -> Caller:
    """The caller behind the request's bearer token (401 when missing, unknown or revoked)."""
    from workflow.directory.tokens import authenticate

    return authenticate(session, bearer_token(request))

"""What every request needs: the server's settings, a database session, the caller.

:data:`CallerDep` is the API's authentication: a route that declares it runs only for a valid
bearer token (HTTP 401 otherwise, throttled per address, refusals audited) and receives the
:class:`~workflow.directory.roles.Caller` the token stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflow.config import CONFIG_FILE, Config, _default_config_dir, load_config
from workflow.directory.roles import Caller
from workflow.storage.db import Database
from workflow.web.throttle import Throttle


@dataclass
class ServerState:
    """Shared by all requests of one server process; stateless across processes."""

    config: Config
    db: Database
    throttle: Throttle
    # The environment settings are read from for each request (default: this process's).
    env: Callable[[], Mapping[str, str]] | None = None
    _config_cache: tuple[Any, Config] | None = field(default=None, repr=False)

    def current_config(self) -> Config:
        """duban.toml as it is now (the office may edit it while the server runs); the database
        stays the one the server started with. Read again when the environment or the file
        changed (its size or time stamp): a per-process copy, safe to lose."""
        import os

        env = dict(self.env() if self.env else os.environ)
        path = _default_config_dir(env) / CONFIG_FILE
        try:
            stat = path.stat()
            stamp: tuple = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            stamp = ()
        key = (tuple(sorted(env.items())), str(path), stamp)
        cached = self._config_cache
        if cached is None or cached[0] != key:
            cached = self._config_cache = (key, load_config(env))
        return cached[1]

    def now(self):
        """The server's clock: its own environment's ``DUBAN_NOW`` if pinned, else the time."""
        from workflow.dates import clock

        pinned = self.env().get("DUBAN_NOW") if self.env else None
        return clock.parse_instant(pinned) if pinned else clock.now()


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


# Declares the scheme in /api/v1/openapi.json; the token itself is read by bearer_token().
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A duban token (`duban token issue`): `Authorization: Bearer dbn_…`.",
)


async def api_caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> Caller:
    """The caller of an API request (resolved once per request): a counted attempt of the
    remote address; :class:`~workflow.errors.NotAuthenticated` (401) or
    :class:`~workflow.errors.TooManyRequests` (429) otherwise, recorded in the audit log."""
    known = getattr(request.state, "caller", None)
    if known is not None:
        return known
    from starlette.concurrency import run_in_threadpool

    from workflow.audit.record import record_refusal
    from workflow.errors import NotAuthenticated, TooManyRequests

    state = server_state(request)
    address = remote_address(request)
    token = bearer_token(request)
    try:
        caller = await state.throttle.guard(address, lambda: _caller_of(state, token))
    except (NotAuthenticated, TooManyRequests) as exc:
        await run_in_threadpool(record_refusal, state.db, address, state.now(), exc)
        raise
    request.state.caller = caller
    return caller


def _caller_of(state: ServerState, token: str | None) -> Caller:
    from workflow.calls.runner import database_errors
    from workflow.directory.callers import authenticate_connection

    with database_errors(), state.db.session() as session:
        return authenticate_connection(session.connection(), token)


CallerDep = Annotated[Caller, Depends(api_caller)]

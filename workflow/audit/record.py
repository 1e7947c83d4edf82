"""Recording: who (from the caller), from where (the door and the address), what, outcome.

The doors call :func:`record` (a transaction of its own, after the change committed or failed)
or :func:`operation_audit` around an operation. ``caller`` is anything with the attributes of
:class:`workflow.directory.roles.Caller` (role, name, unit_id, person_id, token_id): this room
sits below the directory, so the directory itself can record (token issue at ``duban init``).
A failure to write the audit row is logged loudly and never undoes the user's change.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import PurePath
from typing import Any

from workflow.audit.actions import AUDITED, target_of
from workflow.audit.chain import Entry, append_now
from workflow.errors import DubanError, NotAuthenticated, PermissionDenied, TooManyRequests

log = logging.getLogger("duban.audit")


@cache
def desk_address() -> str:
    """Where a local command runs: the system user and the host (no network address)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - a uid without a name
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"[:100]


def entry_for(
    caller: Any,
    action: str,
    now: datetime,
    *,
    door: str,
    outcome: str = "ok",
    target: str | None = None,
    address: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Entry:
    """An :class:`Entry` for ``caller`` (None: not signed in, "anonymous")."""
    return Entry(
        at=now,
        role=getattr(caller, "role", None) or "anonymous",
        actor=getattr(caller, "name", None) or "（未登录）",
        unit_id=getattr(caller, "unit_id", None),
        # a person's account (issue 29) when there is one, else the leader a token stands for
        person_id=getattr(caller, "account_id", None) or getattr(caller, "person_id", None),
        token_id=getattr(caller, "token_id", None),
        address=address
        or getattr(caller, "address", None)
        or (desk_address() if door == "cli" else None),
        door=door,
        action=action,
        outcome=outcome,
        target=target,
        detail=dict(detail) if detail else None,
    )


def record(db: Any, caller: Any, action: str, now: datetime, **how: Any) -> int | None:
    """Append one row in a transaction of its own; the row's id (None if it could not be written)."""
    try:
        return append_now(db.engine, entry_for(caller, action, now, **how))
    except Exception:  # noqa: BLE001 - the audit must not undo what already happened; say so loudly
        log.exception("审计日志写入失败：%s %s", action, how.get("outcome", "ok"))
        return None


def outcome_of(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, TooManyRequests):
        return "throttled"
    if isinstance(exc, PermissionDenied):
        return "denied"
    return "failed"


def _plain_target(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | PurePath) and ("/" in str(value) or "\\" in str(value)):
        return PurePath(str(value)).name  # a file: its name, not the server's temporary path
    return str(value)


@contextmanager
def operation_audit(
    db_of: Any,
    name: str,
    params: Mapping[str, Any],
    now: datetime,
    *,
    address: str | None,
    seen: dict[str, Any],
) -> Iterator[None]:
    """Around one operation of the table: a row when an audited one succeeds, and for any
    operation refused for want of a valid token or permission. ``seen["caller"]`` is
    set by the runner once the token is known; ``db_of()`` gives the database."""
    door = "api" if address else "cli"
    try:
        yield
    except DubanError as exc:
        # Refusals of a token or a permission are security events (等保: failed sign-ins);
        # other failures (bad input…) leave the database exactly as before, the audit log too.
        if isinstance(exc, PermissionDenied):
            action = "signin" if isinstance(exc, NotAuthenticated) else AUDITED.get(name, name)
            record(
                db_of(),
                seen.get("caller"),
                action,
                now,
                door=door,
                outcome=outcome_of(exc),
                target=_plain_target(target_of(name, params)),
                address=address,
                detail={"operation": name, "reason": exc.message[:200]},
            )
        raise
    if name in AUDITED and not params.get("dry_run"):  # a dry run changes and shows nothing
        record(
            db_of(),
            seen.get("caller"),
            AUDITED[name],
            now,
            door=door,
            target=_plain_target(target_of(name, params)),
            address=address,
            detail={"operation": name},
        )


def record_refusal(db: Any, address: str, now: datetime, exc: DubanError) -> int | None:
    """A request refused before any operation ran: a wrong token, or an address that failed
    too often (the throttle's lockout)."""
    return record(
        db,
        None,
        "signin",
        now,
        door="api",
        outcome=outcome_of(exc),
        address=address,
        detail={"reason": exc.message[:200]},
    )

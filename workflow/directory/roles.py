"""Roles and the permission check: who is acting, and what each role may do.

Roles: ``office`` (办公室: everything), ``unit`` (one 科室/单位: start and report its own
assignments), ``leader`` (领导: read).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.errors import PermissionDenied
from workflow.vocabulary import ROLES as VOCABULARY_ROLES
from workflow.vocabulary import Role

ROLES = VOCABULARY_ROLES  # a token's roles (workflow.vocabulary.Role, the system aside)
ROLE_LABELS = Role.labels()


@dataclass(frozen=True)
class Caller:
    """Who is acting. ``name`` (and, over HTTP, ``address``) is what the history records."""

    role: str
    name: str
    unit_id: int | None = None
    person_id: int | None = None
    token_id: int | None = None
    address: str | None = None  # the remote address of a request to the server (history)

    @classmethod
    def system(cls, name: str = "系统（每日检查）") -> Caller:
        return cls(role="system", name=name)


def require_role(caller: Caller, role: str | tuple[str, ...], action: str) -> None:
    """Refuse ``action`` unless the caller has one of the roles (the system acts as office)."""
    roles = (role,) if isinstance(role, str) else role
    if caller.role in roles or (caller.role == "system" and "office" in roles):
        return
    allowed = "、".join(ROLE_LABELS[r] for r in roles)
    raise PermissionDenied(
        f"无权{action}：仅{allowed}可以操作（当前身份：{ROLE_LABELS.get(caller.role, caller.role)} {caller.name}）"
    )

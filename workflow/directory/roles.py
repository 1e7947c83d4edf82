"""Roles and the permission check: who is acting, and what each role may do.

Roles: ``office`` (办公室: everything), ``unit`` (one 科室/单位: start and report its own
assignments), ``leader`` (领导: read).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.errors import PermissionDenied
from workflow.vocabulary import ACCOUNT_ROLES as VOCABULARY_ACCOUNT_ROLES
from workflow.vocabulary import DUTIES as VOCABULARY_DUTIES
from workflow.vocabulary import ROLES as VOCABULARY_ROLES
from workflow.vocabulary import WORK_ROLES as VOCABULARY_WORK_ROLES
from workflow.vocabulary import Role

ROLES = VOCABULARY_ROLES  # a token's roles (workflow.vocabulary.Role, the system aside)
# a person's account holds a set of roles (issue 29): one work role at most, plus the 三员 duties
ACCOUNT_ROLES = VOCABULARY_ACCOUNT_ROLES
WORK_ROLES = VOCABULARY_WORK_ROLES
DUTIES = VOCABULARY_DUTIES  # 安全管理员 manages accounts and locks; 审计员 reads the audit log
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
    account_id: int | None = (
        None  # a person's account (issue 29); ``name`` then reads "张三（法规处）"
    )
    duties: tuple[str, ...] = ()  # the account's 三员 duties (security, auditor)
    # duties some account holds in this database: the office then no longer has them (三员分立)
    reserved: tuple[str, ...] = ()

    def holds(self, duty: str) -> bool:
        """Whether the caller may act as ``duty`` (security | auditor): an account holding it,
        or the office (and the system) as long as no account in the database holds it."""
        if duty in self.duties:
            return True
        return self.role in ("office", "system") and duty not in self.reserved

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

"""Signing in as a person: password with lockout, one-time sign-in links, personal tokens.

Lockout: 5 wrong passwords in a row lock the account for 15 minutes, whatever address they come
from, across every server process. The attempt is counted *before* the password is checked, in
a transaction of its own (``failures = failures + 1`` only while under the limit and not locked),
so parallel guesses on several workers cannot get more than 5 checks; a right password sets the
count back to 0, the 5th wrong one sets ``locked_until``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.accounts.manage import LOCKED_FOREVER, find_account
from workflow.accounts.passwords import verify
from workflow.dates.clock import SHANGHAI
from workflow.directory.callers import account_caller, hash_token
from workflow.directory.roles import Caller
from workflow.directory.tokens import TOKEN_PREFIX
from workflow.errors import InvalidInput, NotAuthenticated
from workflow.storage.models import Account, SignInLink, Token
from workflow.storage.reading import CoreReader

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
LINK_VALID = timedelta(minutes=15)
TOKEN_DAYS = 90  # a personal token's default lifetime
WRONG = "账号或密码错误"


class AccountLocked(NotAuthenticated):
    """Too many wrong passwords (or locked by the security administrator); see :func:`locked`.
    (Built from the message alone too: the client raises it again from the server's answer.)"""

    def __init__(self, message: str, until: datetime | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.until = until


def locked(until: datetime | None) -> AccountLocked:
    """The refusal of a locked account, saying until when (Asia/Shanghai)."""
    if until is None or until == LOCKED_FOREVER:
        return AccountLocked("账号已锁定，请联系安全管理员解锁")
    local = until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return AccountLocked(f"账号已锁定，请于 {local} 之后再试（或联系安全管理员解锁）", until)


def _stamp(db: Any, value: datetime) -> Any:
    return value.replace(tzinfo=None) if db.dialect == "sqlite" else value


def _count_attempt(db: Any, name: str, now: datetime) -> int | None:
    """Count one attempt on ``name`` before its password is checked; the account's id (None
    for an unknown name). AccountLocked when it is locked or its 5 attempts are taken."""
    with db.session() as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None:
            return None
        if account.locked_until is not None:
            if account.locked_until > now:
                raise locked(account.locked_until)
            session.execute(  # the lock ran out: a fresh count
                sa.update(Account)
                .where(Account.id == account.id, Account.locked_until == account.locked_until)
                .values(locked_until=None, failures=0)
            )
        counted = session.execute(
            sa.update(Account)
            .where(
                Account.id == account.id,
                Account.failures < MAX_FAILURES,
                Account.locked_until.is_(None),  # type: ignore[union-attr]
            )
            .values(failures=Account.failures + 1)
        ).rowcount
        if not counted:
            session.rollback()
            until = session.get(Account, account.id).locked_until
            raise locked(until or now + LOCK_FOR)
        return account.id


def _settle(db: Any, account_id: int, right: bool, now: datetime) -> datetime | None:
    """After the check: a right password clears the count, the 5th wrong one locks. The lock's
    end when it locked."""
    with db.session() as session:
        if right:
            session.execute(sa.update(Account).where(Account.id == account_id).values(failures=0))
            return None
        until = now + LOCK_FOR
        locked = session.execute(
            sa.update(Account)
            .where(
                Account.id == account_id,
                Account.failures >= MAX_FAILURES,
                Account.locked_until.is_(None),  # type: ignore[union-attr]
            )
            .values(locked_until=until)
        ).rowcount
        return until if locked else None


def check_password(db: Any, name: str, password: str, now: datetime) -> Caller:
    """The Caller of ``name`` when ``password`` is right; NotAuthenticated ("账号或密码错误")
    or AccountLocked (with until when) otherwise. ``db`` is a :class:`workflow.storage.db.Database`:
    the count is committed before and after the check, whatever the door does next."""
    name = (name or "").strip()
    if not name or not password:
        raise InvalidInput("请输入账号和密码")
    account_id = _count_attempt(db, name, now)
    if account_id is None:
        verify(None, password)  # the same time as for a real account
        raise NotAuthenticated(WRONG, reason="password_wrong")
    with db.session() as session:
        stored = session.get(Account, account_id).password_hash
    right = verify(stored, password)
    until = _settle(db, account_id, right, now)
    if until is not None:
        raise locked(until)
    if not right:
        raise NotAuthenticated(WRONG, reason="password_wrong")
    with db.session() as session:
        return account_caller(CoreReader(session.connection()), account_id)


def must_change(session: Session, account_id: int | None) -> bool:
    """Whether the account still has the password the office set."""
    if account_id is None:
        return False
    account = session.get(Account, account_id)
    return bool(account and account.must_change)


# -- personal tokens ---------------------------------------------------------------------------
def issue_personal_token(
    session: Session,
    account_id: int,
    now: datetime,
    label: str | None = None,
    days: int = TOKEN_DAYS,
) -> str:
    """A token of the account (for ``duban login --server`` and scripts), valid ``days``."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotAuthenticated("账号不存在")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    role = next((r for r in ("office", "unit", "leader") if r in account.roles), "office")
    session.add(
        Token(
            token_hash=hash_token(token),
            prefix=token[:12],
            role=role,
            unit_id=account.unit_id,
            label=(label or account.name)[:100],
            created_at=now,
            account_id=account.id,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


# -- one-time sign-in links --------------------------------------------------------------------
def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def make_link(session: Session, name: str, now: datetime) -> tuple[Account, str]:
    """A one-time code for ``name`` (valid 15 minutes); the door mails it or posts it."""
    account = find_account(session, name)
    if account.locked_until is not None and account.locked_until > now:
        raise locked(account.locked_until)
    code = secrets.token_urlsafe(32)
    session.add(
        SignInLink(
            code_hash=_code_hash(code),
            account_id=account.id,
            created_at=now,
            expires_at=now + LINK_VALID,
        )
    )
    session.flush()
    return account, code


def use_link(session: Session, code: str, now: datetime) -> Caller:
    """The Caller of a sign-in link's code, used up by this call (only once, ever)."""
    row = session.exec(
        select(SignInLink).where(SignInLink.code_hash == _code_hash(code or ""))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotAuthenticated("登录链接无效或已过期，请重新获取")
    used = session.execute(
        sa.update(SignInLink)
        .where(SignInLink.id == row.id, SignInLink.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=now)
    ).rowcount
    if not used:
        raise NotAuthenticated("登录链接无效或已过期，请重新获取")
    account = session.get(Account, row.account_id)
    if account is None:
        raise NotAuthenticated("账号已删除")
    if account.locked_until is not None and account.locked_until > now:
        raise locked(account.locked_until)
    return account_caller(CoreReader(session.connection()), account.id)


def login_local(name: str, password: str, config: Any = None) -> tuple[str, Any]:
    """``duban login --account NAME`` on the database's machine: check the password (counted
    in the lockout), issue a personal token and save it like ``duban login TOKEN``."""
    from workflow.audit.record import record
    from workflow.config import load_config, save_token
    from workflow.dates import clock
    from workflow.storage.db import Database

    config = config or load_config()
    db = Database(config.database_url)
    db.ensure_ready()
    now = clock.now()
    try:
        caller = check_password(db, name, password, now)
    except NotAuthenticated as exc:
        record(
            db,
            None,
            "signin",
            now,
            door="cli",
            outcome="failed",
            target=name,
            detail={"reason": exc.message},
        )
        raise
    with db.session() as session:
        token = issue_personal_token(session, caller.account_id, now, label=f"{name} 命令行")
    record(db, caller, "signin", now, door="cli")
    return caller.name, save_token(config, token)


# -- a sign-in link by mail --------------------------------------------------------------------
LINK_KIND = "signin_link"


def queue_link_mail(session: Session, name: str, now: datetime) -> bool:
    """Queue a one-time sign-in link for the account ``name`` in the outbox (kind
    ``signin_link``, to the account's e-mail; the link is ``{[server] url}/login/link/{code}``,
    written at delivery). Quietly nothing (False) when there is no such account, it has no
    e-mail or it is locked: the door answers the same either way (no account enumeration).

    The code travels in the outbox row until it is delivered; it is valid 15 minutes and once,
    and delivery drops a row whose link has expired."""
    from workflow.dates.clock import local_date
    from workflow.errors import NotFound
    from workflow.storage.models import Notification

    try:
        account = find_account(session, name)
    except NotFound:
        return False
    email = account.email
    if not email or (account.locked_until is not None and account.locked_until > now):
        return False
    account, code = make_link(session, account.name, now)
    session.add(
        Notification(
            key=f"{LINK_KIND}:a{account.id}:{_code_hash(code)[:16]}",
            kind=LINK_KIND,
            channel="email",
            recipients=[email],
            recipient_name=account.name,
            context={
                "recipient": account.name,
                "as_of": local_date(now).isoformat(),
                "code": code,
                "minutes": int(LINK_VALID.total_seconds() // 60),
                "expires_at": (now + LINK_VALID).isoformat(),
            },
            as_of=local_date(now),
            created_at=now,
            next_attempt_at=now,
        )
    )
    session.flush()
    return True

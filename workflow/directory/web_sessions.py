"""Browser sessions for the pages: sign in with a token, stay signed in while active, sign out.

Stored server-side (table ``websession``) rather than in a signed cookie, so that several server
processes on one database share them without a shared secret, 退出 ends a session for good
(a copied cookie is worthless afterwards), and revoking the token ends every session opened
with it at the next request. The cookie carries a random id (256 bits); only its SHA-256 is
stored. Each session has its own CSRF token, which every form of the pages carries.

A session ends after ``[server] session_idle_minutes`` (default 30) without a request, and in any
case ``[server] session_max_days`` (default 7) after its sign-in, however active; rows of ended
sessions are purged at the next sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import delete, select

from workflow.directory.callers import account_caller
from workflow.directory.roles import Caller
from workflow.directory.tokens import authenticate, caller_of
from workflow.errors import ConfigError, NotAuthenticated
from workflow.storage.models import Account, Token, WebSession
from workflow.storage.reading import CoreReader

DEFAULT_IDLE_MINUTES = 30
MAX_IDLE_MINUTES = 7 * 24 * 60
DEFAULT_LIFETIME_DAYS = 7
MAX_LIFETIME_DAYS = 366
DEFAULT_LIFETIME = timedelta(days=DEFAULT_LIFETIME_DAYS)
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute per session
REMEMBER_FOR = timedelta(days=30)  # "remember this device" (issue 29): no idle timeout


@dataclass(frozen=True)
class SignedIn:
    caller: Caller
    csrf: str
    must_change: bool = False  # an account still on the password the office set


def idle_timeout(config: Any) -> timedelta:
    """``[server] session_idle_minutes`` of duban.toml, checked."""
    value = config.section("server").get("session_idle_minutes", DEFAULT_IDLE_MINUTES)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IDLE_MINUTES:
        raise ConfigError(
            f"配置 [server] session_idle_minutes 无效：{value!r}"
            f"（应为 1–{MAX_IDLE_MINUTES} 之间的整数，单位分钟）"
        )
    return timedelta(minutes=value)


def session_lifetime(config: Any) -> timedelta:
    """``[server] session_max_days`` of duban.toml, checked: the longest a session lasts."""
    value = config.section("server").get("session_max_days", DEFAULT_LIFETIME_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIFETIME_DAYS:
        raise ConfigError(
            f"配置 [server] session_max_days 无效：{value!r}"
            f"（应为 1–{MAX_LIFETIME_DAYS} 之间的整数，单位天）"
        )
    return timedelta(days=value)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def sign_in(
    session: Session,
    token: str,
    now: datetime,
    idle: timedelta,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> tuple[str, SignedIn]:
    """Open a session for a valid token; returns the cookie value (shown once) and the session."""
    caller = authenticate(session, (token or "").strip() or None)
    return open_session(session, caller, now, idle, lifetime)


def open_session(
    session: Session,
    caller: Caller,
    now: datetime,
    idle: timedelta,
    lifetime: timedelta = DEFAULT_LIFETIME,
    remember: bool = False,
) -> tuple[str, SignedIn]:
    """A new session for a caller already checked (a token's, or an account's: see
    :mod:`workflow.accounts.signin`); ``remember`` keeps it 30 days without idle timeout."""
    session.execute(
        delete(WebSession).where(
            (
                (WebSession.last_seen_at < now - idle) & (WebSession.remember == False)  # noqa: E712 - SQL
            )
            | ((WebSession.created_at < now - lifetime) & (WebSession.remember == False))  # noqa: E712
            | (WebSession.created_at < now - REMEMBER_FOR)
        )
    )
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            sid_hash=_hash(sid),
            token_id=caller.token_id if caller.account_id is None else None,
            account_id=caller.account_id,
            remember=remember,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return sid, SignedIn(caller=caller, csrf=csrf)


def resume(
    session: Session,
    sid: str | None,
    now: datetime,
    idle: timedelta,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> SignedIn:
    """The session behind a cookie, refreshed; refused when unknown, idle too long, older than
    its lifetime or revoked."""
    if not sid:
        raise NotAuthenticated("请先登录", reason="session_missing")
    row = session.exec(select(WebSession).where(WebSession.sid_hash == _hash(sid))).first()
    if row is None:
        raise NotAuthenticated("登录已失效，请重新登录", reason="session_unknown")
    if row.remember:
        idle, lifetime = REMEMBER_FOR, REMEMBER_FOR
    if row.last_seen_at is None or now - row.last_seen_at > idle:
        raise NotAuthenticated(
            f"超过 {int(idle.total_seconds() // 60)} 分钟未操作，请重新登录", reason="session_idle"
        )
    if row.created_at is None or now - row.created_at > lifetime:
        raise NotAuthenticated(
            f"登录已失效（登录已满 {lifetime.days} 天），请重新登录", reason="session_expired"
        )
    must_change = False
    if row.account_id is not None:
        account = session.get(Account, row.account_id)
        if account is None:
            raise NotAuthenticated("账号已删除，请联系安全管理员", reason="account_removed")
        if account.locked_until is not None and account.locked_until > now:
            raise NotAuthenticated("账号已锁定，请联系安全管理员", reason="account_locked")
        must_change = account.must_change
        caller = account_caller(CoreReader(session.connection()), row.account_id)
    else:
        token = session.get(Token, row.token_id)
        if token is None or token.revoked_at is not None:
            raise NotAuthenticated(
                "令牌已吊销，请向办公室申领新令牌后重新登录", reason="token_revoked"
            )
        caller = caller_of(session, token)
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return SignedIn(caller=caller, csrf=row.csrf, must_change=must_change)


def end_account_sessions(session: Session, account_id: int) -> None:
    """Sign an account out everywhere (locked, password reset, removed)."""
    session.execute(delete(WebSession).where(WebSession.account_id == account_id))


def sign_out(session: Session, sid: str | None) -> None:
    """End the session behind a cookie (nothing happens for an unknown one)."""
    if sid:
        session.execute(delete(WebSession).where(WebSession.sid_hash == _hash(sid)))


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented CSRF token with the expected one."""
    return bool(given) and secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

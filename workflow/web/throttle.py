"""Failed tokens per remote address: slowed after a few, then refused for a while (429).

One counter per address for the API and the pages' sign-in form alike, kept in the database
(table ``failedguess``) so that every ``duban serve`` process on it counts together. A token is
checked only after the address was *admitted*: one atomic ``UPDATE`` adds the attempt to the
address's ``pending`` count while ``failures + pending`` stays under the limit. So 100 parallel
guesses get no more token checks than the limit: the others wait for the ones in flight, then
find the address refused. A right token takes its attempt back; a wrong one turns it into a
failure. Log lines name the address, never the token.

Window and pause are measured on the wall clock of the server (``clock``, injectable), not the
pinned ``DUBAN_NOW`` of a test server. When a window ends its ``pending`` count starts again
from 0, so attempts in flight across that moment (at most the limit) are not held back twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from workflow.errors import NotAuthenticated, TooManyRequests

log = logging.getLogger("duban.web")
T = TypeVar("T")
BUSY = 0.0  # _admit: the address is at its limit with attempts in flight: wait for them
POLL = 0.05  # seconds between two looks while waiting


def _utcnow() -> datetime:
    return datetime.now(UTC)


_ENSURE = sa.text(
    "INSERT INTO failedguess (address, failures, pending, window_start) "
    "VALUES (:address, 0, 0, :now) ON CONFLICT (address) DO NOTHING"
)
_READ = sa.text(
    "SELECT failures, pending, window_start, blocked_until FROM failedguess WHERE address = :address"
)
_RESET = sa.text(
    "UPDATE failedguess SET failures = 0, pending = 0, window_start = :now, blocked_until = NULL "
    "WHERE address = :address AND window_start = :old"
)
_ADMIT = sa.text(
    "UPDATE failedguess SET pending = pending + 1 WHERE address = :address "
    "AND blocked_until IS NULL AND failures + pending < :limit"
)
_SETTLE = sa.text(
    "UPDATE failedguess SET failures = failures + :failed, "
    "pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END WHERE address = :address"
)
_BLOCK = sa.text(
    "UPDATE failedguess SET blocked_until = :until WHERE address = :address "
    "AND blocked_until IS NULL AND failures >= :limit"
)


def _aware(value: Any) -> datetime | None:
    """A timestamp read back by plain SQL (SQLite gives text or a naive UTC datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _connection(session: Any, db: Any) -> Any:
    """The session's connection; on PostgreSQL without waiting for the commit to reach the disk
    (a count lost in a crash of the database server is harmless, a 5–25 ms wait per request
    is not)."""
    conn = session.connection()
    if db.dialect == "postgresql":
        conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    return conn


def _stamp(db: Any, value: datetime) -> Any:
    return value.replace(tzinfo=None) if db.dialect == "sqlite" else value


@dataclass
class Throttle:
    db: Any  # workflow.storage.db.Database
    slow_after: int = 5  # failures within the window before each answer is delayed
    block_after: int = 20  # failures within the window before the address is refused
    window: float = 600.0  # seconds
    block_for: float = 900.0  # seconds an address stays refused
    delay: float = 0.5  # seconds added to each failed answer once slowed
    wait: float = 10.0  # seconds an attempt waits for the ones in flight before a 429
    clock: Callable[[], datetime] = _utcnow

    # -- the database steps (each one short transaction) ----------------------------------------
    def _admit(self, address: str) -> float | None:
        """None when ``address`` may try now (its attempt is counted as pending); else the
        seconds it stays refused, or :data:`BUSY` while its attempts in flight fill the limit."""
        now = self.clock()
        with self.db.session() as session:
            conn = _connection(session, self.db)
            row = conn.execute(_READ, {"address": address}).first()
            if row is None:
                conn.execute(_ENSURE, {"address": address, "now": _stamp(self.db, now)})
                row = conn.execute(_READ, {"address": address}).first()
            failures, pending, start, until = row
            start, until = _aware(start), _aware(until)
            if until is not None and until > now:
                return (until - now).total_seconds()
            if until is not None or start < now - timedelta(seconds=self.window):
                conn.execute(
                    _RESET,
                    {"address": address, "now": _stamp(self.db, now), "old": row[2]},
                )
            elif failures + pending >= self.block_after:
                return BUSY  # nothing written: waiting costs one read
            if conn.execute(_ADMIT, {"address": address, "limit": self.block_after}).rowcount:
                return None
            return BUSY

    def _settle(self, address: str, failed: bool, via: str) -> float:
        """Close an admitted attempt; a failure is counted (and may refuse the address). The
        delay to add to a failed answer."""
        now = self.clock()
        with self.db.session() as session:
            conn = _connection(session, self.db)
            conn.execute(_SETTLE, {"address": address, "failed": int(failed)})
            if not failed:
                return 0.0
            until = _stamp(self.db, now + timedelta(seconds=self.block_for))
            params = {"address": address, "until": until, "limit": self.block_after}
            blocked = conn.execute(_BLOCK, params).rowcount
            count = conn.execute(_READ, {"address": address}).first()[0]
        if blocked:
            log.warning(
                "refusing %s for %d s after %d failed tokens", address, self.block_for, count
            )
        else:
            log.warning(
                "failed token from %s via %s (%d within %d s)", address, via, count, self.window
            )
        return self.delay if count >= self.slow_after else 0.0

    # -- what the doors call --------------------------------------------------------------------
    def _db(self, step: Callable[..., Any], *args: Any) -> Any:
        from workflow.calls.runner import database_errors

        with database_errors():
            return step(*args)

    def _at_once(self, address: str, check: Callable[[], T], via: str) -> tuple[float | None, Any]:
        """Admit, check and settle in one trip to a worker thread (the usual case: a right
        token from an address with room). (None, result) when done; else (seconds refused or
        BUSY, None) and nothing was checked. A wrong token: NotAuthenticated, counted, with
        the delay to add in its ``delay`` attribute."""
        left = self._db(self._admit, address)
        if left is not None:
            return left, None
        try:
            result = check()
        except NotAuthenticated as exc:
            exc.delay = self._db(self._settle, address, True, via)  # type: ignore[attr-defined]
            raise
        except BaseException:
            self._db(self._settle, address, False, via)
            raise
        self._db(self._settle, address, False, via)
        return None, result

    async def guard(self, address: str, check: Callable[[], T], via: str = "api") -> T:
        """``check()`` (which raises NotAuthenticated for a wrong token) run as one counted
        attempt of ``address``; TooManyRequests when the address is refused."""
        deadline = time.monotonic() + self.wait
        try:
            left, result = await run_in_threadpool(self._at_once, address, check, via)
        except NotAuthenticated as exc:
            if getattr(exc, "delay", 0):
                await asyncio.sleep(exc.delay)  # type: ignore[attr-defined]
            raise
        if left is None:
            return result
        while left is not None:  # refused, or waiting for the attempts in flight
            if left > 0:
                raise TooManyRequests(self.refusal(left))
            if time.monotonic() > deadline:
                raise TooManyRequests("来自该地址的登录尝试过多，请稍后再试")
            await asyncio.sleep(POLL)
            left = await run_in_threadpool(self._db, self._admit, address)
        try:
            result = await run_in_threadpool(check)
        except NotAuthenticated:
            delay = await run_in_threadpool(self._db, self._settle, address, True, via)
            if delay:
                await asyncio.sleep(delay)
            raise
        except BaseException:
            await run_in_threadpool(self._db, self._settle, address, False, via)
            raise
        await run_in_threadpool(self._db, self._settle, address, False, via)
        return result

    def refusal(self, left: float) -> str:
        """The Chinese sentence for an address refused for ``left`` more seconds."""
        return f"来自该地址的错误令牌过多，已暂停访问，请 {math.ceil(left / 60)} 分钟后再试"


def throttle_from(section: dict, db: Any) -> Throttle:
    """The ``[server]`` settings of duban.toml: ``failed_tokens_slow_after`` (5),
    ``failed_tokens_block_after`` (20), ``failed_tokens_block_minutes`` (15),
    ``failed_token_delay`` (0.5 s)."""
    from workflow.errors import ConfigError

    def number(key: str, default: float, minimum: float) -> float:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise ConfigError(f"[server] {key} 应为不小于 {minimum:g} 的数字：{value!r}")
        return float(value)

    return Throttle(
        db=db,
        slow_after=int(number("failed_tokens_slow_after", 5, 1)),
        block_after=int(number("failed_tokens_block_after", 20, 1)),
        block_for=number("failed_tokens_block_minutes", 15, 0) * 60,
        delay=number("failed_token_delay", 0.5, 0),
    )

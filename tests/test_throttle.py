"""The failed-token throttle, kept in the database, with an injected clock: slowed, then refused,
then forgiven; parallel attempts admitted atomically."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from workflow.errors import ConfigError, NotAuthenticated, TooManyRequests
from workflow.storage.db import Database
from workflow.web.throttle import Throttle, throttle_from

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _wrong() -> None:
    raise NotAuthenticated("令牌无效")


def _attempt(th: Throttle, address: str, ok: bool = False) -> str:
    """One guess through the throttle: 'ok', 'wrong' (401) or 'refused' (429)."""

    async def go() -> str:
        try:
            await th.guard(address, (lambda: None) if ok else _wrong)
        except NotAuthenticated:
            return "wrong"
        except TooManyRequests:
            return "refused"
        return "ok"

    return asyncio.run(go())


@pytest.fixture
def clock():
    return [T0]


@pytest.fixture
def throttle(db: Database, clock) -> Throttle:
    return Throttle(
        db=db,
        slow_after=3,
        block_after=5,
        window=60,
        block_for=120,
        delay=0,
        clock=lambda: clock[0],
    )


def test_slowed_then_refused_then_forgiven(throttle, clock, db):
    throttle.delay = 0.001
    outcomes = [_attempt(throttle, "10.0.0.7") for _ in range(7)]
    assert outcomes == ["wrong"] * 5 + ["refused"] * 2
    assert _attempt(throttle, "10.0.0.7", ok=True) == "refused"  # even the right token
    assert _attempt(throttle, "10.0.0.8", ok=True) == "ok"  # another address is not held
    clock[0] = T0 + timedelta(seconds=119)
    assert _attempt(throttle, "10.0.0.7", ok=True) == "refused"
    clock[0] = T0 + timedelta(seconds=121)
    assert _attempt(throttle, "10.0.0.7", ok=True) == "ok"  # a fresh start after the pause
    assert _attempt(throttle, "10.0.0.7") == "wrong"


def test_right_tokens_are_not_counted(throttle):
    assert [_attempt(throttle, "a", ok=True) for _ in range(20)] == ["ok"] * 20
    assert [_attempt(throttle, "a") for _ in range(6)] == ["wrong"] * 5 + ["refused"]


def test_old_failures_leave_the_window(throttle, clock):
    for _ in range(4):
        assert _attempt(throttle, "a") == "wrong"
    clock[0] = T0 + timedelta(seconds=61)
    assert [_attempt(throttle, "a") for _ in range(6)] == ["wrong"] * 5 + ["refused"]


def test_a_second_process_sees_the_same_counter(throttle, database_url, clock):
    """Two servers on one database: one Throttle each, one count."""
    other_db = Database(database_url)
    other = Throttle(db=other_db, block_after=5, window=60, block_for=120, clock=lambda: clock[0])
    try:
        assert [_attempt(throttle, "a") for _ in range(3)] == ["wrong"] * 3
        assert [_attempt(other, "a") for _ in range(3)] == ["wrong", "wrong", "refused"]
        assert _attempt(throttle, "a", ok=True) == "refused"
    finally:
        other_db.engine.dispose()


def test_parallel_guesses_get_no_more_checks_than_the_limit(throttle, db):
    """40 threads guess at once: no more than the limit of tokens are ever checked."""
    throttle.block_after, throttle.wait = 5, 30
    checked = []
    lock = threading.Lock()

    def wrong() -> None:
        with lock:
            checked.append(1)
        raise NotAuthenticated("令牌无效")

    outcomes: list[str] = []

    def guess() -> None:
        async def go() -> str:
            try:
                await throttle.guard("10.9.9.9", wrong)
            except NotAuthenticated:
                return "wrong"
            except TooManyRequests:
                return "refused"
            return "ok"

        outcome = asyncio.run(go())
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 5
    assert sorted(outcomes) == ["refused"] * 35 + ["wrong"] * 5


@pytest.mark.parametrize(
    "section",
    [
        {"failed_tokens_block_after": 0},
        {"failed_token_delay": "1s"},
        {"failed_tokens_slow_after": True},
    ],
)
def test_settings_are_checked(section):
    with pytest.raises(ConfigError):
        throttle_from(section, None)

"""The failed-token throttle with an injected clock: slowed, then refused, then forgiven."""

from __future__ import annotations

import pytest

from workflow.errors import ConfigError
from workflow.web.throttle import Throttle, throttle_from


def test_slowed_then_refused_then_forgiven():
    t = [0.0]
    th = Throttle(
        slow_after=3, block_after=5, window=60, block_for=120, delay=0.5, clock=lambda: t[0]
    )
    delays = [th.failed("10.0.0.7") for _ in range(5)]
    assert delays == [0, 0, 0.5, 0.5, 0.5]
    assert th.blocked("10.0.0.7") == 120 and th.blocked("10.0.0.8") == 0
    t[0] = 119
    assert th.blocked("10.0.0.7") == pytest.approx(1)
    t[0] = 121
    assert th.blocked("10.0.0.7") == 0
    assert th.failed("10.0.0.7") == 0  # a fresh start after the pause


def test_old_failures_leave_the_window():
    t = [0.0]
    th = Throttle(slow_after=2, block_after=3, window=10, clock=lambda: t[0])
    th.failed("a")
    th.failed("a")
    t[0] = 11
    assert th.failed("a") == 0 and th.blocked("a") == 0


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
        throttle_from(section)

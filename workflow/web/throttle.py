"""Failed tokens per remote address: slowed after a few, then refused for a while (429).

One counter per address for the API and the pages' sign-in form alike. Kept in the memory of one
``duban serve`` process: several processes behind one proxy each count on their own (an attacker gets at most ``processes ×`` the attempts). Log lines name the
address, never the token.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("duban.web")


@dataclass
class Throttle:
    slow_after: int = 5  # failures within the window before each answer is delayed
    block_after: int = 20  # failures within the window before the address is refused
    window: float = 600.0  # seconds
    block_for: float = 900.0  # seconds an address stays refused
    delay: float = 0.5  # seconds added to each failed answer once slowed
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _blocked: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked(self, address: str) -> float:
        """Seconds ``address`` is still refused (0 when it may try)."""
        with self._lock:
            until = self._blocked.get(address)
            if until is None:
                return 0.0
            left = until - self.clock()
            if left <= 0:
                del self._blocked[address]
                self._failures.pop(address, None)
                return 0.0
            return left

    def failed(self, address: str, via: str = "api") -> float:
        """Record a failed token from ``address`` (``via`` the API or the sign-in page) and log
        it (the address, never the token); the delay to add to this answer."""
        with self._lock:
            now = self.clock()
            failures = self._failures.setdefault(address, deque())
            failures.append(now)
            while failures and failures[0] < now - self.window:
                failures.popleft()
            count = len(failures)
            if count >= self.block_after and address not in self._blocked:
                self._blocked[address] = now + self.block_for
                log.warning(
                    "refusing %s for %d s after %d failed tokens", address, self.block_for, count
                )
            else:
                log.warning(
                    "failed token from %s via %s (%d within %d s)", address, via, count, self.window
                )
            return self.delay if count >= self.slow_after else 0.0

    def refusal(self, left: float) -> str:
        """The Chinese sentence for an address refused for ``left`` more seconds."""
        return f"来自该地址的错误令牌过多，已暂停访问，请 {math.ceil(left / 60)} 分钟后再试"

    def forget(self) -> None:
        with self._lock:
            self._failures.clear()
            self._blocked.clear()


def throttle_from(section: dict) -> Throttle:
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
        slow_after=int(number("failed_tokens_slow_after", 5, 1)),
        block_after=int(number("failed_tokens_block_after", 20, 1)),
        block_for=number("failed_tokens_block_minutes", 15, 0) * 60,
        delay=number("failed_token_delay", 0.5, 0),
    )

"""Figures that survive a busy machine: the load average beside each, repeated until they agree.

The dev machine is shared (2 cores, often 8 sessions): one timing says as much about the
neighbours as about the code. Every bench prints :func:`load_line` before and after it measures,
and times with :func:`repeat_until_steady`: runs until the ``keep`` fastest of them lie within
``spread`` of each other (or ``max_runs`` is reached, said so), then reports the fastest, the
median and the spread, so a README figure names what was measured under what load.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:  # not available on this platform
        return (float("nan"),) * 3


def load_line(label: str = "") -> str:
    one, five, fifteen = load_average()
    cores = os.cpu_count() or 1
    head = f"[{label}] " if label else ""
    return (
        f"{head}load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {cores} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


@dataclass(frozen=True)
class Steady:
    """The timings of one measurement: every run, and whether the fastest ones agreed."""

    runs: list[float]
    keep: int
    spread: float
    steady: bool
    load: tuple[float, float, float]

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def kept(self) -> list[float]:
        return sorted(self.runs)[: self.keep]

    @property
    def median(self) -> float:
        return statistics.median(self.kept)

    @property
    def measured_spread(self) -> float:
        kept = self.kept
        return (kept[-1] - kept[0]) / kept[0] if kept[0] > 0 else 0.0

    def describe(self, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
        kept = ", ".join(f"{t * scale:.{digits}f}" for t in self.kept)
        state = "steady" if self.steady else f"NOT steady after {len(self.runs)} runs"
        return (
            f"best {self.best * scale:.{digits}f} {unit}, median {self.median * scale:.{digits}f} "
            f"{unit} of the {self.keep} fastest ({kept}; spread {self.measured_spread:.0%}, "
            f"{state}; {len(self.runs)} runs, load {self.load[0]:.2f})"
        )


def repeat_until_steady(
    run: Callable[[], float],
    *,
    keep: int = 3,
    spread: float = 0.10,
    max_runs: int = 7,
    min_runs: int | None = None,
) -> Steady:
    """Call ``run`` (which returns the seconds it measured) until its ``keep`` fastest results
    lie within ``spread`` (relative to the fastest), at least ``min_runs`` (default ``keep``)
    and at most ``max_runs`` times. The load average is sampled at the end."""
    min_runs = keep if min_runs is None else max(min_runs, keep)
    runs: list[float] = []
    steady = False
    while len(runs) < max_runs:
        runs.append(run())
        if len(runs) >= min_runs:
            fastest = sorted(runs)[:keep]
            if fastest[0] <= 0 or (fastest[-1] - fastest[0]) / fastest[0] <= spread:
                steady = True
                break
    return Steady(runs, min(keep, len(runs)), spread, steady, load_average())

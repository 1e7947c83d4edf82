"""Working-day arithmetic: duban's index vs ``holidays``' own day-by-day methods.

Run: ``python bench/bench_calendar.py [pairs]`` (default 100,000 random (date, n) pairs,
dates 2004–2027, |n| ≤ 250). Both sides get the same inputs; results are compared, times printed.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import holidays  # noqa: E402

from calendars import ChinaCalendar  # noqa: E402


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    return label, elapsed, result


def main(pairs: int = 100_000, seed: int = 20260101) -> None:
    rng = random.Random(seed)
    first, span = date(2004, 1, 1), (date(2027, 12, 31) - date(2004, 1, 1)).days
    days = [first + timedelta(rng.randrange(span + 1)) for _ in range(pairs)]
    steps = [rng.randint(-250, 250) for _ in range(pairs)]
    ends = [first + timedelta(rng.randrange(span + 1)) for _ in range(pairs)]

    _, build, cal = timed("build", lambda: _built(ChinaCalendar()))
    lib = holidays.China(years=range(2003, 2029), language="zh_CN")

    rows = []
    _, ours, got = timed(
        "add", lambda: [cal.add_working_days(d, n) for d, n in zip(days, steps, strict=True)]
    )
    _, theirs, want = timed(
        "nth", lambda: [lib.get_nth_working_day(d, n) for d, n in zip(days, steps, strict=True)]
    )
    assert got == want, "add_working_days disagrees with get_nth_working_day"
    rows.append(("add_working_days vs get_nth_working_day", ours, theirs))

    count_pairs = [(min(a, b), max(a, b)) for a, b in zip(days, ends, strict=True)][
        : max(pairs // 10, 1)
    ]
    _, ours, got = timed(
        "between",
        lambda: [cal.working_days_between(a, b) + cal.is_working_day(a) for a, b in count_pairs],
    )
    _, theirs, want = timed(
        "count", lambda: [lib.get_working_days_count(a, b) for a, b in count_pairs]
    )
    assert got == want, "working_days_between disagrees with get_working_days_count"
    rows.append(
        (
            f"working_days_between vs get_working_days_count ({len(count_pairs):,} pairs)",
            ours,
            theirs,
        )
    )

    print(
        f"holidays {holidays.__version__}, Python {sys.version.split()[0]}, {pairs:,} (date, n) pairs, |n| ≤ 250"
    )
    print(f"index build (first use, cold library): {build * 1000:.1f} ms")
    for label, ours, theirs in rows:
        n = pairs if label.startswith("add") else len(count_pairs)
        print(
            f"{label}: duban {ours:.3f} s ({ours / n * 1e6:.2f} µs/call), "
            f"holidays {theirs:.3f} s ({theirs / n * 1e6:.1f} µs/call), ratio {theirs / ours:.0f}×"
        )
    print("results identical: yes")


def _built(cal: ChinaCalendar) -> ChinaCalendar:
    cal.is_working_day(date(2026, 1, 1))  # forces the index
    return cal


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

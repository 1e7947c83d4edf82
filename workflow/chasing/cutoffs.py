"""Working-day thresholds turned into due-date cutoffs, so SQL can select by ``due`` alone.

For a check on a working day ``as_of``:

* an assignment is ``late`` working days overdue, ``late = working_days_between(due, as_of)``;
  ``late >= t`` exactly when ``due <= overdue_cutoff(as_of, t)``;
* a waiting assignment has ``remaining = working_days_between(as_of, due)`` working days left;
  ``remaining <= n`` exactly when ``as_of <= due < remaining_bound(as_of, n)``.

``tests/test_check_cutoffs.py`` checks both against ``working_days_between`` day by day.
"""

from __future__ import annotations

from datetime import date, timedelta

from workflow.chasing.items import WorkdayCalendar


def overdue_cutoff(cal: WorkdayCalendar, as_of: date, threshold: int) -> date:
    """The latest due date that is at least ``threshold`` (≥ 1) working days overdue on ``as_of``."""
    return cal.add_working_days(as_of, -(threshold - 1)) - timedelta(1)


def remaining_bound(cal: WorkdayCalendar, as_of: date, n: int) -> date:
    """The first due date with more than ``n`` working days remaining on ``as_of``."""
    return cal.add_working_days(as_of, n + 1)


def reminder_bands(
    cal: WorkdayCalendar, as_of: date, offsets: tuple[int, ...]
) -> list[tuple[int, date, date]]:
    """(offset, from, before): due dates whose latest reminder point reached is ``offset``.

    A reminder is due for the smallest offset ≥ the working days remaining (earlier points
    missed while nobody checked are moot), so each offset owns a band of due dates.
    """
    bands = []
    ordered = sorted(offsets)
    for i, offset in enumerate(ordered):
        start = as_of if i == 0 else remaining_bound(cal, as_of, ordered[i - 1])
        bands.append((offset, start, remaining_bound(cal, as_of, offset)))
    return bands


def calendar_range(cal: WorkdayCalendar) -> tuple[date, date]:
    """The first and last day the calendar can count (due dates outside are skipped)."""
    first = getattr(cal, "first_day", None) or date(1950, 1, 1)
    last = getattr(cal, "last_day", None) or date(2100, 12, 31)
    return first, last

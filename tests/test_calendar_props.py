"""Properties of the working-day arithmetic, checked against ``holidays``' own slow methods."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import ChinaCalendar

CAL = ChinaCalendar()
LIB = holidays.China(years=range(2003, 2030), language="zh_CN")
FIRST, LAST = date(2004, 1, 1), date(2027, 12, 31)

dates = st.dates(min_value=FIRST, max_value=LAST)
steps = st.integers(min_value=-250, max_value=250)


def test_every_day_2004_2027_agrees_with_the_library():
    d = FIRST
    while d <= LAST:
        assert CAL.is_working_day(d) is LIB.is_working_day(d), d
        d += timedelta(1)


@settings(max_examples=1500, deadline=None)
@given(dates, steps)
def test_add_agrees_with_get_nth_working_day(d, n):
    assert CAL.add_working_days(d, n) == LIB.get_nth_working_day(d, n)


@settings(max_examples=600, deadline=None)
@given(dates, dates)
def test_between_agrees_with_get_working_days_count(a, b):
    lo, hi = min(a, b), max(a, b)
    both_ends = LIB.get_working_days_count(lo, hi)
    if b >= a:  # (a, b]
        assert CAL.working_days_between(a, b) == both_ends - LIB.is_working_day(a)
    else:  # -[b, a)
        assert CAL.working_days_between(a, b) == -(both_ends - LIB.is_working_day(a))


@settings(max_examples=2000, deadline=None)
@given(dates, steps.filter(bool))
def test_between_inverts_add(d, n):
    assert CAL.working_days_between(d, CAL.add_working_days(d, n)) == n


@settings(max_examples=2000, deadline=None)
@given(dates, dates)
def test_add_inverts_between_on_working_days(a, b):
    b = CAL.roll(b)
    assert CAL.add_working_days(a, CAL.working_days_between(a, b)) == b


@settings(max_examples=1000, deadline=None)
@given(dates, dates)
def test_between_is_antisymmetric_between_working_days(a, b):
    a, b = CAL.roll(a), CAL.roll(b)
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)


@settings(max_examples=1000, deadline=None)
@given(dates)
def test_roll_next_and_zero(d):
    rolled = CAL.roll(d)
    assert CAL.is_working_day(rolled) and rolled >= d
    assert all(not CAL.is_working_day(d + timedelta(i)) for i in range((rolled - d).days))
    assert CAL.add_working_days(d, 0) == rolled
    nxt = CAL.next_working_day(d)
    assert nxt > d and CAL.is_working_day(nxt)
    assert CAL.working_days_between(d, nxt) == 1


@settings(max_examples=300, deadline=None)
@given(st.integers(2004, 2027), st.integers(1, 12))
def test_last_working_day_of_month(year, month):
    last = CAL.last_working_day_of_month(year, month)
    assert (last.year, last.month) == (year, month) and CAL.is_working_day(last)
    nxt = CAL.next_working_day(last)
    assert (nxt.year, nxt.month) != (year, month)


@pytest.mark.parametrize("year", range(2004, 2028))
def test_day_info_agrees_with_is_working_day(year):
    d = date(year, 1, 1)
    while d.year == year:
        info = CAL.day_info(d)
        assert info.working is CAL.is_working_day(d)
        assert (info.kind == "adjusted_workday") == (info.working and d.weekday() >= 5)
        if d in LIB and not info.working:
            assert info.kind == "holiday" and info.name, d
        d += timedelta(1)

"""The calendar against the State Council notices for 2025 and 2026, day by day.

2025: 国办发明电〔2024〕12号; 2026: 国办发明电〔2025〕7号. Every holiday block and every 调休
working weekend day of both notices is listed here by hand from the notice text, and every day of
both years is checked against what the notice implies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from calendars import CalendarError, ChinaCalendar, DayInfo, today_shanghai

D = date

# (name as the notice groups it, first day off, last day off)
NOTICE_BLOCKS = {
    2025: [
        ("元旦", D(2025, 1, 1), D(2025, 1, 1)),
        ("春节", D(2025, 1, 28), D(2025, 2, 4)),
        ("清明节", D(2025, 4, 4), D(2025, 4, 6)),
        ("劳动节", D(2025, 5, 1), D(2025, 5, 5)),
        ("端午节", D(2025, 5, 31), D(2025, 6, 2)),
        ("国庆节、中秋节", D(2025, 10, 1), D(2025, 10, 8)),
    ],
    2026: [
        ("元旦", D(2026, 1, 1), D(2026, 1, 3)),
        ("春节", D(2026, 2, 15), D(2026, 2, 23)),
        ("清明节", D(2026, 4, 4), D(2026, 4, 6)),
        ("劳动节", D(2026, 5, 1), D(2026, 5, 5)),
        ("端午节", D(2026, 6, 19), D(2026, 6, 21)),
        ("中秋节", D(2026, 9, 25), D(2026, 9, 27)),
        ("国庆节", D(2026, 10, 1), D(2026, 10, 7)),
    ],
}
# 调休上班 days: (date, the block it pays for)
NOTICE_WORKDAYS = {
    2025: [
        (D(2025, 1, 26), "春节"),
        (D(2025, 2, 8), "春节"),
        (D(2025, 4, 27), "劳动节"),
        (D(2025, 9, 28), "国庆节、中秋节"),
        (D(2025, 10, 11), "国庆节、中秋节"),
    ],
    2026: [
        (D(2026, 1, 4), "元旦"),
        (D(2026, 2, 14), "春节"),
        (D(2026, 2, 28), "春节"),
        (D(2026, 5, 9), "劳动节"),
        (D(2026, 9, 20), "国庆节"),
        (D(2026, 10, 10), "国庆节"),
    ],
}
BLOCK_CASES = [(y, *b) for y, blocks in NOTICE_BLOCKS.items() for b in blocks]
WORKDAY_CASES = [w for ws in NOTICE_WORKDAYS.values() for w in ws]


@pytest.fixture(scope="module")
def cal() -> ChinaCalendar:
    return ChinaCalendar()


def days_of(year: int):
    d = D(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(1)


@pytest.mark.parametrize(("year", "name", "start", "end"), BLOCK_CASES)
def test_every_day_of_each_notice_block_is_off_and_named(cal, year, name, start, end):
    d = start
    while d <= end:
        info = cal.day_info(d)
        assert not info.working and not cal.is_working_day(d), d
        assert info.name == name, d
        assert info.mark == "休"
        assert info.kind in ("holiday", "weekend")
        d += timedelta(1)
    # the block is exactly as long as the notice says: the days around it are working days
    assert cal.is_working_day(start - timedelta(1))
    assert cal.is_working_day(end + timedelta(1))


@pytest.mark.parametrize(("day", "block"), WORKDAY_CASES)
def test_every_notice_working_weekend_is_an_adjusted_workday(cal, day, block):
    assert day.weekday() >= 5
    info = cal.day_info(day)
    assert info == DayInfo(day, "adjusted_workday", f"{block}调休", True)
    assert info.mark == "班"


@pytest.mark.parametrize("year", [2025, 2026])
def test_blocks_found_by_the_calendar_are_exactly_the_notice_blocks(cal, year):
    found = cal.holiday_blocks(D(year, 1, 1), D(year, 12, 31))
    assert [(b.name, b.start, b.end) for b in found] == NOTICE_BLOCKS[year]


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_year_follows_the_notice(cal, year):
    off = {d for _, s, e in NOTICE_BLOCKS[year] for d in days_of(year) if s <= d <= e}
    worked_weekends = {d for d, _ in NOTICE_WORKDAYS[year]}
    for d in days_of(year):
        expected = d not in off and (d.weekday() < 5 or d in worked_weekends)
        assert cal.is_working_day(d) is expected, d
        info = cal.day_info(d)
        if expected and d.weekday() < 5:
            assert info.kind == "workday" and info.name is None
        if not expected and d not in off:
            assert info.kind == "weekend" and info.name is None and info.mark == ""


def test_day_kinds_and_library_labels(cal):
    assert cal.day_info(D(2026, 2, 16)).label == "农历除夕"
    assert cal.day_info(D(2026, 2, 20)).label == "休息日（由 2026-02-14 调休）"
    assert cal.day_info(D(2026, 2, 21)).kind == "weekend"  # a Saturday inside the block
    assert cal.day_info(D(2026, 5, 2)) == DayInfo(
        D(2026, 5, 2), "holiday", "劳动节", False, "劳动节"
    )
    assert cal.day_info(D(2025, 10, 6)).label == "中秋节"
    assert cal.day_info(D(2026, 3, 2)) == DayInfo(D(2026, 3, 2), "workday", None, True)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # after National Day week, on the 调休 Saturday
        (D(2026, 9, 30), 4, D(2026, 10, 12)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 18), 1, D(2026, 2, 24)),  # counting starts after a day off too
        (D(2026, 2, 18), 0, D(2026, 2, 24)),  # n == 0 rolls a day off forward
        (D(2026, 2, 24), 0, D(2026, 2, 24)),  # and keeps a working day
        (D(2026, 2, 24), -1, D(2026, 2, 14)),
        (D(2026, 2, 18), -1, D(2026, 2, 14)),
        (D(2026, 10, 8), -2, D(2026, 9, 29)),
        (D(2025, 1, 1), 20, D(2025, 2, 5)),  # 2025-01-26 (Sunday) counts, the Spring block doesn't
        (D(2024, 12, 31), 1, D(2025, 1, 2)),
    ],
)
def test_add_working_days(cal, start, n, expected):
    assert cal.add_working_days(start, n) == expected
    if n:
        assert cal.working_days_between(start, expected) == n


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(2026, 9, 28), D(2026, 10, 12), 6),  # 9/29 9/30 10/8 10/9 10/10 10/12
        (D(2026, 10, 12), D(2026, 9, 28), -6),  # [9/28, 10/12): 9/28 9/29 9/30 10/8 10/9 10/10
        (D(2026, 10, 1), D(2026, 10, 7), 0),
        (D(2026, 2, 14), D(2026, 2, 14), 0),
        (D(2026, 2, 13), D(2026, 2, 14), 1),
        (D(2026, 2, 14), D(2026, 2, 24), 1),
        (D(2025, 1, 1), D(2025, 12, 31), 248),  # 261 weekdays - 18 off + 5 调休 (1/1 is off anyway)
        (D(2025, 12, 31), D(2026, 12, 31), 248),  # 261 - 19 + 6
    ],
)
def test_working_days_between(cal, a, b, expected):
    assert cal.working_days_between(a, b) == expected


def test_next_working_day_and_roll(cal):
    assert cal.next_working_day(D(2026, 2, 13)) == D(2026, 2, 14)
    assert cal.next_working_day(D(2026, 2, 24)) == D(2026, 2, 25)
    assert cal.roll(D(2026, 10, 3)) == D(2026, 10, 8)
    assert cal.roll(D(2026, 10, 10)) == D(2026, 10, 10)
    assert cal.roll(D(2026, 3, 7)) == D(2026, 3, 9)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2026, 2, D(2026, 2, 28)),  # a 调休 Saturday
        (2026, 1, D(2026, 1, 30)),
        (2025, 5, D(2025, 5, 30)),  # 5/31 starts the Dragon Boat block
        (2026, 9, D(2026, 9, 30)),
        (2026, 10, D(2026, 10, 30)),
        (2025, 12, D(2025, 12, 31)),
    ],
)
def test_last_working_day_of_month(cal, year, month, expected):
    assert cal.last_working_day_of_month(year, month) == expected


def test_confirmed_and_provisional_years(cal):
    assert not cal.is_provisional(2025)
    assert not cal.is_provisional(2026)
    assert cal.is_provisional(2027)
    status = {s.year: s for s in cal.year_status()}
    assert min(status) == 2001 and max(status) == 2027
    assert status[2026].confirmed and status[2026].source.startswith("holidays ")
    assert status[2027].provisional and "推算" in status[2027].source
    assert status[2027].to_dict()["status"] == "provisional"


def test_outside_the_index_is_a_chinese_error(cal):
    with pytest.raises(CalendarError, match="超出工作日历范围"):
        cal.is_working_day(D(2000, 12, 31))
    with pytest.raises(CalendarError, match="超出工作日历范围"):
        cal.add_working_days(D(2100, 12, 20), 30)
    with pytest.raises(CalendarError):
        cal.is_working_day(datetime(2026, 1, 5, 9, 0))  # a datetime is not a date here
    with pytest.raises(CalendarError, match="月份无效"):
        cal.last_working_day_of_month(2026, 13)


def test_a_narrower_range_is_honoured():
    small = ChinaCalendar(first_year=2025, last_year=2026)
    assert small.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    with pytest.raises(CalendarError):
        small.is_working_day(D(2027, 1, 4))


def test_today_is_the_date_in_shanghai():
    assert today_shanghai(datetime(2026, 1, 1, 17, 0, tzinfo=UTC)) == D(2026, 1, 2)
    assert today_shanghai(datetime(2026, 1, 1, 15, 59, tzinfo=UTC)) == D(2026, 1, 1)
    with pytest.raises(CalendarError):
        today_shanghai(datetime(2026, 1, 1, 17, 0))

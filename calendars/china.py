"""The official Chinese working-day calendar: a precomputed index over ``holidays`` data.

Where the days come from
    ``holidays.China`` (names pinned to ``language="zh_CN"``) knows the statutory holidays, the
    days off in lieu (休息日（由 … 调休）) and the working weekends (``weekend_workdays``) from
    the State Council notices through its last published year; later years are the library's
    silent guess. Office override files (:mod:`calendars.overrides`) add or correct years.
    Nothing here re-types the library's tables.

Confirmed and provisional years
    A year is *confirmed* when the library carries that year's notice (the years of
    ``ChinaStaticHolidays.special_public_holidays``, 2001 through 2026 in holidays 0.109) or a
    ``scope = "year"`` override supplies it; every other year is *provisional*.

Arithmetic (all O(1) after the index is built)
    The index covers ``first_year``-01-01 … ``last_year``-12-31 (default 2001–2100): one flag per
    day, a prefix count of working days and the sorted list of working-day ordinals. It is built
    on first use, once per calendar instance (the library part is cached per process).

    * ``add_working_days(d, n)``: n > 0 → the n-th working day after d (d itself never counts);
      n < 0 → the |n|-th working day before d; n == 0 → ``roll(d)`` (d if it is a working day,
      else the next working day). Same results as ``holidays``' ``get_nth_working_day``.
    * ``working_days_between(a, b)``: for b ≥ a, the number of working days in (a, b] — a not
      counted, b counted; for b < a, minus the number of working days in [b, a). So
      ``working_days_between(a, add_working_days(a, n)) == n`` for every a and n ≠ 0 (and for
      n == 0 when a is a working day), and ``add_working_days(a, working_days_between(a, b)) == b``
      whenever b is a working day. ``holidays``' ``get_working_days_count(a, b)`` counts both
      ends: for a ≤ b it equals ``working_days_between(a, b) + is_working_day(a)``.

What kind of day (``day_info``)
    ``workday`` (Mon–Fri, worked), ``adjusted_workday`` (a Saturday/Sunday worked, 调休上班),
    ``holiday`` (a named holiday or day off in lieu, or any day of an override's holiday block)
    and ``weekend``. ``name`` is the Chinese name of the holiday block the day belongs to — the
    run of consecutive days off that contains a holiday, as the notice lists it ("春节" for
    2026-02-15…23 including its Sunday and weekend, "国庆节、中秋节" for 2025-10-01…08) — and, for
    an adjusted workday, "<block>调休". ``label`` keeps the library's or the file's exact text.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from itertools import accumulate
from typing import Literal
from zoneinfo import ZoneInfo

from calendars.errors import CalendarError
from calendars.overrides import CalendarOverride
from calendars.regions import Region, find_region, regional_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_FIRST_YEAR = 2001  # the first year the library checked against a notice
DEFAULT_LAST_YEAR = 2100
LANGUAGE = "zh_CN"
_LIBRARY_FIRST_CONFIRMED = 2001  # the library checks its China data against notices from 2001
_FALLBACK_LAST_CONFIRMED = 2026
_SUBSTITUTE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_MAX_RUN = 45  # longest plausible run of days off (2020's extended Spring Festival was 10)
WEEKDAYS_ZH = "一二三四五六日"

DayKind = Literal["workday", "weekend", "holiday", "adjusted_workday"]


def today_shanghai(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai, whatever the server's zone (``now`` must be aware)."""
    moment = now if now is not None else datetime.now(SHANGHAI)
    if moment.tzinfo is None:
        raise CalendarError("时间缺少时区信息，无法换算为北京时间")
    return moment.astimezone(SHANGHAI).date()


@dataclass(frozen=True)
class DayInfo:
    """What kind of day a date is; ``name`` is the Chinese holiday (block) name, if any."""

    date: date
    kind: DayKind
    name: str | None
    working: bool
    label: str | None = None  # exact library / override text, e.g. "休息日（由 2026-02-14 调休）"
    source: str | None = None  # the notice an override or a regional file cites for this day

    @property
    def mark(self) -> str:
        """The mark a printed calendar shows: 休 (holiday block), 班 (调休上班) or nothing."""
        if self.kind == "adjusted_workday":
            return "班"
        return "休" if not self.working and self.name else ""

    def to_dict(self) -> dict[str, object]:
        return {
            "date": self.date.isoformat(),
            "weekday": WEEKDAYS_ZH[self.date.weekday()],
            "kind": self.kind,
            "name": self.name,
            "working": self.working,
            "mark": self.mark,
            "label": self.label,
            "source": self.source,
        }


@dataclass(frozen=True)
class HolidayRun:
    """A block of consecutive days off that contains a holiday (as a notice lists it)."""

    name: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
        }


@dataclass(frozen=True)
class YearStatus:
    """Where a year's schedule comes from and whether it is official yet."""

    year: int
    source: str
    confirmed: bool
    files: tuple[str, ...] = field(default=())
    region: str | None = None  # the office's autonomous region, if any
    national_confirmed: bool = True  # the State Council's part alone

    @property
    def provisional(self) -> bool:
        return not self.confirmed

    @property
    def status_zh(self) -> str:
        if self.confirmed:
            return "已确认"
        if self.national_confirmed and self.region:
            return f"暂定（{self.region}的自治区放假通知尚未随附或导入）"
        return "暂定（国务院尚未发布或未导入）"

    def to_dict(self) -> dict[str, object]:
        return {
            "year": self.year,
            "source": self.source,
            "confirmed": self.confirmed,
            "provisional": self.provisional,
            "status": "confirmed" if self.confirmed else "provisional",
            "files": list(self.files),
            "region": self.region,
            "national_confirmed": self.national_confirmed,
        }


def library_version() -> str:
    import holidays

    return holidays.__version__


def library_confirmed_years() -> range:
    """Years whose official notice the installed ``holidays`` carries."""
    try:
        from holidays.countries.china import ChinaStaticHolidays

        last = max(ChinaStaticHolidays.special_public_holidays)
    except (ImportError, AttributeError, ValueError):  # pragma: no cover - library layout changed
        last = _FALLBACK_LAST_CONFIRMED
    return range(_LIBRARY_FIRST_CONFIRMED, last + 1)


@dataclass(frozen=True)
class _LibraryDays:
    """The library's view of [first_year, last_year], as plain per-day data."""

    origin: int  # ordinal of first_year-01-01
    working: bytes  # 1 = working day, per day from origin
    labels: dict[int, str]  # ordinal -> holiday label (days in the library's holiday dict)
    links: dict[int, int]  # working-weekend ordinal -> ordinal of the day off it pays for


@lru_cache(maxsize=4)
def _library_days(first_year: int, last_year: int) -> _LibraryDays:
    import holidays

    lib = holidays.China(years=range(first_year, last_year + 1), language=LANGUAGE)
    origin = date(first_year, 1, 1).toordinal()
    end = date(last_year, 12, 31).toordinal()
    weekend_work = {
        d.toordinal() for d in lib.weekend_workdays if first_year <= d.year <= last_year
    }
    labels = {d.toordinal(): name for d, name in lib.items() if first_year <= d.year <= last_year}
    working = bytearray(end - origin + 1)
    for i in range(len(working)):
        ordinal = origin + i
        if (ordinal - 1) % 7 >= 5:  # date.fromordinal(1) is a Monday
            working[i] = ordinal in weekend_work
        else:
            working[i] = ordinal not in labels
    links = {}
    for ordinal, label in labels.items():
        found = _SUBSTITUTE.search(label)
        if found:
            links[date.fromisoformat(found.group(1)).toordinal()] = ordinal
    return _LibraryDays(origin=origin, working=bytes(working), labels=labels, links=links)


class _Index:
    """Per-instance day data after overrides, with the arrays that make arithmetic O(1)."""

    def __init__(self, base: _LibraryDays, overrides: Sequence[CalendarOverride]) -> None:
        self.origin = base.origin
        self.working = bytearray(base.working)
        self.labels = dict(base.labels)
        self.links = dict(base.links)
        self.workday_names: dict[int, str] = {}
        self.sources: dict[int, str] = {}  # ordinal -> the notice an override cites for it
        for override in sorted(overrides, key=lambda o: (o.scope != "year", o.year, str(o.path))):
            self._apply(override)
        # prefix[i] = working days in [origin, origin + i)
        self.prefix = array("l", accumulate(self.working, initial=0))
        self.ordinals = array("l", (self.origin + i for i, w in enumerate(self.working) if w))

    def _apply(self, override: CalendarOverride) -> None:
        if override.scope == "year":
            first = date(override.year, 1, 1).toordinal()
            last = date(override.year, 12, 31).toordinal()
            for ordinal in range(first, last + 1):
                self.working[ordinal - self.origin] = (ordinal - 1) % 7 < 5
                self.labels.pop(ordinal, None)
                self.links.pop(ordinal, None)
                self.workday_names.pop(ordinal, None)
                self.sources.pop(ordinal, None)
        for block in override.holidays:
            for day in block.days():
                ordinal = day.toordinal()
                self.working[ordinal - self.origin] = 0
                self.labels[ordinal] = block.name
                self.workday_names.pop(ordinal, None)
                self.sources[ordinal] = override.source
        for extra in override.workdays:
            ordinal = extra.day.toordinal()
            self.working[ordinal - self.origin] = 1
            self.labels.pop(ordinal, None)
            if extra.name:
                self.workday_names[ordinal] = extra.name
            self.sources[ordinal] = override.source


def _festival(label: str) -> str | None:
    """The festival a holiday label belongs to ("清明节（补假）" -> "清明节"); None for 休息日."""
    if label.startswith("休息日"):
        return None
    name = re.sub(r"（[^）]*）$", "", label).strip()
    if name in ("农历除夕", "春节延长假期"):
        return "春节"
    return name or None


class ChinaCalendar:
    """Chinese official working days over ``holidays`` data plus office overrides."""

    def __init__(
        self,
        overrides: Iterable[CalendarOverride] = (),
        *,
        first_year: int = DEFAULT_FIRST_YEAR,
        last_year: int = DEFAULT_LAST_YEAR,
        region: str | None = None,
    ) -> None:
        """``overrides`` are the office's files; ``region`` (e.g. "宁夏") adds the notices shipped
        with duban for that autonomous region (:mod:`calendars.regions`)."""
        if not 1950 <= first_year <= last_year <= 2100:
            raise CalendarError(f"日历范围无效：{first_year}—{last_year}（应在 1950—2100 之内）")
        self.first_year = first_year
        self.last_year = last_year
        self.region: Region | None = find_region(region)
        shipped, office = regional_overrides(self.region, tuple(overrides))
        self.shipped: tuple[CalendarOverride, ...] = tuple(
            o for o in shipped if first_year <= o.year <= last_year
        )
        self.overrides: tuple[CalendarOverride, ...] = tuple(office)
        self._check_overrides()

    @property
    def all_overrides(self) -> tuple[CalendarOverride, ...]:
        """The shipped regional notices, then the office's files."""
        return self.shipped + self.overrides

    # -- construction -------------------------------------------------------------------------

    def _check_overrides(self) -> None:
        whole_year: dict[int, CalendarOverride] = {}
        decided: dict[date, tuple[bool, CalendarOverride]] = {}
        for override in self.all_overrides:
            if not self.first_year <= override.year <= self.last_year:
                raise CalendarError(
                    f"{override.path}：年份 {override.year} 超出日历范围 {self.first_year}—{self.last_year}",
                    path=override.path,
                )
            if override.scope == "year":
                other = whole_year.get(override.year)
                if other is not None:
                    raise CalendarError(
                        f"{override.path} 与 {other.path} 都是 {override.year} 年的整年安排，只能保留一个",
                        path=override.path,
                    )
                whole_year[override.year] = override
            else:
                self._check_days_conflict(override, decided)

    @staticmethod
    def _check_days_conflict(
        override: CalendarOverride, decided: dict[date, tuple[bool, CalendarOverride]]
    ) -> None:
        marks = [(d, False, b.line) for b in override.holidays for d in b.days()]
        marks += [(w.day, True, w.line) for w in override.workdays]
        for day, working, line in marks:
            previous = decided.get(day)
            if previous is not None and previous[0] != working:
                raise CalendarError(
                    f"{override.where(line)}：{day} 与 {previous[1].path} 的修正相互矛盾（一个放假、一个上班）",
                    path=override.path,
                    line=line,
                )
            decided[day] = (working, override)

    @cached_property
    def _index(self) -> _Index:
        return _Index(_library_days(self.first_year, self.last_year), self.all_overrides)

    @property
    def first_day(self) -> date:
        return date(self.first_year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.last_year, 12, 31)

    def _pos(self, d: date) -> int:
        if isinstance(d, datetime) or not isinstance(d, date):
            raise CalendarError(f"应为日期（date），而不是 {d!r}")
        pos = d.toordinal() - self._index.origin
        if not 0 <= pos < len(self._index.working):
            raise CalendarError(f"日期 {d} 超出工作日历范围（{self.first_day} 至 {self.last_day}）")
        return pos

    def _nth(self, k: int, start: date, n: int) -> date:
        ordinals = self._index.ordinals
        if not 0 <= k < len(ordinals):
            raise CalendarError(
                f"从 {start} 起 {n} 个工作日超出工作日历范围（{self.first_day} 至 {self.last_day}）"
            )
        return date.fromordinal(ordinals[k])

    # -- queries ------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        return bool(self._index.working[self._pos(d)])

    def add_working_days(self, d: date, n: int) -> date:
        """n > 0: n-th working day after d; n < 0: |n|-th before d; 0: ``roll(d)``."""
        pos = self._pos(d)
        prefix = self._index.prefix
        if n > 0:
            return self._nth(prefix[pos + 1] + n - 1, d, n)
        if n < 0:
            return self._nth(prefix[pos] + n, d, n)
        return self.roll(d)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b] if b ≥ a; minus the working days in [b, a) if b < a."""
        pa, pb = self._pos(a), self._pos(b)
        prefix = self._index.prefix
        if pb >= pa:
            return prefix[pb + 1] - prefix[pa + 1]
        return prefix[pb] - prefix[pa]

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        return self.add_working_days(d, 1)

    def roll(self, d: date) -> date:
        """d if it is a working day, else the next working day (a limit ending on a day off)."""
        pos = self._pos(d)
        return self._nth(self._index.prefix[pos], d, 0)

    def last_working_day_of_month(self, year: int, month: int) -> date:
        if not 1 <= month <= 12:
            raise CalendarError(f"月份无效：{year}-{month:02d}")
        last = (
            date(year + (month == 12), month % 12 + 1, 1) if year < 9999 else date(year, 12, 31)
        ) - timedelta(1)
        pos = self._pos(last)
        if self._index.working[pos]:
            return last
        day = self._nth(self._index.prefix[pos + 1] - 1, last, 0)
        if (day.year, day.month) != (year, month):  # pragma: no cover - no month is all off
            raise CalendarError(f"{year} 年 {month} 月没有工作日")
        return day

    def day_info(self, d: date) -> DayInfo:
        pos = self._pos(d)
        index = self._index
        ordinal = d.toordinal()
        weekend = d.weekday() >= 5
        if index.working[pos]:
            if not weekend:
                return DayInfo(d, "workday", None, True)
            explicit = index.workday_names.get(ordinal)
            return DayInfo(
                d,
                "adjusted_workday",
                explicit or self._workday_name(ordinal),
                True,
                explicit,
                index.sources.get(ordinal),
            )
        label = index.labels.get(ordinal)
        kind: DayKind = "holiday" if label is not None or not weekend else "weekend"
        name = self._run_name(self._run(ordinal))
        return DayInfo(d, kind, name, False, label, index.sources.get(ordinal))

    def is_provisional(self, year: int) -> bool:
        """Not yet official: the 国办 notice is missing, or (for an office in an autonomous
        region) the region's notices do not cover every festival of the year."""
        if year not in self._confirmed_years():
            return True
        return self.region is not None and not self.region.covers(self.all_overrides, year)

    def year_status(self, years: Iterable[int] | None = None) -> list[YearStatus]:
        """Each year's source and status; by default from ``first_year`` to the first provisional
        year after the last confirmed one (and any year an override touches)."""
        if years is None:
            last = max(
                [*self._confirmed_years(), *(o.year for o in self.overrides)],
                default=self.first_year,
            )
            years = range(self.first_year, min(last + 1, self.last_year) + 1)
        return [self._status(year) for year in years]

    def holiday_blocks(self, start: date, end: date) -> list[HolidayRun]:
        """Blocks of days off containing a holiday that intersect [start, end]."""
        first = max(start.toordinal() - _MAX_RUN, self._index.origin)
        last = min(end.toordinal() + _MAX_RUN, self._index.origin + len(self._index.working) - 1)
        blocks, ordinal = [], first
        while ordinal <= last:
            if self._index.working[ordinal - self._index.origin]:
                ordinal += 1
                continue
            run = self._run(ordinal)
            name = self._run_name(run)
            if name and run[-1] >= start.toordinal() and run[0] <= end.toordinal():
                blocks.append(HolidayRun(name, date.fromordinal(run[0]), date.fromordinal(run[-1])))
            ordinal = run[-1] + 1
        return blocks

    # -- helpers ------------------------------------------------------------------------------

    def _run(self, ordinal: int) -> range:
        """The consecutive days off around ``ordinal`` (which must be a day off)."""
        working, origin = self._index.working, self._index.origin
        lo = hi = ordinal
        while lo - 1 >= origin and not working[lo - 1 - origin] and ordinal - lo < _MAX_RUN:
            lo -= 1
        while (
            hi + 1 - origin < len(working)
            and not working[hi + 1 - origin]
            and hi - ordinal < _MAX_RUN
        ):
            hi += 1
        return range(lo, hi + 1)

    def _run_name(self, run: range) -> str | None:
        names: list[str] = []
        for ordinal in run:
            label = self._index.labels.get(ordinal)
            festival = _festival(label) if label else None
            if festival and festival not in names:
                names.append(festival)
        return "、".join(names) or None

    def _workday_name(self, ordinal: int) -> str:
        """Name a working weekend after the block whose day off it pays for."""
        index = self._index
        target = index.links.get(ordinal)
        if target is None or index.working[target - index.origin]:
            nearby = [
                o
                for step in range(1, 15)
                for o in (ordinal - step, ordinal + step)
                if 0 <= o - index.origin < len(index.working)
                and not index.working[o - index.origin]
                and _festival(index.labels.get(o, "休息日") or "休息日")
            ]
            target = nearby[0] if nearby else None
        name = self._run_name(self._run(target)) if target is not None else None
        return f"{name}调休" if name else "调休上班"

    def _confirmed_years(self) -> set[int]:
        years = set(library_confirmed_years())
        years.update(o.year for o in self.overrides if o.confirms_year)
        return years

    def _status(self, year: int) -> YearStatus:
        mine = [o for o in self.all_overrides if o.year == year]
        whole = next((o for o in mine if o.confirms_year), None)
        if whole is not None:
            source = f"{whole.source}（{whole.path.name}）"
        elif year in library_confirmed_years():
            source = f"holidays {library_version()}"
        else:
            source = f"holidays {library_version()}（推算）"
        fixes = [o for o in mine if not o.confirms_year and o.region is None]
        if fixes:
            source += "；修正：" + "、".join(f"{o.source}（{o.path.name}）" for o in fixes)
        regional = [o for o in mine if o.region is not None]
        if regional:
            source += f"；{regional[0].region}：" + "、".join(
                f"{o.source}（{'随附' if o in self.shipped else o.path.name}）" for o in regional
            )
        elif self.region is not None:
            source += f"；{self.region.name}：尚无自治区放假通知"
        return YearStatus(
            year,
            source,
            not self.is_provisional(year),
            tuple(str(o.path) for o in mine),
            region=self.region.name if self.region else None,
            national_confirmed=year in self._confirmed_years(),
        )

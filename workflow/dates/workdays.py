"""The office's working-day calendar: loading overrides, installing them, provisional years.

* :func:`load_calendar` builds the one :class:`calendars.ChinaCalendar` of a process from the
  ``holidays`` data plus ``<config dir>/calendar/*.toml`` (format: :mod:`calendars.overrides`).
* :func:`install_override` validates a notice file against everything already installed, then
  copies it in (``<year>.toml`` for a whole year, ``<year>-days-<name>.toml`` for corrections);
  on any error nothing is written.
* A due date computed on a provisional year must be flagged: :func:`provisional_years_used`,
  :func:`provisional_message` and :class:`ProvisionalWarner` (warn once per command).
* After an override lands, :func:`find_provisional_due` lists assignments whose due date was
  computed on a provisional calendar, and :func:`recompute_due_dates` recomputes them from
  ``Assignment.due_rule`` (see :func:`workflow.dates.due.due_from_rule`) with a history row.
* ``*_view`` functions are what ``duban calendar`` renders (plain dicts, JSON-ready).

``calendars.CalendarError`` never leaves this module: it becomes ``CalendarInputError``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from calendars import CalendarError, CalendarOverride, ChinaCalendar, load_override
from calendars.china import WEEKDAYS_ZH
from workflow.config import Config
from workflow.errors import CalendarInputError, ConfigError, InvalidInput

CALENDAR_DIR = "calendar"
_MONTH = re.compile(r"^\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*月?\s*$")


@contextmanager
def calendar_errors() -> Iterator[None]:
    """Turn the calendar layer's ``CalendarError`` into the CLI's ``CalendarInputError``."""
    try:
        yield
    except CalendarError as exc:
        raise CalendarInputError(exc.message) from None


def calendar_dir(config: Config) -> Path:
    return config.config_dir / CALENDAR_DIR


def installed_overrides(config: Config) -> list[CalendarOverride]:
    """Every ``*.toml`` in the calendar directory, parsed and validated, in name order."""
    directory = calendar_dir(config)
    if not directory.is_dir():
        return []
    with calendar_errors():
        return [load_override(path) for path in sorted(directory.glob("*.toml"))]


def office_region(config: Config) -> str | None:
    """``[office] region`` of duban.toml ("宁夏", "广西", "新疆", "西藏"), validated; None if unset."""
    value = config.section("office").get("region")
    if value is None:
        return None
    from calendars.regions import find_region

    if not isinstance(value, str):
        raise ConfigError('配置文件的 [office] region 应为地区名称，例如 region = "宁夏"')
    try:
        region = find_region(value)
    except CalendarError as exc:
        raise ConfigError(f"配置文件的 [office] region 无效：{exc.message}") from None
    return region.name if region else None


def due_on_rest_day(config: Config | None) -> str:
    """``[office] due_on_rest_day``: where a written-out deadline on a rest day or holiday
    goes — ``"next"`` working day (default; 民法典 art. 203) or ``"previous"``."""
    from workflow.dates.due import REST_DAY_CHOICES

    value = (config.section("office") if config is not None else {}).get("due_on_rest_day")
    if value is None:
        return "next"
    if value not in REST_DAY_CHOICES:
        raise ConfigError(
            f"配置文件的 [office] due_on_rest_day 无效：{value!r}"
            '（应为 "next" 顺延至下一个工作日，或 "previous" 提前至上一个工作日）'
        )
    return value


def load_calendar(config: Config) -> ChinaCalendar:
    """The calendar of this office: ``holidays`` data, the notices shipped for its region
    (``[office] region``) and the installed override files."""
    region = office_region(config)
    with calendar_errors():
        return ChinaCalendar(installed_overrides(config), region=region)


# -- installing an override ---------------------------------------------------------------------


@dataclass(frozen=True)
class InstallInfo:
    """What ``install_override`` did."""

    year: int
    scope: str
    source: str
    url: str | None
    installed: Path
    replaced: tuple[Path, ...]
    confirmed: bool  # the year is confirmed after the install
    holidays: int  # number of holiday blocks in the file
    workdays: int  # number of 调休 working days in the file
    region: str | None = None  # an autonomous region's notice

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "scope": self.scope,
            "source": self.source,
            "url": self.url,
            "installed": str(self.installed),
            "replaced": [str(p) for p in self.replaced],
            "confirmed": self.confirmed,
            "holidays": self.holidays,
            "workdays": self.workdays,
            "region": self.region,
        }


def _target_name(override: CalendarOverride) -> str:
    if override.scope == "year":
        return f"{override.year}.toml"
    stem = re.sub(r"[^\w\-]+", "_", override.path.stem).strip("_") or "days"
    return f"{override.year}-days-{stem}.toml"


def install_override(config: Config, path: Path | str) -> InstallInfo:
    """Validate ``path`` (alone and with the installed files), then copy it into the calendar dir.

    A whole-year file replaces any installed whole-year file of the same year; a corrections file
    replaces an installed one with the same name. Nothing is written unless everything validates.
    """
    source_path = Path(path)
    from calendars.regions import canonical

    with calendar_errors():
        new = canonical(load_override(source_path))
    directory = calendar_dir(config)
    target = directory / _target_name(new)
    existing = installed_overrides(config)
    replaced = [
        o
        for o in existing
        if o.path.resolve() == target.resolve()
        or (new.confirms_year and o.confirms_year and o.year == new.year)
    ]
    kept = [o for o in existing if o not in replaced]
    with calendar_errors():
        calendar = ChinaCalendar([*kept, new], region=office_region(config))
        calendar.is_working_day(date(new.year, 1, 1))  # build the index: applies every file
    _write_atomically(target, source_path.read_bytes())
    for old in replaced:
        if old.path.resolve() != target.resolve():
            old.path.unlink(missing_ok=True)
    return InstallInfo(
        year=new.year,
        scope=new.scope,
        source=new.source,
        url=new.url,
        installed=target,
        replaced=tuple(o.path for o in replaced),
        confirmed=not calendar.is_provisional(new.year),
        holidays=len(new.holidays),
        workdays=len(new.workdays),
        region=new.region,
    )


def _write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- provisional years --------------------------------------------------------------------------


def provisional_years_used(cal: ChinaCalendar, dates: Iterable[date]) -> set[int]:
    """The provisional years among ``dates`` (pass every date a computation touched)."""
    return {d.year for d in dates if cal.is_provisional(d.year)}


def provisional_message(years: Iterable[int]) -> str | None:
    """One Chinese warning for the given provisional years, or None when there are none."""
    ordered = sorted(set(years))
    if not ordered:
        return None
    listed = "、".join(str(y) for y in ordered)
    return (
        f"{listed} 年的节假日安排尚未确认（国务院办公厅或自治区的放假通知尚未发布或尚未导入），按暂定日历计算的日期可能变动；"
        "通知发布后请用 duban calendar import 导入"
    )


class ProvisionalWarner:
    """Collects the provisional years a command touched and yields the warning once.

    Pure: it never prints; the caller shows :meth:`message` (``None`` when nothing to say or
    when already said).
    """

    def __init__(self, cal: ChinaCalendar) -> None:
        self.cal = cal
        self.years: set[int] = set()
        self._said = False

    def note(self, *dates: date) -> None:
        self.years |= provisional_years_used(self.cal, dates)

    def message(self) -> str | None:
        if self._said:
            return None
        text = provisional_message(self.years)
        if text is not None:
            self._said = True
        return text


def span_of_days(a: date, b: date) -> list[date]:
    """One date per calendar year between a and b (a computation across them uses each)."""
    lo, hi = sorted((a.year, b.year))
    return [date(y, 1, 1) for y in range(lo, hi + 1)]


# -- what the CLI shows -------------------------------------------------------------------------


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` (also ``YYYY/MM``, ``YYYY年M月``) → (year, month); impossible months refused."""
    found = _MONTH.match(text or "")
    if found:
        year, month = int(found.group(1)), int(found.group(2))
        if 1 <= month <= 12 and year >= 1:
            return year, month
    raise InvalidInput(f"月份无效：“{text}”（应为真实存在的月份，格式 YYYY-MM，如 2026-02）")


def month_view(cal: ChinaCalendar, year: int, month: int) -> dict[str, Any]:
    """Every day of the month with its kind and name, plus the holiday blocks touching it."""
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1).toordinal() - 1
    with calendar_errors():
        days = [cal.day_info(date.fromordinal(o)) for o in range(first.toordinal(), last + 1)]
        blocks = cal.holiday_blocks(first, date.fromordinal(last))
    return {
        "month": f"{year:04d}-{month:02d}",
        "provisional": cal.is_provisional(year),
        "working_days": sum(d.working for d in days),
        "days": [d.to_dict() for d in days],
        "holidays": [b.to_dict() | {"sources": _block_sources(cal, b)} for b in blocks],
        "adjusted_workdays": [d.to_dict() for d in days if d.kind == "adjusted_workday"],
    }


def _block_sources(cal: ChinaCalendar, block: Any) -> list[str]:
    """The notices the days of a holiday block cite (a regional day cites its region's)."""
    found: list[str] = []
    with calendar_errors():
        for ordinal in range(block.start.toordinal(), block.end.toordinal() + 1):
            source = cal.day_info(date.fromordinal(ordinal)).source
            if source and source not in found:
                found.append(source)
    return found


def add_view(cal: ChinaCalendar, start: date, n: int) -> dict[str, Any]:
    with calendar_errors():
        result = cal.add_working_days(start, n)
        info = cal.day_info(result)
        start_works = cal.is_working_day(start)
    if n > 0:
        meaning = f"{start} 之后第 {n} 个工作日（不含 {start} 当天）"
    elif n < 0:
        meaning = f"{start} 之前第 {-n} 个工作日（不含 {start} 当天）"
    else:
        meaning = (  # roll: a time limit that ends on a day off ends on the next working day
            f"{start} 当天（工作日，无需顺延）"
            if start_works
            else f"{start} 是休息日，顺延至下一个工作日"
        )
    return {
        "start": start.isoformat(),
        "n": n,
        "result": result.isoformat(),
        "weekday": WEEKDAYS_ZH[result.weekday()],
        "kind": info.kind,
        "name": info.name,
        "meaning": meaning,
        "provisional_years": sorted(provisional_years_used(cal, span_of_days(start, result))),
    }


def between_view(cal: ChinaCalendar, a: date, b: date) -> dict[str, Any]:
    with calendar_errors():
        count = cal.working_days_between(a, b)
    meaning = (
        "不含起始日、含结束日" if b >= a else "结束日早于起始日：含结束日、不含起始日，记为负数"
    )
    return {
        "from": a.isoformat(),
        "to": b.isoformat(),
        "working_days": count,
        "meaning": meaning,
        "provisional_years": sorted(provisional_years_used(cal, span_of_days(a, b))),
    }


def status_view(cal: ChinaCalendar) -> list[dict[str, Any]]:
    return [s.to_dict() | {"status_zh": s.status_zh} for s in cal.year_status()]


# -- due dates computed on a provisional calendar -----------------------------------------------

"""Office overrides: a year's schedule (or a few corrected days) typed from a State Council notice.

The State Council (国务院办公厅) publishes next year's holiday schedule around November. Until
the ``holidays`` library ships it, the office can write it down in a small TOML file and put it
in ``<config dir>/calendar/`` (``duban calendar import FILE`` validates and installs it).

File format (UTF-8)::

    year = 2027                                   # required: the year the notice is about
    source = "国办发明电〔2026〕X号"               # required: the notice's number or title
    url = "https://www.gov.cn/..."                # optional
    scope = "year"                                # optional: "year" (default) or "days"
    region = "宁夏"                               # optional: an autonomous region's own notice

    [[holiday]]                                   # one per holiday block, as the notice lists it
    name = "春节"                                 # required
    from = 2027-02-06                             # required; TOML date (quotes allowed)
    to = 2027-02-13                               # optional, default = from; inclusive

    [[workday]]                                   # one per 调休 working weekend day
    date = 2027-02-14                             # required
    name = "春节调休"                             # optional

``scope = "year"`` means the file is the whole schedule of that year: the library's data (or
guess) for the year is discarded, every Monday–Friday outside the listed holiday blocks is a
working day, every Saturday/Sunday is off unless listed as ``[[workday]]``. Such a file makes a
provisional year confirmed. ``[[workday]]`` must then be a Saturday or Sunday.

``scope = "days"`` corrects only the listed days on top of the library's data (a holiday block
becomes days off, a ``[[workday]]`` becomes a working day, even a weekday the library wrongly
marks as a holiday); it does not change whether the year is confirmed.

``region`` marks the notice of an autonomous region (its days off for 开斋节, 三月三, …) rather
than of the State Council: such a file must be ``scope = "days"``, and it counts only for an
office whose ``[office] region`` is that region (see :mod:`calendars.regions`).

Every date must lie in ``year`` (a notice that names a working Saturday in the previous December
is written as a separate ``scope = "days"`` file for that previous year). A day may not be both a
holiday and a working day, holiday blocks may not overlap, and unknown keys are errors: a typo
must not silently drop a day. Every error names the file and the line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from calendars.errors import CalendarError
from calendars.toml_text import (
    TomlEncodingError,
    decode_toml_bytes,
    toml_error_line,
    toml_error_reason,
)

SCOPES = ("year", "days")
_TOP_KEYS = {"year", "source", "url", "scope", "region", "holiday", "workday"}
_HOLIDAY_KEYS = {"name", "from", "to"}
_WORKDAY_KEYS = {"date", "name"}
_KEY_LINE = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")
_HEADER_LINE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_WEEKDAY_ZH = "一二三四五六日"


@dataclass(frozen=True)
class HolidayBlock:
    """Consecutive days off (放假) named as in the notice, both ends inclusive."""

    name: str
    start: date
    end: date
    line: int = 0

    def days(self) -> list[date]:
        return [self.start + timedelta(i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class ExtraWorkday:
    """A day that is worked although it would be off (调休上班)."""

    day: date
    name: str | None = None
    line: int = 0


@dataclass(frozen=True)
class CalendarOverride:
    """One parsed, validated override file."""

    path: Path
    year: int
    source: str
    url: str | None
    scope: str
    holidays: tuple[HolidayBlock, ...]
    workdays: tuple[ExtraWorkday, ...]
    region: str | None = None  # an autonomous region's notice (None: the State Council's)

    @property
    def confirms_year(self) -> bool:
        """A whole-year schedule confirms the year; a correction of some days does not."""
        return self.scope == "year"

    def where(self, line: int = 0) -> str:
        return f"{self.path} 第 {line} 行" if line else str(self.path)


class _Lines:
    """Find the line of a key in a flat TOML file (tomllib does not report positions)."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str | None, int, str], int] = {}
        self.headers: dict[tuple[str, int], int] = {}
        self.unknown_tables: list[tuple[str, int]] = []
        counts: dict[str, int] = {}
        section: tuple[str | None, int] = (None, 0)
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw
            header = _HEADER_LINE.match(line)
            if header and not _KEY_LINE.match(line):
                name = header.group(2).strip().strip('"')
                if header.group(1) == "[[":
                    index = counts.get(name, 0)
                    counts[name] = index + 1
                    section = (name, index)
                    self.headers[(name, index)] = number
                else:
                    section = (name, 0)
                    self.unknown_tables.append((name, number))
                continue
            key = _KEY_LINE.match(line)
            if key:
                name = next(g for g in key.groups() if g)
                self._lines.setdefault((section[0], section[1], name), number)

    def key(self, key: str, section: str | None = None, index: int = 0) -> int:
        found = self._lines.get((section, index, key))
        if found:
            return found
        return self.headers.get((section, index), 0) if section else 0


def parse_override(text: str, path: Path | str) -> CalendarOverride:
    """Parse and validate override text; ``path`` is only used in messages and kept on the result."""
    path = Path(path)
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        line = toml_error_line(exc)
        reason = toml_error_reason(exc)
        raise CalendarError(
            f"{_where(path, line)}：不是合法的 TOML" + (f"，{reason}" if reason else ""),
            path=path,
            line=line,
        ) from None
    return _validate(data, _Lines(text), path)


def load_override(path: Path | str) -> CalendarOverride:
    """Read and validate one override file."""
    path = Path(path)
    try:
        text = decode_toml_bytes(path.read_bytes())
    except FileNotFoundError:
        raise CalendarError(f"找不到日历文件 {path}", path=path) from None
    except TomlEncodingError as exc:
        raise CalendarError(f"{path}：{exc.message}", path=path, line=exc.line) from None
    except IsADirectoryError:
        raise CalendarError(f"无法读取日历文件 {path}：这是一个目录", path=path) from None
    except PermissionError:
        raise CalendarError(f"无法读取日历文件 {path}：没有读取权限", path=path) from None
    except OSError as exc:
        raise CalendarError(
            f"无法读取日历文件 {path}（系统原文：{exc.strerror or exc}）", path=path
        ) from None
    return parse_override(text, path)


def _where(path: Path, line: int) -> str:
    return f"{path} 第 {line} 行" if line else str(path)


def _fail(path: Path, line: int, problem: str) -> CalendarError:
    return CalendarError(f"{_where(path, line)}：{problem}", path=path, line=line)


def _validate(data: dict[str, Any], lines: _Lines, path: Path) -> CalendarOverride:
    for name, number in lines.unknown_tables:
        if name not in _TOP_KEYS:
            raise _fail(path, number, f"未知的表 [{name}]（只允许 [[holiday]] 和 [[workday]]）")
    for key in data:
        if key not in _TOP_KEYS:
            raise _fail(path, lines.key(key), f"未知的键 {key!r}（允许：{_allowed(_TOP_KEYS)}）")
    year = data.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1950 <= year <= 2100:
        problem = (
            "缺少 year（年份，如 year = 2027）"
            if year is None
            else f"year 应为 1950–2100 的整数，而不是 {year!r}"
        )
        raise _fail(path, lines.key("year"), problem)
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise _fail(path, lines.key("source"), "缺少 source（国务院办公厅通知的文号或标题）")
    url = data.get("url")
    if url is not None and not isinstance(url, str):
        raise _fail(path, lines.key("url"), "url 应为字符串")
    scope = data.get("scope", "year")
    if scope not in SCOPES:
        raise _fail(
            path,
            lines.key("scope"),
            f'scope 应为 "year"（整年安排）或 "days"（修正个别日期），而不是 {scope!r}',
        )
    region = data.get("region")
    if region is not None and (not isinstance(region, str) or not region.strip()):
        raise _fail(path, lines.key("region"), 'region 应为自治区名称，如 region = "宁夏"')
    if region is not None and scope != "days":
        raise _fail(
            path,
            lines.key("scope") or lines.key("region"),
            '自治区的放假通知（有 region）应写 scope = "days"：它只在全国安排之上增减个别日期',
        )
    blocks = _holidays(data.get("holiday", []), lines, path, year)
    workdays = _workdays(data.get("workday", []), lines, path, year)
    _check_overlaps(blocks, workdays, path)
    if scope == "year":
        _check_weekend_workdays(workdays, path)
    if scope == "year" and not blocks:
        raise _fail(path, 0, 'scope = "year" 的文件应列出该年全部放假安排（至少一个 [[holiday]]）')
    if not blocks and not workdays:
        raise _fail(path, 0, "文件中没有任何 [[holiday]] 或 [[workday]]")
    return CalendarOverride(
        path=path,
        year=year,
        source=source.strip(),
        url=url,
        scope=scope,
        holidays=tuple(blocks),
        workdays=tuple(workdays),
        region=region.strip() if region else None,
    )


def _allowed(keys: set[str]) -> str:
    return "、".join(sorted(keys))


def _table_list(value: Any, name: str, lines: _Lines, path: Path) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(path, lines.key(name), f"{name} 应写成 [[{name}]] 表")
    return value


def _holidays(value: Any, lines: _Lines, path: Path, year: int) -> list[HolidayBlock]:
    blocks = []
    for index, entry in enumerate(_table_list(value, "holiday", lines, path)):
        at = lines.headers.get(("holiday", index), 0)
        _no_unknown_keys(entry, _HOLIDAY_KEYS, "holiday", index, lines, path)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(
                path,
                lines.key("name", "holiday", index) or at,
                "[[holiday]] 缺少 name（假期名称，如 春节）",
            )
        if "from" not in entry:
            raise _fail(path, at, f"[[holiday]] {name} 缺少 from（开始日期）")
        start = _date(entry["from"], lines.key("from", "holiday", index) or at, path, year)
        end = _date(entry.get("to", start), lines.key("to", "holiday", index) or at, path, year)
        if end < start:
            raise _fail(
                path,
                lines.key("to", "holiday", index) or at,
                f"{name} 的结束日期 {end} 早于开始日期 {start}",
            )
        blocks.append(HolidayBlock(name=name.strip(), start=start, end=end, line=at))
    return blocks


def _workdays(value: Any, lines: _Lines, path: Path, year: int) -> list[ExtraWorkday]:
    days = []
    for index, entry in enumerate(_table_list(value, "workday", lines, path)):
        at = lines.headers.get(("workday", index), 0)
        _no_unknown_keys(entry, _WORKDAY_KEYS, "workday", index, lines, path)
        if "date" not in entry:
            raise _fail(path, at, "[[workday]] 缺少 date（调休上班的日期）")
        line = lines.key("date", "workday", index) or at
        day = _date(entry["date"], line, path, year)
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise _fail(
                path,
                lines.key("name", "workday", index) or at,
                "[[workday]] 的 name 应为非空字符串",
            )
        days.append(ExtraWorkday(day=day, name=name.strip() if name else None, line=line))
    return days


def _no_unknown_keys(
    entry: dict, allowed: set[str], table: str, index: int, lines: _Lines, path: Path
) -> None:
    for key in entry:
        if key not in allowed:
            line = lines.key(key, table, index) or lines.headers.get((table, index), 0)
            raise _fail(path, line, f"[[{table}]] 中未知的键 {key!r}（允许：{_allowed(allowed)}）")


def _date(value: Any, line: int, path: Path, year: int) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(path, line, f"{value!r} 不是有效日期（应为 YYYY-MM-DD）") from None
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise _fail(path, line, f"{value!r} 不是日期（应为 YYYY-MM-DD）")
    if value.year != year:
        raise _fail(path, line, f"日期 {value} 不在本文件的年份 {year} 内")
    return value


def _check_weekend_workdays(workdays: list[ExtraWorkday], path: Path) -> None:
    for work in workdays:
        if work.day.weekday() < 5:
            raise _fail(
                path,
                work.line,
                f"{work.day}（星期{_WEEKDAY_ZH[work.day.weekday()]}）本来就是工作日，"
                "[[workday]] 只列调休上班的周六、周日",
            )


def _check_overlaps(blocks: list[HolidayBlock], workdays: list[ExtraWorkday], path: Path) -> None:
    seen: dict[date, HolidayBlock] = {}
    for block in blocks:
        for day in block.days():
            other = seen.get(day)
            if other is not None:
                raise _fail(
                    path,
                    block.line,
                    f"{block.name}（{block.start}—{block.end}）与第 {other.line} 行的 {other.name} 在 {day} 重叠",
                )
            seen[day] = block
    worked: dict[date, ExtraWorkday] = {}
    for work in workdays:
        if work.day in seen:
            block = seen[work.day]
            raise _fail(
                path,
                work.line,
                f"{work.day} 既是假期（第 {block.line} 行 {block.name}）又是调休上班日",
            )
        if work.day in worked:
            raise _fail(
                path, work.line, f"{work.day} 重复列出（第 {worked[work.day].line} 行已有）"
            )
        worked[work.day] = work

"""Deadline language: a 完成时限 phrase → a rule → due dates. Pure functions, no database.

What a phrase means (``plan_year`` fills in a missing year):

=============================  =========================================================
phrase                         due dates
=============================  =========================================================
2021年11月20日前 / 11月20日    that date; on a day off the next working day (``roll`` "next")
7月31日、11月30日前报送        each listed date (kind ``report_dates``, period = ISO date)
2023-11-30 / 2023.11.30        that date (a date cell read from Excel)
11月 / 11月底前 / 11月份       the month's end (kind ``date``, ``roll`` true, see below)
11月上旬 / 中旬 / 下旬          the 10th / 20th / month end (``roll`` true)
11月前                         before November: October's end, with a warning
年底前 / 年内 / 年末            31 December (``roll`` true)
上半年 / 下半年                 30 June / 31 December (``roll`` true)
第三季度 / 三季度末前           the quarter's last day (``roll`` true)
每月… / 每月10日前              12 dues, one per month (period "2023-03"); month end or that day
每季度… / 按季度                4 dues at quarter ends (period "2023-Q2")
每半年                          2 dues (period "2023-H1", "2023-H2")
每年至少1次 / 每年一次          the year end; "每年至少2次/4次/12次" → half-years/quarters/months
长期坚持 / 长期 / 常态化 / 全年  kind ``ongoing``: one due per plan report date (period = ISO
                               date); without report dates, the year's last working day
N个工作日内                     kind ``event_limit``, ``working_days`` = N, no due date: the
                               time limit starts when something happens (``duban event add``)
(empty cell, "/", "无")         the text's phrase (``find_phrase``), else kind ``default``:
                               the plan's report dates, else the year's last working day
anything else                   kind ``unreadable``: raw text kept, plan default, a warning
=============================  =========================================================

Period ends roll *back*. A deadline that is the end of a period (月底, "11月", 年底, 上半年,
季度) and falls on a day off moves to the last working day on or before it: the field reads
"11月底前" as "by the last working day of November", never as a date in December, so a year's
work stays in its year. A date written out ("11月20日前", "7月31日", "每月10日前", the plan's
report dates) that falls on a rest day or holiday moves to the next working day (民法典 art. 203:
a period whose last day is a statutory rest day ends on the first working day after it), or to
the previous one when the office sets ``[office] due_on_rest_day = "previous"`` (``rest_day``
here). ``Due.note`` says which day was chosen and why ("2021-11-20 为休息日，顺延至 2021-11-22").
Working-day limits always end on a working day (``calendar.add_working_days``).

``Due.rule`` is JSON stored in ``Assignment.due_rule`` so the due date can be recomputed when the
calendar changes (:func:`due_from_rule`)::

    {"kind": "date", "date": "2023-11-30", "roll": true}   # roll: move back to a working day
    {"kind": "working_days", "start": "2023-03-01", "n": 3}

Errors: a phrase duban cannot read is *not* an error (kind ``unreadable`` + a warning). A phrase
it can read but that names an impossible date ("13月", "2月30日", "第五季度", "0个工作日")
raises :class:`DeadlineError` (a ``ValueError`` with a Chinese message and ``source`` telling
whether it came from the 完成时限 cell or the requirement text); the importer adds file, row and
column and turns it into a ``LedgerError``.

Digits may be full-width ("１１月") or Chinese numerals ("十一月", "三个工作日", "二〇二一年").

Public helpers: :func:`parse_deadline`, :func:`find_phrase` (a phrase inside requirement text,
stricter than a cell; it lives with the patterns in :mod:`workflow.ledger.phrases`), :func:`find_report_dates` (report dates announced in a ledger's intro),
:func:`plan_default_dues`, :func:`working_day_due` (an event's limit), :func:`due_from_rule`,
:func:`roll_back`. ``Due.provisional`` is true when the calendar consulted for the date is a
provisional (unpublished) year; written-out dates never are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from workflow.dates.due import (
    DeadlineError,
    Due,
    WorkingCalendar,
    date_rule,
    is_provisional_year,
    out_of_range,
    rest_day_note,
    roll_back,
    rolled,
)
from workflow.ledger.phrases import (
    DATE,
    DATE_LIST,
    EMPTY,
    END,
    cn_number,
    find_phrase,
    normalize,
    search,
)


@dataclass(frozen=True)
class DeadlineResult:
    kind: str  # date | ongoing | recurring | report_dates | event_limit | default | unreadable
    dues: list[Due]
    phrase: str | None
    source: str  # deadline_cell | text | plan_default
    warnings: list[str] = field(default_factory=list)  # Chinese
    working_days: int | None = None  # for 'N个工作日内': the limit, no fixed date

    @property
    def due_dates(self) -> list[date]:
        return [d.due for d in self.dues]


def find_report_dates(text: str | None, plan_year: int) -> list[date]:
    """Report dates announced in a ledger's intro ("分别于2023年7月31日、11月30日前报送").

    Only a date list followed by 前/之前/以前/止 counts; the year defaults to ``plan_year``.
    Raises :class:`DeadlineError` for an impossible date.
    """
    if not text:
        return []
    norm = normalize(text)
    found: set[date] = set()
    for m in re.finditer(DATE_LIST + END, norm):
        ctx = _Ctx(plan_year, _NoCalendar(), text[m.start() : m.end()], "text", [], False)
        _, dues = _dates(ctx, m)
        found.update(d.due for d in dues)
    return sorted(found)


class _NoCalendar:
    """Written-out dates never consult the calendar."""

    def is_working_day(self, d: date) -> bool:  # pragma: no cover - never called
        return True

    def add_working_days(self, d: date, n: int) -> date:  # pragma: no cover - never called
        raise NotImplementedError

    def is_provisional(self, year: int) -> bool:  # pragma: no cover - never called
        return False


# --------------------------------------------------------------------------- rules → dues


def _fixed(
    calendar: WorkingCalendar, d: date, period: str, phrase: str, rest_day: bool | str
) -> Due:
    """A date written out: moved off a day off as ``rest_day`` says ("next" / "previous";
    ``False`` keeps it as written). Provisional only when a provisional year's calendar moved it."""
    if rest_day is False or out_of_range(d, calendar) is not None:  # the importer refuses it
        return Due(due=d, period=period, rule=date_rule(d, False), phrase=phrase)
    due = rolled(calendar, d, rest_day)
    return Due(
        due=due,
        period=period,
        rule=date_rule(d, rest_day),
        phrase=phrase,
        provisional=due != d and is_provisional_year(calendar, due.year),
        note=rest_day_note(d, due, rest_day),
    )


def _period_end(calendar: WorkingCalendar, d: date, period: str, phrase: str) -> Due:
    due = roll_back(calendar, d)
    return Due(
        due=due,
        period=period,
        rule=date_rule(d, True),
        phrase=phrase,
        provisional=is_provisional_year(calendar, d.year),
        note=rest_day_note(d, due, True),
    )


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def plan_default_dues(
    plan_year: int,
    report_dates: Iterable[date],
    calendar: WorkingCalendar,
    phrase: str,
    rest_day: bool | str = "next",
) -> list[Due]:
    """One due per report date (period = ISO date); none → the year's last working day."""
    dates = sorted(set(report_dates))
    if dates:
        return [_fixed(calendar, d, d.isoformat(), phrase, rest_day) for d in dates]
    return [_period_end(calendar, date(plan_year, 12, 31), "", phrase)]


# --------------------------------------------------------------------------- parsing


@dataclass
class _Ctx:
    plan_year: int
    calendar: WorkingCalendar
    phrase: str  # as shown to people
    source: str
    warnings: list[str]
    rest_day: bool | str = "next"  # written-out dates on a day off: "next" / "previous" / keep

    def fail(self, message: str) -> DeadlineError:
        return DeadlineError(message, phrase=self.phrase, source=self.source)

    def year(self, text: str | None) -> int:
        if not text:
            return self.plan_year
        y = cn_number(text)
        if y != self.plan_year:
            self.warnings.append(
                f"完成时限「{self.phrase}」的年份 {y} 与计划年度 {self.plan_year} 不同"
            )
        return y

    def month(self, text: str) -> int:
        m = cn_number(text)
        if not 1 <= m <= 12:
            raise self.fail(f"完成时限「{self.phrase}」中的月份 {m} 不存在（应为 1–12 月）")
        return m

    def date(self, year: int, month: int, day: int) -> date:
        try:
            return date(year, month, day)
        except ValueError:
            raise self.fail(
                f"完成时限「{self.phrase}」不是有效日期：{year}年{month}月没有{day}日"
            ) from None

    def end(self, d: date, period: str = "") -> Due:
        return _period_end(self.calendar, d, period, self.phrase)

    def fixed(self, d: date, period: str = "") -> Due:
        return _fixed(self.calendar, d, period, self.phrase, self.rest_day)


def _dates(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    year: str | None = None
    dues: list[Due] = []
    for part in re.finditer(DATE, m.group(0)):
        year = part.group(1) or year
        d = ctx.date(ctx.year(year), ctx.month(part.group(2)), cn_number(part.group(3)))
        dues.append(ctx.fixed(d))
    unique = sorted({d.due: d for d in dues}.values(), key=lambda d: d.due)
    if len(unique) == 1:
        return "date", unique
    return "report_dates", [
        Due(d.due, d.due.isoformat(), d.rule, d.phrase, d.provisional, d.note) for d in unique
    ]


def _iso(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    year, month = ctx.year(m.group(1)), ctx.month(m.group(2))
    if m.group(3):
        return "date", [ctx.fixed(ctx.date(year, month, int(m.group(3))))]
    return "date", [ctx.end(_month_end(year, month))]


def _monthly(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    return "recurring", _months(ctx, m.group(1))


def _months(ctx: _Ctx, day: str | None) -> list[Due]:
    y = ctx.plan_year
    dues = []
    for month in range(1, 13):
        period = f"{y}-{month:02d}"
        if day:
            n = cn_number(day)
            if not 1 <= n <= 31:
                raise ctx.fail(f"完成时限「{ctx.phrase}」中的日期 {n} 日不存在")
            d = date(y, month, 1) + timedelta(days=n - 1)
            if d >= _month_end(y, month):  # "每月31日前": the month's end, kept in its month
                dues.append(ctx.end(_month_end(y, month), period))
            else:
                dues.append(ctx.fixed(d, period))
        else:
            dues.append(ctx.end(_month_end(y, month), period))
    return dues


def _quarters(ctx: _Ctx) -> list[Due]:
    y = ctx.plan_year
    return [ctx.end(_month_end(y, q * 3), f"{y}-Q{q}") for q in range(1, 5)]


def _halves(ctx: _Ctx) -> list[Due]:
    y = ctx.plan_year
    return [ctx.end(date(y, 6, 30), f"{y}-H1"), ctx.end(date(y, 12, 31), f"{y}-H2")]


def _yearly(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    times = cn_number(m.group(1)) if m.group(1) else 1
    if times == 2:
        return "recurring", _halves(ctx)
    if times == 4:
        return "recurring", _quarters(ctx)
    if times == 12:
        return "recurring", _months(ctx, None)
    if times != 1:
        ctx.warnings.append(f"完成时限「{ctx.phrase}」要求每年 {times} 次，按年底检查一次")
    return "recurring", [ctx.end(date(ctx.plan_year, 12, 31))]


def _month(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    groups = [g for g in m.groups()]
    year = ctx.year(groups[0])
    month = ctx.month(groups[1])
    part = groups[2]
    before = any(g for g in groups[3:] if g in {"前", "之前", "以前", "止"})
    if part in {"上旬", "中旬"}:
        return "date", [ctx.end(date(year, month, 10 if part == "上旬" else 20))]
    if part is None and before:
        # "11月前": before November starts — October's end. Said out loud, never silent.
        prev = date(year, month, 1) - timedelta(days=1)
        ctx.warnings.append(
            f"完成时限「{ctx.phrase}」按 {prev.month} 月底（{month} 月之前）理解；如指 {month} 月底，请写「{month}月底前」"
        )
        return "date", [ctx.end(prev)]
    return "date", [ctx.end(_month_end(year, month))]


def _quarter(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    year = ctx.year(m.group(1))
    q = cn_number(m.group(2))
    if not 1 <= q <= 4:
        raise ctx.fail(f"完成时限「{ctx.phrase}」中的季度 {q} 不存在（应为 1–4 季度）")
    return "date", [ctx.end(_month_end(year, q * 3))]


def _half(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    year = ctx.year(m.group(1))
    return "date", [ctx.end(date(year, 6, 30) if m.group(2) == "上" else date(year, 12, 31))]


def _year_end(ctx: _Ctx, m: re.Match[str]) -> tuple[str, list[Due]]:
    return "date", [ctx.end(date(ctx.year(m.group(1)), 12, 31))]


_HANDLERS: dict[str, Callable[[_Ctx, re.Match[str]], tuple[str, list[Due]]]] = {
    "dates": _dates,
    "iso": _iso,
    "monthly": _monthly,
    "quarterly": lambda ctx, m: ("recurring", _quarters(ctx)),
    "half_yearly": lambda ctx, m: ("recurring", _halves(ctx)),
    "yearly": _yearly,
    "month": _month,
    "quarter": _quarter,
    "half": _half,
    "year_end": _year_end,
}


def _interpret(
    phrase: str,
    *,
    strict: bool,
    source: str,
    plan_year: int,
    report_dates: list[date],
    calendar: WorkingCalendar,
    rest_day: bool | str = "next",
) -> DeadlineResult | None:
    found = search(phrase, strict=strict)
    if found is None:
        return None
    rule, m = found
    ctx = _Ctx(plan_year, calendar, phrase, source, [], rest_day)
    if rule.name == "working_days":
        n = cn_number(m.group(1))
        if n < 1:
            raise ctx.fail(f"完成时限「{phrase}」的工作日数应至少为 1")
        ctx.warnings.append(
            f"完成时限「{phrase}」是事件触发的 {n} 个工作日时限，没有固定日期；"
            "事件发生后用 duban event add 登记"
        )
        return DeadlineResult("event_limit", [], phrase, source, ctx.warnings, working_days=n)
    if rule.name == "ongoing":
        dues = plan_default_dues(plan_year, report_dates, calendar, phrase, rest_day)
        return DeadlineResult("ongoing", dues, phrase, source, _provisional_warnings(ctx, dues))
    kind, dues = _HANDLERS[rule.name](ctx, m)
    if not strict and rule.name in _ONE_DATE:
        kind, dues = _with_more_dates(ctx, m, kind, dues)
    return DeadlineResult(kind, dues, phrase, source, _provisional_warnings(ctx, dues))


_ONE_DATE = {"dates", "iso", "month", "quarter", "half", "year_end"}


def _with_more_dates(
    ctx: _Ctx, m: re.Match[str], kind: str, dues: list[Due]
) -> tuple[str, list[Due]]:
    """A cell naming several dates in different words ("6月、12月", "10月31日前\n11月30日前",
    "6月启动，12月底前完成") has one obligation per date (like 7月31日、11月30日前), not just
    the first one."""
    found = list(dues)
    rest = m.string[: m.start()] + "|" + m.string[m.end() :]
    for _ in range(24):
        more = search(rest, strict=False)
        if more is None or more[0].name not in _ONE_DATE:
            break
        rule, m2 = more
        found.extend(_HANDLERS[rule.name](ctx, m2)[1])
        rest = m2.string[: m2.start()] + "|" + m2.string[m2.end() :]
    unique = sorted({d.due: d for d in found}.values(), key=lambda d: d.due)
    if len(unique) == len({d.due for d in dues}):
        return kind, dues
    return "report_dates", [
        Due(d.due, d.due.isoformat(), d.rule, d.phrase, d.provisional, d.note) for d in unique
    ]


def _provisional_warnings(ctx: _Ctx, dues: list[Due]) -> list[str]:
    """The context's warnings, deduplicated, plus the provisional-calendar warning (worded once
    for all of duban by :func:`workflow.dates.workdays.provisional_message`)."""
    from workflow.dates.workdays import provisional_message

    message = provisional_message(d.due.year for d in dues if d.provisional)
    if message:
        ctx.warnings.append(message)
    return list(dict.fromkeys(ctx.warnings))


def _excel_serial_hint(cell: str) -> str:
    """A date cell formatted as 常规 shows Excel's day number ("45230"): name the date it
    stands for, without using it — the office confirms by formatting the column as a date."""
    if not re.fullmatch(r"\d{5}", cell):
        return ""
    serial = int(cell)
    if not 36526 <= serial <= 73050:  # 2000-01-01 … 2099-12-31
        return ""
    d = date(1899, 12, 30) + timedelta(days=serial)
    return (
        f"（「{cell}」像是 Excel 的日期序号，即 {d.year}年{d.month}月{d.day}日；"
        "如是，请把该列设为日期格式后重新导入）"
    )


def parse_deadline(
    deadline_text: str | None,
    *,
    plan_year: int,
    report_dates: list[date],
    calendar: WorkingCalendar,
    body_text: str | None = None,
    rest_day: bool | str = "next",
) -> DeadlineResult:
    """Read a 完成时限 cell (or, when it is empty, the requirement text) into due dates.

    Never guesses silently and never crashes on unreadable text: an unreadable cell keeps its
    raw text, falls back to the plan default and carries a Chinese warning. Raises
    :class:`DeadlineError` only for a readable phrase naming an impossible date.
    """
    cell = (deadline_text or "").strip()
    if cell and normalize(cell).strip() not in EMPTY:
        result = _interpret(
            cell,
            strict=False,
            source="deadline_cell",
            plan_year=plan_year,
            report_dates=report_dates,
            calendar=calendar,
            rest_day=rest_day,
        )
        if result is not None:
            return result
        dues = plan_default_dues(plan_year, report_dates, calendar, cell, rest_day)
        where = "各报送日" if report_dates else "年底"
        warning = f"无法识别完成时限「{cell}」，已按计划默认时限（{where}）处理，请核对"
        serial = _excel_serial_hint(cell)
        if serial:
            warning += serial
        return DeadlineResult("unreadable", dues, cell, "deadline_cell", [warning])
    phrase = find_phrase(body_text)
    if phrase:
        result = _interpret(
            phrase,
            strict=True,
            source="text",
            plan_year=plan_year,
            report_dates=report_dates,
            calendar=calendar,
            rest_day=rest_day,
        )
        if result is not None:
            return result
    label = "（未写完成时限：按计划报送日）" if report_dates else "（未写完成时限：按年底）"
    dues = plan_default_dues(plan_year, report_dates, calendar, label, rest_day)
    ctx = _Ctx(plan_year, calendar, label, "plan_default", [], rest_day)
    return DeadlineResult("default", dues, None, "plan_default", _provisional_warnings(ctx, dues))

"""Time: the Asia/Shanghai zone made explicit, and date parsing with Chinese errors.

Callers pass ``now`` (an aware datetime) or ``as_of`` (a date) in; only the CLI asks the clock.
"Today" is always the date in Asia/Shanghai, whatever the server's zone.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from workflow.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current instant, aware, in UTC.

    ``DUBAN_NOW`` (ISO date or datetime, Asia/Shanghai unless it carries a zone) pins the clock
    for a whole process: tests and rehearsals ("what if today were 2026-11-30") use it.
    """
    pinned = os.environ.get("DUBAN_NOW")
    if pinned:
        return parse_instant(pinned)
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO date or datetime; naive values are Shanghai time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"时间无效：“{text}”（应为 ISO 格式，如 2026-11-30 或 2026-11-30T09:00）"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(UTC)


def local_date(instant: datetime) -> date:
    """The calendar date of ``instant`` in Asia/Shanghai."""
    return instant.astimezone(SHANGHAI).date()


def today() -> date:
    return local_date(now())


def start_of_day(d: date) -> datetime:
    """Midnight of ``d`` in Asia/Shanghai, as an aware datetime (for simulated clocks)."""
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)


def parse_date(text: str, what: str = "日期", field: str | None = None) -> date:
    """Parse ``YYYY-MM-DD`` (also ``YYYY/MM/DD`` and ``YYYY年M月D日``); impossible dates are refused
    (InvalidInput naming ``field``, the date's domain name, when given; ``what`` may hold
    ``{field}`` where each door names it: ``--as-of 日期`` on the command line)."""
    raw = (text or "").strip()
    cleaned = raw.replace("/", "-").replace("年", "-").replace("月", "-").rstrip("日")
    parts = cleaned.split("-")
    if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
        y, m, d = (int(p) for p in parts)
        try:
            return date(y, m, d)
        except ValueError:
            pass
    raise InvalidInput(
        f"{what}无效：“{raw}”（应为真实存在的日期，格式 YYYY-MM-DD）",
        reason="bad_date",
        field=field,
    )

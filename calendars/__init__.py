"""Chinese official working days (pure: no database, no ``workflow`` imports).

``from calendars import ChinaCalendar, CalendarError, DayInfo`` — see :mod:`calendars.china` for
the arithmetic's exact definitions and :mod:`calendars.overrides` for the override file format.
"""

from calendars.china import (
    SHANGHAI,
    ChinaCalendar,
    DayInfo,
    HolidayRun,
    YearStatus,
    library_confirmed_years,
    library_version,
    today_shanghai,
)
from calendars.errors import CalendarError
from calendars.overrides import (
    CalendarOverride,
    ExtraWorkday,
    HolidayBlock,
    load_override,
    parse_override,
)

__all__ = [
    "SHANGHAI",
    "CalendarError",
    "CalendarOverride",
    "ChinaCalendar",
    "DayInfo",
    "ExtraWorkday",
    "HolidayBlock",
    "HolidayRun",
    "YearStatus",
    "library_confirmed_years",
    "library_version",
    "load_override",
    "parse_override",
    "today_shanghai",
]

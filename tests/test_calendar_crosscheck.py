"""Every day 2004–2026 against ``chinese_calendar`` (an independent data set, test-only).

Where the two disagree the State Council notice decides; each disagreement is listed here with the
notice's words. ``holidays`` (and so duban) follows the notice in every listed case.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

from calendars import ChinaCalendar

# date -> (working day per the notice, the notice)
DECIDED_BY_NOTICE = {
    date(2005, 12, 31): (
        True,
        "国办发明电〔2005〕35号（2006年部分节假日安排）：“将12月31日（星期六）、1月1日（星期日）"
        "两个公休日调至1月2日（星期一）、3日（星期二），12月31日（星期六）上班。”",
    ),
}


def test_every_day_2004_2026_agrees_with_chinese_calendar_except_listed():
    cal = ChinaCalendar()
    disagreements = {}
    d = date(2004, 1, 1)
    while d <= date(2026, 12, 31):
        ours, theirs = cal.is_working_day(d), chinese_calendar.is_workday(d)
        if ours is not theirs:
            disagreements[d] = (ours, theirs)
        d += timedelta(1)
    assert set(disagreements) == set(DECIDED_BY_NOTICE)
    for day, (by_notice, _why) in DECIDED_BY_NOTICE.items():
        assert cal.is_working_day(day) is by_notice
        assert cal.day_info(day).kind == "adjusted_workday"
        assert cal.day_info(day).name == "元旦调休"

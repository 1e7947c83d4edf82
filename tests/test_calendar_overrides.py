"""Office override files: parsing, validation messages (file + line), and their effect."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from calendars import CalendarError, ChinaCalendar, DayInfo, load_override, parse_override

# A made-up 2027 schedule (the real notice is not out): the format an office would type.
NOTICE_2027 = "国办发明电〔2026〕99号（测试用，虚构）"
SAMPLE_2027 = """\
year = 2027
source = "国办发明电〔2026〕99号（测试用，虚构）"
url = "https://www.gov.cn/example"

[[holiday]]
name = "元旦"
from = 2027-01-01
to = 2027-01-03

[[holiday]]
name = "春节"
from = 2027-02-05
to = 2027-02-13

[[workday]]
date = 2027-02-20
name = "春节调休"

[[holiday]]
name = "国庆节"
from = 2027-10-01
to = 2027-10-07

[[workday]]   # 调休上班
date = "2027-09-26"

[[workday]]
date = 2027-10-09
"""


def write(tmp_path: Path, text: str, name: str = "2027.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_sample(tmp_path):
    override = load_override(write(tmp_path, SAMPLE_2027))
    assert override.year == 2027 and override.scope == "year" and override.confirms_year
    assert override.source.startswith("国办发明电")
    assert [(b.name, b.start, b.end, b.line) for b in override.holidays] == [
        ("元旦", date(2027, 1, 1), date(2027, 1, 3), 5),
        ("春节", date(2027, 2, 5), date(2027, 2, 13), 10),
        ("国庆节", date(2027, 10, 1), date(2027, 10, 7), 19),
    ]
    assert [(w.day, w.name) for w in override.workdays] == [
        (date(2027, 2, 20), "春节调休"),
        (date(2027, 9, 26), None),
        (date(2027, 10, 9), None),
    ]


def test_a_whole_year_override_replaces_the_library_guess_and_confirms_the_year(tmp_path):
    plain = ChinaCalendar()
    assert plain.is_provisional(2027)
    assert plain.is_working_day(date(2027, 2, 11))  # the library's guess ends the block on 2/10
    cal = ChinaCalendar([load_override(write(tmp_path, SAMPLE_2027))])
    assert not cal.is_provisional(2027)
    assert not cal.is_working_day(date(2027, 2, 11))
    assert cal.day_info(date(2027, 2, 11)) == DayInfo(
        date(2027, 2, 11), "holiday", "春节", False, "春节", NOTICE_2027
    )  # each day of an override cites the file's notice
    assert cal.day_info(date(2027, 2, 20)) == DayInfo(
        date(2027, 2, 20), "adjusted_workday", "春节调休", True, "春节调休", NOTICE_2027
    )
    assert cal.day_info(date(2027, 9, 26)).name == "国庆节调休"  # named after the nearest block
    # days the file does not list follow the plain week, not the library's guess
    assert cal.is_working_day(date(2027, 4, 5))  # library guessed 清明节 on Monday 4/5
    assert cal.is_working_day(date(2027, 5, 3))
    assert cal.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 15)
    assert cal.working_days_between(date(2027, 2, 4), date(2027, 2, 15)) == 1
    assert cal.add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 8)
    status = {s.year: s for s in cal.year_status()}
    assert status[2027].confirmed and "国办发明电〔2026〕99号" in status[2027].source
    assert "2027.toml" in status[2027].source
    # confirmed years before it are untouched
    assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_a_days_override_corrects_days_without_confirming(tmp_path):
    text = """\
year = 2027
source = "某省临时通知（测试）"
scope = "days"

[[holiday]]
name = "临时假日"
from = 2027-03-03

[[workday]]
date = 2027-02-09
"""
    cal = ChinaCalendar([load_override(write(tmp_path, text, "fix.toml"))])
    assert cal.is_provisional(2027)
    assert not cal.is_working_day(date(2027, 3, 3))
    assert cal.day_info(date(2027, 3, 3)).name == "临时假日"
    assert cal.is_working_day(date(2027, 2, 9))  # the library's guess said 春节（补假）
    assert cal.day_info(date(2027, 2, 9)).kind == "workday"
    assert not cal.is_working_day(date(2027, 2, 8))  # the rest of the guess stays
    status = {s.year: s for s in cal.year_status()}
    assert status[2027].provisional and "修正：某省临时通知" in status[2027].source


def test_a_days_override_and_a_year_override_combine(tmp_path):
    fix = write(
        tmp_path,
        'year = 2027\nsource = "修正"\nscope = "days"\n[[workday]]\ndate = 2027-02-13\n',
        "fix.toml",
    )
    cal = ChinaCalendar([load_override(fix), load_override(write(tmp_path, SAMPLE_2027))])
    assert cal.is_working_day(date(2027, 2, 13))  # days overrides apply after the whole year
    assert not cal.is_working_day(date(2027, 2, 12))


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('year = 2027\nsource = "x"\n[[holiday]\n', 3, "不是合法的 TOML"),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "春节"\nfrom = 2027-02-30\n',
            5,
            "不是合法的 TOML",
        ),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "春节"\nfrom = 2026-12-31\n',
            5,
            "不在本文件的年份 2027 内",
        ),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "春节"\nfrom = 2027-02-06\nto = 2028-01-01\n',
            6,
            "不在本文件的年份",
        ),
        ('year = 2027\nsource = "x"\n[[workday]]\ndate = "2027-02-30"\n', 4, "不是有效日期"),
        (
            'year = 2027\nsource = "x"\n\n[[holiday]]\nname = "春节"\nfrom = 2027-02-06\nto = 2027-02-14\n\n[[workday]]\ndate = 2027-02-13\n',
            10,
            "既是假期（第 4 行 春节）又是调休上班日",
        ),
        (
            'year = 2027\nsource = "x"\ncolour = 1\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\n',
            3,
            "未知的键 'colour'",
        ),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\nuntil = 2027-01-02\n',
            6,
            "[[holiday]] 中未知的键 'until'",
        ),
        ('year = 2027\nsource = "x"\n[holidays]\nname = "a"\n', 3, "未知的表 [holidays]"),
        ('year = 2027\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\n', 0, "缺少 source"),
        ('source = "x"\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\n', 0, "缺少 year"),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "a"\nfrom = 2027-01-05\nto = 2027-01-02\n',
            6,
            "早于开始日期",
        ),
        ('year = 2027\nsource = "x"\n[[holiday]]\nfrom = 2027-01-05\n', 3, "缺少 name"),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\nto = 2027-01-05\n[[holiday]]\nname = "b"\nfrom = 2027-01-04\n',
            7,
            "与第 3 行的 a 在 2027-01-04 重叠",
        ),
        (
            'year = 2027\nsource = "x"\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\n[[workday]]\ndate = 2027-01-04\n',
            7,
            "本来就是工作日",
        ),
        (
            'year = 2027\nsource = "x"\nscope = "month"\n[[holiday]]\nname = "a"\nfrom = 2027-01-01\n',
            3,
            "scope 应为",
        ),
        ('year = 2027\nsource = "x"\n[[workday]]\ndate = 2027-02-20\n', 0, "至少一个 [[holiday]]"),
    ],
)
def test_validation_errors_name_file_and_line(tmp_path, text, line, fragment):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(CalendarError) as err:
        load_override(path)
    assert err.value.line == line
    assert fragment in err.value.message
    assert str(path) in err.value.message
    if line:
        assert f"第 {line} 行" in err.value.message
    assert isinstance(err.value, ValueError)


def test_file_level_errors(tmp_path):
    with pytest.raises(CalendarError, match="找不到日历文件"):
        load_override(tmp_path / "missing.toml")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('year = 2027\nsource = "国办发明电"\n'.encode("gbk"))
    with pytest.raises(CalendarError, match="不是 UTF-8"):
        load_override(gbk)


def test_two_whole_year_files_for_one_year_conflict(tmp_path):
    a = load_override(write(tmp_path, SAMPLE_2027, "a.toml"))
    b = load_override(write(tmp_path, SAMPLE_2027, "b.toml"))
    with pytest.raises(CalendarError, match="都是 2027 年的整年安排"):
        ChinaCalendar([a, b])


def test_contradicting_day_corrections_conflict(tmp_path):
    off = parse_override(
        'year = 2027\nsource = "a"\nscope = "days"\n[[holiday]]\nname = "x"\nfrom = 2027-03-03\n',
        "a.toml",
    )
    on = parse_override(
        'year = 2027\nsource = "b"\nscope = "days"\n[[workday]]\ndate = 2027-03-03\n', "b.toml"
    )
    with pytest.raises(CalendarError, match="相互矛盾"):
        ChinaCalendar([off, on])


def test_override_outside_the_calendar_range(tmp_path):
    override = parse_override(SAMPLE_2027, "2027.toml")
    with pytest.raises(CalendarError, match="超出日历范围"):
        ChinaCalendar([override], first_year=2020, last_year=2026)


def test_toml_errors_and_encodings_are_said_in_chinese(tmp_path):
    with pytest.raises(CalendarError) as err:
        load_override(write(tmp_path, 'year = 2027\nsource = "x"\n[[holiday]\n'))
    assert err.value.message.endswith("第 3 行：不是合法的 TOML，数组表名缺少结尾的 ]]")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('year = 2027\nsource = "国务院办公厅通知"\n'.encode("gbk"))
    with pytest.raises(CalendarError) as err:
        load_override(gbk)
    assert err.value.line == 2 and "第 2 行不是 UTF-8 编码" in err.value.message
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + SAMPLE_2027.encode())
    assert load_override(bom).year == 2027

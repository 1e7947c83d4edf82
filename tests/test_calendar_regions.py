"""Regional calendars: an autonomous region's own days off on top of the national calendar.

The shipped days are checked against the notices they cite (the table below is the notices'
text as duban ships it, see ``calendars/regions/*.toml`` for how each was derived), then the
working-day arithmetic across them is counted by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from calendars import CalendarError, ChinaCalendar, parse_override
from calendars.regions import REGIONS, find_region, shipped_overrides

D = date
NX_2019 = "宁夏回族自治区人民政府办公厅关于部分节假日安排的通知（宁政办发〔2018〕137号）"
NX_2020 = "宁夏回族自治区人民政府办公厅关于2020年部分节假日安排的通知"
NX_2021 = "宁夏回族自治区人民政府办公厅关于2021年部分节假日安排的通知"
NX_2022 = "宁夏回族自治区人民政府办公厅关于2022年部分节假日安排的通知"
GX_2017 = "广西壮族自治区人民政府办公厅关于2017年“壮族三月三”和清明节放假有关事项的通知"
GX_2021 = "广西壮族自治区人民政府办公厅关于2021年“壮族三月三”放假的通知"
GX_2023_NOTICE = "广西壮族自治区人民政府办公厅关于2023年“壮族三月三”放假的通知"
XJ = "新疆维吾尔自治区人民政府办公厅关于{}年节假日放假安排和冬夏季作息时间的通知"
XJ_2025 = "新疆维吾尔自治区人民政府办公厅关于2025年节假日放假调休日期和冬夏季作息时间的通知"
XZ_2023 = "拉萨市人民政府办公室关于2023年藏历新年放假安排的通知"
XZ_2025 = "拉萨市人民政府办公室关于2025年藏历新年放假安排的通知"
XZ_2026 = "拉萨市人民政府办公室关于2026年春节、藏历新年放假安排的通知"


def days(first: date, last: date | None = None) -> list[date]:
    last = last or first
    return [D.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


# (region, notice, the days off it gives, the weekend days it makes working): every shipped
# day, and no other, as the notice's text reads (quoted in each file's comments)
NOTICES = [
    ("宁夏", NX_2019, days(D(2019, 6, 5), D(2019, 6, 6)) + days(D(2019, 8, 12), D(2019, 8, 13)), []),
    ("宁夏", NX_2020, days(D(2020, 5, 25), D(2020, 5, 26)) + days(D(2020, 7, 30), D(2020, 7, 31)), []),
    ("宁夏", NX_2021, days(D(2021, 5, 13), D(2021, 5, 14)) + days(D(2021, 7, 19), D(2021, 7, 20)), []),
    ("宁夏", NX_2022, days(D(2022, 5, 3)) + days(D(2022, 7, 11), D(2022, 7, 12)), []),
    ("广西", GX_2017, days(D(2017, 3, 30), D(2017, 4, 1)), [D(2017, 4, 8)]),
    ("广西", GX_2021, days(D(2021, 4, 14), D(2021, 4, 16)), [D(2021, 4, 18)]),
    ("广西", GX_2023_NOTICE, days(D(2023, 4, 21), D(2023, 4, 23)), []),
    ("新疆", XJ.format(2022), days(D(2022, 5, 5)) + days(D(2022, 7, 9), D(2022, 7, 13)), []),
    ("新疆", XJ.format(2023), days(D(2023, 4, 21)) + days(D(2023, 6, 28), D(2023, 6, 30)), []),
    ("新疆", XJ_2025, days(D(2025, 3, 29), D(2025, 3, 31)) + days(D(2025, 6, 6), D(2025, 6, 10)), []),
    ("西藏", XZ_2023, days(D(2023, 2, 20), D(2023, 2, 26)), [D(2023, 2, 18), D(2023, 2, 19)]),
    ("西藏", XZ_2025, days(D(2025, 2, 27), D(2025, 3, 4)), []),
    ("西藏", XZ_2026, days(D(2026, 2, 24), D(2026, 2, 26)), []),
]  # fmt: skip


@pytest.fixture(scope="module")
def ningxia() -> ChinaCalendar:
    return ChinaCalendar(region="宁夏")


@pytest.fixture(scope="module")
def guangxi() -> ChinaCalendar:
    return ChinaCalendar(region="广西")


@pytest.fixture(scope="module")
def national() -> ChinaCalendar:
    return ChinaCalendar()


@pytest.mark.parametrize(("region", "notice", "off", "worked"), NOTICES)
def test_each_shipped_day_cites_its_notice(region, notice, off, worked):
    cal = ChinaCalendar(region=region)
    for day in off:
        info = cal.day_info(day)
        assert not info.working, day
        if day.weekday() < 5:
            assert info.kind == "holiday" and info.source == notice, day
    for day in worked:
        info = cal.day_info(day)
        assert info.working and info.kind == "adjusted_workday" and info.source == notice, day
    mine = [o for o in shipped_overrides(region) if o.source == notice]
    assert len(mine) == 1 and mine[0].url and mine[0].url.startswith("http")
    assert [d for b in mine[0].holidays for d in b.days()] == off
    assert [w.day for w in mine[0].workdays] == worked


def test_the_shipped_files_hold_exactly_the_notices_of_the_table():
    shipped = {
        (o.region, o.source): [d for b in o.holidays for d in b.days()]
        for r in REGIONS
        for o in shipped_overrides(r.name)
    }
    assert shipped == {(r, n): off for r, n, off, _ in NOTICES}
    for r in REGIONS:
        for o in shipped_overrides(r.name):
            assert o.scope == "days" and o.year in {d.year for b in o.holidays for d in b.days()}


def test_a_region_never_touches_another(ningxia, guangxi, national):
    assert national.is_working_day(D(2021, 5, 13)) and guangxi.is_working_day(D(2021, 5, 13))
    assert ningxia.is_working_day(D(2021, 4, 14)) and not guangxi.is_working_day(D(2021, 4, 14))
    assert national.day_info(D(2021, 4, 14)).source is None
    assert not ningxia.is_working_day(D(2021, 4, 18))  # 广西's working Sunday is 广西's only


# (calendar, start, n, result) counted by hand on the national calendar and the notices
ARITHMETIC = [
    ("national", D(2021, 5, 12), 1, D(2021, 5, 13)),
    ("宁夏", D(2021, 5, 12), 1, D(2021, 5, 17)),  # 13, 14 开斋节, then the weekend
    ("宁夏", D(2021, 5, 7), 3, D(2021, 5, 11)),  # Saturday 05-08 worked (劳动节调休), 10, 11
    ("宁夏", D(2021, 7, 16), 1, D(2021, 7, 21)),  # 19, 20 古尔邦节
    ("national", D(2021, 7, 16), 1, D(2021, 7, 19)),
    ("广西", D(2021, 4, 13), 1, D(2021, 4, 18)),  # 14…16 off; Sunday 04-18 worked
    ("national", D(2021, 4, 13), 1, D(2021, 4, 14)),
    ("广西", D(2023, 4, 20), 1, D(2023, 4, 24)),  # 21…23 off (23: a national working Sunday)
    ("national", D(2023, 4, 20), 1, D(2023, 4, 21)),
    ("广西", D(2017, 4, 7), 1, D(2017, 4, 8)),  # Saturday 04-08 worked
    ("新疆", D(2025, 3, 28), 1, D(2025, 4, 1)),  # 29…31 肉孜节
    ("新疆", D(2025, 6, 5), 1, D(2025, 6, 11)),  # 6…10 古尔邦节
    ("西藏", D(2025, 2, 26), 1, D(2025, 3, 5)),  # 02-27…03-04 藏历新年
    ("national", D(2025, 2, 26), 1, D(2025, 2, 27)),
    ("西藏", D(2023, 2, 17), 1, D(2023, 2, 18)),  # Saturday 02-18 worked
    ("national", D(2023, 2, 17), 1, D(2023, 2, 20)),
    ("西藏", D(2026, 2, 14), 1, D(2026, 2, 27)),  # 春节 15…23 national, 24…26 藏历新年
    ("national", D(2026, 2, 14), 1, D(2026, 2, 24)),
    ("宁夏", D(2021, 5, 17), -1, D(2021, 5, 12)),
]


@pytest.mark.parametrize(("which", "start", "n", "result"), ARITHMETIC)
def test_working_day_arithmetic_across_regional_days(which, start, n, result):
    cal = ChinaCalendar(region=None if which == "national" else which)
    assert cal.add_working_days(start, n) == result
    if n > 0:
        assert cal.working_days_between(start, result) == n


def test_between_counts_the_regional_days_out(ningxia, national):
    # May 2021: 21 weekdays − 05-03…05 (劳动节) + Saturday 05-08 (劳动节调休) = 19 national
    # working days; 宁夏 also rests on 05-13 and 05-14 (开斋节)
    assert national.working_days_between(D(2021, 4, 30), D(2021, 5, 31)) == 19
    assert ningxia.working_days_between(D(2021, 4, 30), D(2021, 5, 31)) == 17


def test_blocks_join_the_weekend_and_keep_their_names(guangxi, ningxia):
    blocks = [b.to_dict() for b in guangxi.holiday_blocks(D(2023, 4, 15), D(2023, 4, 26))]
    assert blocks == [{"name": "壮族三月三", "from": "2023-04-21", "to": "2023-04-23", "days": 3}]
    july = [b.to_dict() for b in ningxia.holiday_blocks(D(2021, 7, 1), D(2021, 7, 31))]
    assert july == [{"name": "古尔邦节", "from": "2021-07-17", "to": "2021-07-20", "days": 4}]


def test_years_without_a_regional_notice_are_provisional(ningxia, national):
    assert not ningxia.is_provisional(2021)
    assert ningxia.is_provisional(2023) and ningxia.is_provisional(2025)
    assert not national.is_provisional(2025)
    status = {s.year: s for s in ningxia.year_status([2021, 2025])}
    assert status[2021].confirmed and NX_2021 in status[2021].source
    assert status[2025].national_confirmed and not status[2025].confirmed
    assert "宁夏" in status[2025].status_zh and "国务院" not in status[2025].status_zh
    assert not ChinaCalendar(region="新疆").is_provisional(2025)
    # 西藏: 藏历新年 is shipped, 雪顿节 is not: every year waits for the office's notice
    assert ChinaCalendar(region="西藏").is_provisional(2025)


NX_2025 = """\
year = 2025
region = "宁夏回族自治区"
source = "宁夏2025年开斋节放假通知（测试用，虚构）"
scope = "days"

[[holiday]]
name = "开斋节"
from = 2025-03-31
"""

NX_2025_ADHA = """\
year = 2025
region = "宁夏"
source = "宁夏2025年古尔邦节放假通知（测试用，虚构）"
scope = "days"

[[holiday]]
name = "古尔邦节"
from = 2025-06-06
to = 2025-06-07
"""

GX_2023 = """\
year = 2023
region = "广西"
source = "广西2023年三月三放假通知（测试用，虚构）"
scope = "days"

[[holiday]]
name = "壮族三月三"
from = 2023-04-21
to = 2023-04-24

[[workday]]
date = 2023-04-15
name = "三月三调休"
"""


def override(text: str, name: str = "notice.toml"):
    return parse_override(text, Path(name))


def test_an_office_notice_confirms_a_year_when_it_covers_every_festival():
    one = ChinaCalendar([override(NX_2025)], region="宁夏")
    assert one.is_provisional(2025)  # 古尔邦节 still unknown
    assert not one.is_working_day(D(2025, 3, 31))
    assert one.day_info(D(2025, 3, 31)).source == "宁夏2025年开斋节放假通知（测试用，虚构）"
    both = ChinaCalendar([override(NX_2025), override(NX_2025_ADHA, "b.toml")], region="宁夏")
    assert not both.is_provisional(2025)


def test_a_regional_saturday_worked(guangxi):
    cal = ChinaCalendar([override(GX_2023)], region="广西")
    info = cal.day_info(D(2023, 4, 15))
    assert info.kind == "adjusted_workday" and info.working and info.name == "三月三调休"
    assert info.source == "广西2023年三月三放假通知（测试用，虚构）"
    # Friday 04-14 → next working day: Saturday 04-15; from 04-20 (Thu): 21…24 off → 04-25
    assert cal.add_working_days(D(2023, 4, 14), 1) == D(2023, 4, 15)
    assert cal.add_working_days(D(2023, 4, 20), 1) == D(2023, 4, 25)
    # 04-10 … 04-28: 15 weekdays − 4/21, 4/24 + Saturday 4/15 + national Sunday 4/23 − 4/23 (off)
    assert cal.working_days_between(D(2023, 4, 9), D(2023, 4, 28)) == 14
    assert not cal.is_provisional(2023)


def test_an_office_notice_replaces_the_shipped_one_for_its_festival():
    mine = override(
        'year = 2021\nregion = "宁夏"\nsource = "办公室核对的通知"\nscope = "days"\n'
        '[[holiday]]\nname = "古尔邦节"\nfrom = 2021-07-20\nto = 2021-07-21\n'
    )
    cal = ChinaCalendar([mine], region="宁夏")
    assert cal.is_working_day(D(2021, 7, 19))  # the shipped day of that festival is gone
    assert cal.day_info(D(2021, 7, 21)).source == "办公室核对的通知"
    assert cal.day_info(D(2021, 5, 13)).source == NX_2021  # the other festival still shipped


@pytest.mark.parametrize(
    ("region", "text", "fragment"),
    [
        ("甘肃", None, "未知的地区“甘肃”"),
        ("宁夏", GX_2023, "这是广西的放假通知"),
        (None, NX_2025, "未设置 [office] region"),
    ],
)
def test_refusals(region, text, fragment):
    with pytest.raises(CalendarError) as info:
        ChinaCalendar([override(text)] if text else [], region=region)
    assert fragment in info.value.message


def test_a_regional_file_corrects_days_only():
    with pytest.raises(CalendarError) as info:
        override(NX_2025.replace('scope = "days"', 'scope = "year"'))
    assert 'scope = "days"' in info.value.message and "第 4 行" in info.value.message


def test_region_names():
    assert find_region("宁夏回族自治区").name == "宁夏" and find_region("guangxi").name == "广西"
    assert find_region("") is None


# ------------------------------------------------------------------ CLI and the office


def configure(duban, region: str) -> None:
    config = Path(duban.env["DUBAN_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "duban.toml").write_text(f'[office]\nregion = "{region}"\n', encoding="utf-8")


def test_cli_shows_regional_days_with_their_notice(duban):
    configure(duban, "宁夏")
    view = duban.json("calendar", "show", "2021-07")
    block = next(b for b in view["holidays"] if b["name"] == "古尔邦节")
    assert block["sources"] == [NX_2021]
    assert "依据：" + NX_2021 in duban.ok("calendar", "show", "2021-07").stdout
    assert duban.json("calendar", "add", "2021-05-12", "1")["result"] == "2021-05-17"
    later = duban.ok("calendar", "add", "2025-06-05", "1")
    assert "2025 年的节假日安排尚未确认" in later.stderr and "自治区" in later.stderr
    years = {r["year"]: r for r in duban.json("calendar", "status")}
    assert years[2021]["confirmed"] and not years[2025]["confirmed"]


def test_bad_region_is_one_chinese_line(duban):
    configure(duban, "甘肃")
    result = duban("calendar", "add", "2024-04-09", "1")
    assert result.exit_code != 0 and "[office] region" in result.stderr
    assert "甘肃" in result.stderr and "Traceback" not in result.output


def test_importing_the_regional_notice_recomputes_due_dates(duban, tmp_path):
    configure(duban, "宁夏")
    duban.ok("unit", "add", "法规处")
    row = duban.json("event", "add", "网站找错", "--date", "2025-03-28", "--unit", "法规处", "--ref", "找错 1")  # fmt: skip
    assert row["due"] == "2025-04-01" and row["provisional"]  # 03-31, 04-01
    notice = tmp_path / "nx-2025.toml"
    notice.write_text(NX_2025, encoding="utf-8")
    out = duban.json("calendar", "import", str(notice))
    assert out["region"] == "宁夏"
    change = {c["assignment_id"]: c for c in out["recomputed"]}[row["id"]]
    assert (change["new_due"], change["provisional"]) == ("2025-04-02", True)  # 古尔邦节 unknown
    assert "宁夏放假通知" in duban.ok("calendar", "import", str(notice)).stdout


def test_changing_the_region_recomputes_due_dates(duban):
    duban.ok("unit", "add", "法规处")
    row = duban.json("event", "add", "网站找错", "--date", "2021-05-11", "--unit", "法规处", "--ref", "找错 2")  # fmt: skip
    task = duban.json(
        "task", "add", "信息公开年报", "--unit", "法规处", "--due", "2021-07-19", "--past"
    )
    assert row["due"] == "2021-05-13"
    configure(duban, "宁夏")
    out = duban.json("calendar", "recompute")
    assert out["region"] == "宁夏"
    changes = {c["assignment_id"]: c for c in out["recomputed"]}
    assert changes[row["id"]]["new_due"] == "2021-05-17"  # 05-12, 05-17 (13, 14 开斋节)
    history = duban.json("task", "show", row["id"])["history"]
    assert history[-1]["action"] == "due_recomputed"
    assert task[0]["id"] not in changes  # a date the office typed is left alone
    assert duban.json("calendar", "recompute")["recomputed"] == []


def test_the_check_warns_on_a_year_without_the_regional_notice(duban):
    configure(duban, "宁夏")
    later = duban.ok("check", "--as-of", "2025-03-05", "--dry-run")
    assert "2025 年的节假日安排尚未确认" in later.stdout + later.stderr
    known = duban.ok("check", "--as-of", "2021-03-05", "--dry-run")
    assert "尚未确认" not in known.stdout + known.stderr

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
NX_FITR = "宁夏回族自治区人民政府办公厅关于2024年开斋节放假的通知"
NX_ADHA = "宁夏回族自治区人民政府办公厅关于2024年古尔邦节放假的通知"
GX_SANYUESAN = "广西壮族自治区人民政府办公厅关于2024年“壮族三月三”放假的通知"

# (region, notice, the days off it gives) — every shipped day, and no other
NOTICES = [
    ("宁夏", NX_FITR, [D(2024, 4, 10)]),
    ("宁夏", NX_ADHA, [D(2024, 6, 16), D(2024, 6, 17)]),
    ("广西", GX_SANYUESAN, [D(2024, 4, 11), D(2024, 4, 12)]),
]


@pytest.fixture(scope="module")
def ningxia() -> ChinaCalendar:
    return ChinaCalendar(region="宁夏")


@pytest.fixture(scope="module")
def guangxi() -> ChinaCalendar:
    return ChinaCalendar(region="广西")


@pytest.fixture(scope="module")
def national() -> ChinaCalendar:
    return ChinaCalendar()


@pytest.mark.parametrize(("region", "notice", "days"), NOTICES)
def test_each_shipped_day_cites_its_notice(region, notice, days):
    cal = ChinaCalendar(region=region)
    for day in days:
        info = cal.day_info(day)
        assert not info.working and info.kind == "holiday", day
        assert info.source == notice, day
    shipped = [
        d
        for o in shipped_overrides(region)
        if o.source == notice
        for b in o.holidays
        for d in b.days()
    ]
    assert shipped == days


def test_the_shipped_files_hold_exactly_the_notices_of_the_table():
    shipped = {
        (o.region, o.source): [d for b in o.holidays for d in b.days()]
        for r in REGIONS
        for o in shipped_overrides(r.name)
    }
    assert shipped == {(r, n): days for r, n, days in NOTICES}
    for r in REGIONS:
        for o in shipped_overrides(r.name):
            assert o.workdays == () and o.scope == "days"


def test_a_region_never_touches_another(ningxia, guangxi, national):
    assert national.is_working_day(D(2024, 4, 10)) and guangxi.is_working_day(D(2024, 4, 10))
    assert ningxia.is_working_day(D(2024, 4, 11)) and not guangxi.is_working_day(D(2024, 4, 11))
    assert national.day_info(D(2024, 4, 11)).source is None


# (calendar, start, n, result) counted by hand on the 2024 calendar: 清明 04-04…06 off,
# Sunday 04-07 worked; 端午 06-08…10 off
ARITHMETIC = [
    ("national", D(2024, 4, 9), 1, D(2024, 4, 10)),
    ("宁夏", D(2024, 4, 9), 1, D(2024, 4, 11)),  # 04-10 开斋节
    ("宁夏", D(2024, 4, 3), 3, D(2024, 4, 9)),  # 04-07 (Sun, worked), 08, 09
    ("宁夏", D(2024, 4, 3), 4, D(2024, 4, 11)),
    ("宁夏", D(2024, 6, 14), 1, D(2024, 6, 18)),  # 15 Sat, 16 Sun, 17 Mon 古尔邦节
    ("national", D(2024, 6, 14), 1, D(2024, 6, 17)),
    ("宁夏", D(2024, 6, 7), 3, D(2024, 6, 13)),  # 08…10 端午; 11, 12, 13
    ("广西", D(2024, 4, 10), 1, D(2024, 4, 15)),  # 11, 12 三月三 + the weekend
    ("广西", D(2024, 4, 1), 10, D(2024, 4, 18)),  # 2,3 | 7,8,9,10 | 15,16,17,18
    ("national", D(2024, 4, 1), 10, D(2024, 4, 16)),  # 2,3 | 7,8,9,10,11,12 | 15,16
    ("宁夏", D(2024, 4, 11), -1, D(2024, 4, 9)),
]


@pytest.mark.parametrize(("which", "start", "n", "result"), ARITHMETIC)
def test_working_day_arithmetic_across_regional_days(which, start, n, result):
    cal = ChinaCalendar(region=None if which == "national" else which)
    assert cal.add_working_days(start, n) == result
    if n > 0:
        assert cal.working_days_between(start, result) == n


def test_between_counts_the_regional_days_out(ningxia, national):
    # April 2024: 22 weekdays − 04-04, 04-05 (清明) + Sundays 04-07 (清明调休) and 04-28
    # (劳动节调休) = 22 national working days; 宁夏 also rests on 04-10 (开斋节)
    assert national.working_days_between(D(2024, 3, 31), D(2024, 4, 30)) == 22
    assert ningxia.working_days_between(D(2024, 3, 31), D(2024, 4, 30)) == 21


def test_blocks_join_the_weekend_and_keep_their_names(guangxi, ningxia):
    blocks = [b.to_dict() for b in guangxi.holiday_blocks(D(2024, 4, 8), D(2024, 4, 20))]
    assert blocks == [{"name": "壮族三月三", "from": "2024-04-11", "to": "2024-04-14", "days": 4}]
    june = [b.name for b in ningxia.holiday_blocks(D(2024, 6, 1), D(2024, 6, 30))]
    assert june == ["端午节", "古尔邦节"]


def test_years_without_a_regional_notice_are_provisional(ningxia, national):
    assert not ningxia.is_provisional(2024)
    assert ningxia.is_provisional(2023) and ningxia.is_provisional(2025)
    assert not national.is_provisional(2025)
    status = {s.year: s for s in ningxia.year_status([2024, 2025])}
    assert status[2024].confirmed and NX_FITR in status[2024].source
    assert status[2025].national_confirmed and not status[2025].confirmed
    assert "宁夏" in status[2025].status_zh and "国务院" not in status[2025].status_zh
    for name in ("新疆", "西藏"):  # known regions, no notice shipped yet: every year provisional
        assert ChinaCalendar(region=name).is_provisional(2024)


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
        'year = 2024\nregion = "宁夏"\nsource = "办公室核对的通知"\nscope = "days"\n'
        '[[holiday]]\nname = "古尔邦节"\nfrom = 2024-06-17\nto = 2024-06-18\n'
    )
    cal = ChinaCalendar([mine], region="宁夏")
    assert cal.is_working_day(D(2024, 6, 16)) is False  # a Sunday anyway
    assert cal.day_info(D(2024, 6, 16)).kind == "weekend"
    assert cal.day_info(D(2024, 6, 18)).source == "办公室核对的通知"
    assert cal.day_info(D(2024, 4, 10)).source == NX_FITR  # the other notice still shipped


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
    view = duban.json("calendar", "show", "2024-06")
    block = next(b for b in view["holidays"] if b["name"] == "古尔邦节")
    assert block["sources"] == [NX_ADHA]
    assert "依据：" + NX_ADHA in duban.ok("calendar", "show", "2024-06").stdout
    assert duban.json("calendar", "add", "2024-04-09", "1")["result"] == "2024-04-11"
    later = duban.ok("calendar", "add", "2025-06-05", "1")
    assert "2025 年的节假日安排尚未确认" in later.stderr and "自治区" in later.stderr
    years = {r["year"]: r for r in duban.json("calendar", "status")}
    assert years[2024]["confirmed"] and not years[2025]["confirmed"]


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
    row = duban.json("event", "add", "网站找错", "--date", "2024-04-08", "--unit", "法规处", "--ref", "找错 2")  # fmt: skip
    task = duban.json(
        "task", "add", "信息公开年报", "--unit", "法规处", "--due", "2024-06-17", "--past"
    )
    assert row["due"] == "2024-04-10"
    configure(duban, "宁夏")
    out = duban.json("calendar", "recompute")
    assert out["region"] == "宁夏"
    changes = {c["assignment_id"]: c for c in out["recomputed"]}
    assert changes[row["id"]]["new_due"] == "2024-04-11"  # 04-09, 04-11 (04-10 开斋节)
    history = duban.json("task", "show", row["id"])["history"]
    assert history[-1]["action"] == "due_recomputed"
    assert task[0]["id"] not in changes  # a date the office typed is left alone
    assert duban.json("calendar", "recompute")["recomputed"] == []


def test_the_check_warns_on_a_year_without_the_regional_notice(duban):
    configure(duban, "宁夏")
    later = duban.ok("check", "--as-of", "2025-03-05", "--dry-run")
    assert "2025 年的节假日安排尚未确认" in later.stdout + later.stderr
    known = duban.ok("check", "--as-of", "2024-03-05", "--dry-run")
    assert "尚未确认" not in known.stdout + known.stderr

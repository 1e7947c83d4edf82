"""Deadline phrases → due dates, table-driven, on the real Chinese working-day calendar.

Calendar facts used below (State Council notices): 2023-09-29 … 10-06 off (中秋节、国庆节),
2023-09-30 a Saturday, 2023-12-30/31 a weekend, 2021-11-20 a Saturday, 2023-04-29 … 05-03 off
(劳动节), 2027 not yet published (provisional).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from calendars import ChinaCalendar
from workflow.dates.due import DeadlineError, due_from_rule, working_day_due
from workflow.ledger.deadlines import cn_number, find_phrase, find_report_dates, parse_deadline

REPORT_DATES = [date(2023, 7, 31), date(2023, 11, 30)]
D = date


@pytest.fixture(scope="module")
def cal() -> ChinaCalendar:
    return ChinaCalendar()


def parse(text, cal, year=2023, report_dates=REPORT_DATES, body=None):
    return parse_deadline(
        text, plan_year=year, report_dates=report_dates, calendar=cal, body_text=body
    )


# phrase in a 完成时限 cell, plan year 2023 → kind, due dates
CELL_TABLE = [
    # a month: its last working day (2023-11-30 is a Thursday)
    ("11月", "date", [D(2023, 11, 30)]),
    ("11月底前", "date", [D(2023, 11, 30)]),
    ("11月底", "date", [D(2023, 11, 30)]),
    ("11月份", "date", [D(2023, 11, 30)]),
    ("11月末前完成", "date", [D(2023, 11, 30)]),
    ("10月底前", "date", [D(2023, 10, 31)]),
    ("9月底前", "date", [D(2023, 9, 28)]),  # 9-29..10-06 off: back to the 28th, not October
    ("6月底前", "date", [D(2023, 6, 30)]),
    ("4月底前", "date", [D(2023, 4, 28)]),  # 4-29 劳动节 block
    ("十一月", "date", [D(2023, 11, 30)]),
    ("十月底前", "date", [D(2023, 10, 31)]),
    ("１１月底前", "date", [D(2023, 11, 30)]),
    ("11 月底前", "date", [D(2023, 11, 30)]),
    ("2023年11月底前", "date", [D(2023, 11, 30)]),
    ("二〇二三年十月底前", "date", [D(2023, 10, 31)]),
    ("11月上旬", "date", [D(2023, 11, 10)]),
    ("11月中旬", "date", [D(2023, 11, 20)]),
    ("11月下旬", "date", [D(2023, 11, 30)]),
    ("5月中旬", "date", [D(2023, 5, 19)]),  # 5-20 is a Saturday
    # a written date: kept as written
    ("11月20日前", "date", [D(2023, 11, 20)]),
    # a Saturday in the 国庆 block: the next working day, Saturday 10-07 (调休), 民法典 art. 203
    ("2023年9月30日前", "date", [D(2023, 10, 7)]),
    ("十一月二十日前", "date", [D(2023, 11, 20)]),
    ("１１月２０日前", "date", [D(2023, 11, 20)]),
    ("11月20号前", "date", [D(2023, 11, 20)]),
    ("2023-11-30", "date", [D(2023, 11, 30)]),
    ("2023-11-30 00:00:00", "date", [D(2023, 11, 30)]),  # an Excel date cell as text
    ("2023/9/30", "date", [D(2023, 10, 7)]),
    ("2023.11", "date", [D(2023, 11, 30)]),
    # the year
    ("年底前", "date", [D(2023, 12, 29)]),  # 12-30/31 weekend
    ("年内", "date", [D(2023, 12, 29)]),
    ("年底", "date", [D(2023, 12, 29)]),
    ("年末", "date", [D(2023, 12, 29)]),
    ("2023年底前", "date", [D(2023, 12, 29)]),
    ("2023年年底前", "date", [D(2023, 12, 29)]),
    ("今年内", "date", [D(2023, 12, 29)]),
    ("上半年", "date", [D(2023, 6, 30)]),
    ("上半年完成", "date", [D(2023, 6, 30)]),
    ("下半年", "date", [D(2023, 12, 29)]),
    ("第三季度", "date", [D(2023, 9, 28)]),
    ("三季度末前", "date", [D(2023, 9, 28)]),
    ("第3季度", "date", [D(2023, 9, 28)]),
    ("第一季度", "date", [D(2023, 3, 31)]),
    ("第二季度末", "date", [D(2023, 6, 30)]),
    ("第四季度", "date", [D(2023, 12, 29)]),
    # report dates listed in the cell
    ("7月31日、11月30日前报送", "report_dates", REPORT_DATES),
    ("2023年7月31日、11月30日前", "report_dates", REPORT_DATES),
    ("7月31日，11月30日前", "report_dates", REPORT_DATES),
    ("6月30日和12月20日前", "report_dates", [D(2023, 6, 30), D(2023, 12, 20)]),
    # ongoing and empty: the plan's report dates
    ("长期坚持", "ongoing", REPORT_DATES),
    ("长期", "ongoing", REPORT_DATES),
    ("常态化", "ongoing", REPORT_DATES),
    ("全年", "ongoing", REPORT_DATES),
    (None, "default", REPORT_DATES),
    ("", "default", REPORT_DATES),
    ("  ", "default", REPORT_DATES),
    ("/", "default", REPORT_DATES),
    ("无", "default", REPORT_DATES),
]

MONTH_ENDS_2023 = [
    D(2023, 1, 31), D(2023, 2, 28), D(2023, 3, 31), D(2023, 4, 28), D(2023, 5, 31),
    D(2023, 6, 30), D(2023, 7, 31), D(2023, 8, 31), D(2023, 9, 28), D(2023, 10, 31),
    D(2023, 11, 30), D(2023, 12, 29),
]  # fmt: skip
QUARTER_ENDS_2023 = [D(2023, 3, 31), D(2023, 6, 30), D(2023, 9, 28), D(2023, 12, 29)]

# recurring obligations → due dates and periods
RECURRING_TABLE = [
    ("每月", MONTH_ENDS_2023, [f"2023-{m:02d}" for m in range(1, 13)]),
    ("每月至少更新2条", MONTH_ENDS_2023, [f"2023-{m:02d}" for m in range(1, 13)]),
    ("每个月报送一次", MONTH_ENDS_2023, [f"2023-{m:02d}" for m in range(1, 13)]),
    ("按月公开", MONTH_ENDS_2023, [f"2023-{m:02d}" for m in range(1, 13)]),
    (
        "每月10日前",
        # 06-10 is a Saturday, 09-10 and 12-10 are Sundays: the next working day
        [D(2023, m, {6: 12, 9: 11, 12: 11}.get(m, 10)) for m in range(1, 13)],
        [f"2023-{m:02d}" for m in range(1, 13)],
    ),
    ("每季度", QUARTER_ENDS_2023, ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]),
    ("每季度报送", QUARTER_ENDS_2023, ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]),
    ("按季度", QUARTER_ENDS_2023, ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]),
    ("每年至少4次", QUARTER_ENDS_2023, ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]),
    ("每半年", [D(2023, 6, 30), D(2023, 12, 29)], ["2023-H1", "2023-H2"]),
    ("每年至少两次", [D(2023, 6, 30), D(2023, 12, 29)], ["2023-H1", "2023-H2"]),
    ("每年至少1次", [D(2023, 12, 29)], [""]),
    ("每年至少一次", [D(2023, 12, 29)], [""]),
    ("每年一次", [D(2023, 12, 29)], [""]),
    ("每年", [D(2023, 12, 29)], [""]),
]

# working-day limits after an event
EVENT_TABLE = [
    ("3个工作日内", 3),
    ("三个工作日内", 3),
    ("20个工作日内", 20),
    ("二十个工作日内", 20),
    ("２０个工作日内", 20),
    ("签发后的3个工作日内公开", 3),
    ("2个工作日", 2),
    ("1个工作日内", 1),
]

# text the calendar cannot read: raw text kept, plan default, a warning
UNREADABLE_TABLE = ["及时", "尽快", "视情况而定", "随文件印发", "2023年", "月底前"]

# readable phrases naming an impossible date: DeadlineError
IMPOSSIBLE_TABLE = [
    ("13月", "月份 13"),
    ("十三月底前", "月份 13"),
    ("0月", "月份 0"),
    ("2月30日前", "2023年2月没有30日"),
    ("2月29日", "2023年2月没有29日"),
    ("4月31日", "2023年4月没有31日"),
    ("7月31日、11月31日前", "2023年11月没有31日"),
    ("第五季度", "季度 5"),
    ("0个工作日内", "至少为 1"),
    ("2023-13-01", "月份 13"),
    ("每月32日前", "32 日"),
]


@pytest.mark.parametrize(("text", "kind", "dues"), CELL_TABLE)
def test_cell_phrase(cal, text, kind, dues):
    result = parse(text, cal)
    assert result.kind == kind
    assert [d.due for d in result.dues] == dues
    if kind in {"default"}:
        assert result.source == "plan_default"
    else:
        assert result.source == "deadline_cell"
        assert result.phrase == text.strip()


@pytest.mark.parametrize(("text", "dues", "periods"), RECURRING_TABLE)
def test_recurring(cal, text, dues, periods):
    result = parse(text, cal)
    assert result.kind == "recurring"
    assert [d.due for d in result.dues] == dues
    assert [d.period for d in result.dues] == periods


@pytest.mark.parametrize(("text", "n"), EVENT_TABLE)
def test_event_limit_has_no_date(cal, text, n):
    result = parse(text, cal)
    assert result.kind == "event_limit"
    assert result.working_days == n
    assert result.dues == []
    assert any("event add" in w for w in result.warnings)


@pytest.mark.parametrize("text", UNREADABLE_TABLE)
def test_unreadable_falls_back_with_warning(cal, text):
    result = parse(text, cal)
    assert result.kind == "unreadable"
    assert result.phrase == text
    assert [d.due for d in result.dues] == REPORT_DATES
    assert [d.phrase for d in result.dues] == [text, text]
    assert len(result.warnings) == 1 and f"「{text}」" in result.warnings[0]


def test_unreadable_without_report_dates_falls_back_to_year_end(cal):
    result = parse("尽快", cal, report_dates=[])
    assert result.kind == "unreadable"
    assert [(d.due, d.period) for d in result.dues] == [(D(2023, 12, 29), "")]
    assert "年底" in result.warnings[0]


@pytest.mark.parametrize(("text", "fragment"), IMPOSSIBLE_TABLE)
def test_impossible_dates_raise(cal, text, fragment):
    with pytest.raises(DeadlineError) as info:
        parse(text, cal)
    assert isinstance(info.value, ValueError)
    assert fragment in info.value.message
    assert f"「{text}」" in info.value.message
    assert info.value.source == "deadline_cell"


def test_impossible_date_in_text_names_the_text(cal):
    with pytest.raises(DeadlineError) as info:
        parse(None, cal, body="应于2月30日前完成目录编制")
    assert info.value.source == "text"


# ------------------------------------------------------------------ seeds: phrases in text

# every requirement of 2021 江门 (no 完成时限 column) whose text holds a phrase, and some without
JIANGMEN_TEXT = [
    ("3.每年至少更新一次“开放江门”数据集。", "每年至少更新一次", [D(2021, 12, 31)]),
    (
        "5.设立专栏,重点围绕散发疫情、隔离管控、流调溯源、精准防控、假期人员流动等发布权威信息"
        "(专栏每月至少更新2条信息)。",
        "每月",
        None,  # 12 month ends, checked below
    ),
    (
        "20.2021年11月20日前完成主动公开基层目录编制,并统一在政府信息公开平台上对外发布。",
        "2021年11月20日前",
        [D(2021, 11, 22)],  # a Saturday: the next working day (Monday)
    ),
    (
        "26.本机关主要负责同志每年至少听取1次政务公开工作汇报,专题研究部署政务公开工作。",
        "每年至少听取1次",
        [D(2021, 12, 31)],
    ),
]
JIANGMEN_NO_PHRASE = [
    "1.加强行政执法信息公开。",
    "2.推进本机关预算、决算及相关报表公开。",
    "15.认真做好政务舆情(政务新媒体后台留言)和“省长留言信箱”“12345”政府热线等各类留言信息的办理工作",
    "25.严格落实《国务院办公厅政府信息与政务公开办公室关于政府信息公开年度报告有关事项的通知》"
    "(国办公开办函〔2019〕60号)文件要求",
    "27.加强队伍建设,定期组织开展政府信息公开工作培训和研讨交流,不断提升业务能力。",
    "28. 建立本部门2021年政务公开工作重点任务台账,明确具体分工、实时跟进推动,确保落实到位。",
    "29. 对上一年度工作要点落实情况开展“回头看”,重点针对有明确责任主体和时限要求的工作任务",
    "13.密切关注疫情防控、医疗等方面的舆情并及时作出回应,助力防范化解重大风险。",
    "持续做好法定主动公开内容的更新",  # 持续 alone is not a deadline inside text
    "一年内完成三年内目标",  # 一年内 / 三年内 are not 年内
    "于2021年11月20日召开会议",  # a date without 前 is not a deadline
]


@pytest.mark.parametrize(("text", "phrase", "dues"), JIANGMEN_TEXT)
def test_jiangmen_phrase_in_text(cal, text, phrase, dues):
    assert find_phrase(text) == phrase
    result = parse(None, cal, year=2021, report_dates=[], body=text)
    assert result.source == "text"
    assert result.phrase == phrase
    if dues is None:
        assert result.kind == "recurring" and len(result.dues) == 12
        assert result.dues[-1].due == D(2021, 12, 31)
    else:
        assert [d.due for d in result.dues] == dues
    assert all(d.phrase == phrase for d in result.dues)


@pytest.mark.parametrize("text", JIANGMEN_NO_PHRASE)
def test_text_without_phrase_uses_plan_default(cal, text):
    assert find_phrase(text) is None
    result = parse(None, cal, year=2021, report_dates=[], body=text)
    assert result.kind == "default"
    assert result.source == "plan_default"
    assert [d.due for d in result.dues] == [D(2021, 12, 31)]


def test_cell_wins_over_text(cal):
    result = parse("11月", cal, body="2023年6月20日前完成")
    assert result.source == "deadline_cell"
    assert [d.due for d in result.dues] == [D(2023, 11, 30)]


# 2023 银川: the 完成时限 cells, the intro's report dates, phrases inside 主要内容
YINCHUAN_INTRO = (
    "请委机关各相关科室、委属各单位对照台账细化措施、逐项落实，落实情况或进展信息分别于"
    "2023年7月31日、11月30日前报送银川市卫健委办公室（邮箱：ycws_bgs@163.com,传真：6889090）。"
)
YINCHUAN_TEXT = [
    ("同时推动政府工作报告归集公开,按季度公开本级政府工作报告重点任务", "按季度", "recurring"),
    ("应在单位主要负责人签发后的3个工作日内，通过网站或其他公众媒体及时公开", "3个工作日内", "event_limit"),
    ("年内做到图文解读全覆盖、动漫视频占比 20%。", "年内", "date"),
]  # fmt: skip


def test_yinchuan_cells(cal):
    cells = ["11月"] * 12 + ["长期坚持", "11月"]  # tasks 1–14 in order
    results = [parse(c, cal) for c in cells]
    assert [r.kind for r in results] == ["date"] * 12 + ["ongoing", "date"]
    assert all([d.due for d in r.dues] == [D(2023, 11, 30)] for r in results if r.kind == "date")
    ongoing = results[12]
    assert [(d.due, d.period) for d in ongoing.dues] == [
        (D(2023, 7, 31), "2023-07-31"),
        (D(2023, 11, 30), "2023-11-30"),
    ]


def test_yinchuan_intro_report_dates(cal):
    assert find_phrase(YINCHUAN_INTRO) == "2023年7月31日、11月30日前"
    assert find_report_dates(YINCHUAN_INTRO, 2023) == REPORT_DATES
    result = parse(None, cal, body=YINCHUAN_INTRO)
    assert result.kind == "report_dates"
    assert [d.period for d in result.dues] == ["2023-07-31", "2023-11-30"]


@pytest.mark.parametrize(("text", "phrase", "kind"), YINCHUAN_TEXT)
def test_yinchuan_text_phrases(cal, text, phrase, kind):
    assert find_phrase(text) == phrase
    assert parse(None, cal, body=text).kind == kind


# 2017 三明: phrases of the implementation plan
SANMING_TEXT = [
    ("主动公开的信息,应当自信息形成之日20个工作日内予以公开。", "20个工作日内"),
    ("不能当场答复的,应于15个工作日内答复。", "15个工作日内"),
    ("应及时将本单位每季度主动公开、依申请公开信息等情况,报送市卫生计生委办公室。", "每季度"),
    ("围绕年内实现“双随机、一公开”监管全覆盖要求", "年内"),
    ("每月按时公开集中式生活饮用水水质监督信息。", "每月"),
    ("公布解读材料最迟不得超过政策文件公布后的3个工作日。", "3个工作日"),
    ("要将全年工作落实情况于11月25日前报送市卫生计生委办公室。", "11月25日前"),
    ("20个工作日内予以公开，每季度报送情况", "每季度"),  # a recurrence beats an event limit
]


@pytest.mark.parametrize(("text", "phrase"), SANMING_TEXT)
def test_sanming_text_phrases(text, phrase):
    assert find_phrase(text) == phrase


# ------------------------------------------------------------------ rules, years, calendar


def test_ongoing_without_report_dates_is_year_end(cal):
    result = parse("长期坚持", cal, report_dates=[])
    assert [(d.due, d.period) for d in result.dues] == [(D(2023, 12, 29), "")]


def test_default_without_report_dates_is_year_end(cal):
    result = parse(None, cal, report_dates=[])
    assert result.kind == "default"
    assert [d.due for d in result.dues] == [D(2023, 12, 29)]


def test_month_before_is_said_out_loud(cal):
    result = parse("11月前", cal)
    assert [d.due for d in result.dues] == [D(2023, 10, 31)]
    assert "10 月底" in result.warnings[0]


def test_other_year_warns(cal):
    result = parse("2022年11月20日前", cal)
    assert [d.due for d in result.dues] == [D(2022, 11, 21)]  # 11-20 is a Sunday
    assert "2022" in result.warnings[0] and "2023" in result.warnings[0]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("11月底前", {"kind": "date", "date": "2023-11-30", "roll": True}),
        ("年底前", {"kind": "date", "date": "2023-12-31", "roll": True}),
        ("第三季度", {"kind": "date", "date": "2023-09-30", "roll": True}),
        ("2023年9月30日前", {"kind": "date", "date": "2023-09-30", "roll": "next"}),
        ("长期坚持", {"kind": "date", "date": "2023-07-31", "roll": "next"}),
    ],
)
def test_rule_json_recomputes_the_due(cal, text, rule):
    due = parse(text, cal).dues[0]
    assert json.loads(due.rule) == rule
    assert due_from_rule(due.rule, cal) == due.due


def test_working_day_due(cal):
    # 2023-09-27 (Wed) + 3 working days: 28th, then 9-29..10-06 off, 10-07/08 weekend worked
    due = working_day_due(D(2023, 9, 27), 3, cal, "政策解读")
    assert due.due == D(2023, 10, 8)
    assert json.loads(due.rule) == {"kind": "working_days", "start": "2023-09-27", "n": 3}
    assert due_from_rule(due.rule, cal) == due.due
    assert not due.provisional


def test_working_day_due_from_a_day_off_counts_from_next_working_day(cal):
    # a request received on Saturday 2023-11-25: the 1st working day after is Monday 27th
    assert working_day_due(D(2023, 11, 25), 1, cal, "x").due == D(2023, 11, 27)


def test_provisional_year_is_flagged(cal):
    assert cal.is_provisional(2027)
    result = parse("年底前", cal, year=2027, report_dates=[])
    assert result.dues[0].provisional
    assert any("2027" in w and "暂定" in w for w in result.warnings)
    # a written date on a day off consults the calendar too (2027-11-20 is a Saturday)
    fixed = parse("2027年11月20日前", cal, year=2027, report_dates=[])
    assert fixed.dues[0].due == D(2027, 11, 22) and fixed.dues[0].provisional
    assert any("2027" in w and "暂定" in w for w in fixed.warnings)


@pytest.mark.parametrize(
    ("text", "value"),
    [("11", 11), ("十", 10), ("十一", 11), ("二十", 20), ("二十三", 23), ("两", 2),
     ("三十一", 31), ("二〇二一", 2021), ("二零二三", 2023)],
)  # fmt: skip
def test_cn_number(text, value):
    assert cn_number(text) == value


def test_never_crashes_on_odd_text(cal):
    for text in ["？？", "1", "月", "日", "第季度", "每", "工作日", "〇", "12345", "20%"]:
        result = parse(text, cal)
        assert result.kind in {"unreadable", "default"}

"""``duban calendar …`` through the real CLI root (no database needed)."""

from __future__ import annotations

import json

import pytest

SAMPLE_2027 = """\
year = 2027
source = "国办发明电〔2026〕99号（测试用，虚构）"

[[holiday]]
name = "春节"
from = 2027-02-05
to = 2027-02-13

[[workday]]
date = 2027-02-20
name = "春节调休"
"""


@pytest.fixture
def run(duban):
    """``duban calendar …`` as the office of an initialised database (import is office only),
    locally and over HTTP."""

    def invoke(*args: str):
        return duban("calendar", *args)

    return invoke


def ok_json(run, *args: str):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_show_february_2026_has_the_spring_festival_and_both_working_saturdays(run):
    result = run("show", "2026-02")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2026年2月（已确认" in out
    assert "休 春节：2月15日—2月23日，共 9 天" in out
    assert "班 2月14日（周六）上班：春节调休" in out
    assert "班 2月28日（周六）上班：春节调休" in out
    assert "14 班" in out and "28 班" in out and "16 休" in out and "23 休" in out
    assert result.stderr == ""  # a confirmed month: no provisional warning

    view = ok_json(run, "show", "2026-02")
    assert view["month"] == "2026-02" and not view["provisional"]
    assert view["holidays"] == [
        {"name": "春节", "from": "2026-02-15", "to": "2026-02-23", "days": 9, "sources": []}
    ]
    assert [d["date"] for d in view["adjusted_workdays"]] == ["2026-02-14", "2026-02-28"]
    marks = {d["date"]: d["mark"] for d in view["days"]}
    assert all(marks[f"2026-02-{day:02d}"] == "休" for day in range(15, 24))
    assert view["working_days"] == 16


def test_show_october_2026(run):
    view = ok_json(run, "show", "2026-10")
    assert view["holidays"] == [
        {"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07", "days": 7, "sources": []}
    ]
    assert [d["date"] for d in view["adjusted_workdays"]] == ["2026-10-10"]


def test_add_lands_after_national_day_week_on_the_working_saturday(run):
    result = run("add", "2026-09-30", "3")
    assert result.exit_code == 0
    assert result.stdout.startswith("2026-10-10（周六）（国庆节调休）")
    view = ok_json(run, "add", "2026-09-30", "3")
    assert view["result"] == "2026-10-10" and view["kind"] == "adjusted_workday"
    assert view["provisional_years"] == []


def test_add_negative_and_zero(run):
    assert ok_json(run, "add", "2026-10-08", "-3")["result"] == "2026-09-28"
    assert ok_json(run, "add", "2026-10-03", "0")["result"] == "2026-10-08"


def test_between(run):
    result = run("between", "2026-09-28", "2026-10-12")
    assert result.exit_code == 0
    assert "6 个工作日（不含起始日、含结束日）" in result.stdout
    assert ok_json(run, "between", "2026-10-12", "2026-09-28")["working_days"] == -6


def test_status_then_import_confirms_2027(run, tmp_path):
    years = {r["year"]: r for r in ok_json(run, "status")}
    assert years[2026]["confirmed"] and years[2027]["status"] == "provisional"

    warned = run("add", "2026-12-20", "20")
    assert warned.exit_code == 0
    assert warned.stderr.count("2027 年的节假日安排尚未确认") == 1

    notice = tmp_path / "notice-2027.toml"
    notice.write_text(SAMPLE_2027, encoding="utf-8")
    result = run("import", str(notice))
    assert result.exit_code == 0, result.output
    assert "已导入 2027 年整年安排" in result.stdout
    assert (tmp_path / "config" / "calendar" / "2027.toml").read_text(
        encoding="utf-8"
    ) == SAMPLE_2027

    years = {r["year"]: r for r in ok_json(run, "status")}
    assert years[2027]["confirmed"] and "国办发明电〔2026〕99号" in years[2027]["source"]
    assert "休 春节：2月5日—2月14日，共 10 天" in run("show", "2027-02").stdout
    quiet = run("add", "2027-02-04", "1")
    assert quiet.stdout.startswith("2027-02-15") and quiet.stderr == ""

    again = ok_json(run, "import", str(notice))  # importing again replaces, idempotently
    assert again["installed"].endswith("2027.toml") and again["confirmed"]


def test_import_of_a_bad_file_names_the_line_and_installs_nothing(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SAMPLE_2027.replace("date = 2027-02-20", "date = 2027-02-10"), encoding="utf-8")
    result = run("import", str(bad))
    assert result.exit_code == 9
    assert f"错误：{bad} 第 10 行：2027-02-10 既是假期" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "config" / "calendar").exists() or not any(
        (tmp_path / "config" / "calendar").iterdir()
    )
    assert run("import", str(tmp_path / "missing.toml")).exit_code == 9


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("show", "2026-13"), 2, "月份无效：“2026-13”"),
        (("show", "二月"), 2, "月份无效"),
        (("add", "2026-02-30", "1"), 2, "日期无效：“2026-02-30”"),
        (("between", "2026-09-28", "2026-9-31"), 2, "结束日期无效"),
        (("add", "2100-12-30", "5"), 9, "超出工作日历范围"),
        (("show", "1999-01"), 9, "超出工作日历范围"),
    ],
)
def test_bad_input_is_one_chinese_line(run, args, code, fragment):
    result = run(*args)
    assert result.exit_code == code
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_is_office_only(duban, tmp_path):
    notice = tmp_path / "2027.toml"
    notice.write_text(SAMPLE_2027, encoding="utf-8")
    duban.ok("unit", "add", "法规处")
    unit_token = duban.json("token", "issue", "法规处")["token"]
    refused = duban("calendar", "import", str(notice), token=unit_token)
    assert refused.exit_code == 4 and "办公室" in refused.stderr
    assert not (tmp_path / "config" / "calendar").exists()


def test_import_recomputes_provisional_due_dates(duban, tmp_path):
    """An event limit counted across the unpublished 2027 Spring Festival moves once the notice lands."""
    duban.ok("unit", "add", "法规处")
    before = duban.json(
        "event",
        "add",
        "网站找错",
        "--date",
        "2027-02-04",
        "--unit",
        "法规处",
        "--ref",
        "网站找错#1",
    )
    assert before["provisional"] is True
    notice = tmp_path / "2027.toml"
    notice.write_text(SAMPLE_2027, encoding="utf-8")
    out = duban.json("calendar", "import", str(notice))
    changed = {c["assignment_id"]: c for c in out["recomputed"]}
    assert changed[before["id"]]["new_due"] == "2027-02-16"  # 2 working days after 2/4: 2/15, 2/16
    row = next(r for r in duban.json("task", "list") if r["id"] == before["id"])
    assert row["due"] == "2027-02-16" and row["provisional"] is False
    history = duban.json("task", "show", before["id"])["history"]
    assert history[-1]["action"] == "due_recomputed"

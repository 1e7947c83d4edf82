"""A plan's year, end to end (issue 26): deadlines on a day off, periods that began before the
plan, "as of D" as the end of day D, and the views of one assignment at one moment.

One small 2024 ledger, issued on Friday 2024-06-14 (the file says "2024年6月14日印发"):

==  ==================  ===========================================================
#   完成时限            due dates (2024 official calendar)
==  ==================  ===========================================================
1   每月底前             month ends; Jan–May are before the issue date and not counted;
                        June 30 is a Sunday → 06-28 (a period's end stays in its period)
2   每季度               Q1 (03-29) not counted; 06-28, 09-30, 12-31
3   2024年6月22日前      a Saturday → Monday 06-24 (民法典 art. 203), or Friday 06-21 with
                        ``[office] due_on_rest_day = "previous"``
4   6月底前              Sunday 06-30 → Friday 06-28
5   年底前               Tuesday 12-31
==  ==================  ===========================================================
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import YINCHUAN_HEADER, add_directory, write_xlsx

from workflow.storage.db import Database

TITLE = "某市某局2024年政务公开工作任务分解表"
INTRO = "本任务分解表于2024年6月14日印发，请各科室对照落实。"
TASKS = [
    ("1", "政务公开专栏更新", "每月底前"),
    ("2", "季度信息发布统计", "每季度"),
    ("3", "主动公开基层目录编制", "2024年6月22日前"),
    ("4", "上半年工作总结", "6月底前"),
    ("5", "年度工作报告", "年底前"),
]
MONTH_ENDS_FROM_JUNE = [
    "2024-06-28", "2024-07-31", "2024-08-30", "2024-09-30", "2024-10-31", "2024-11-29", "2024-12-31",
]  # fmt: skip


def build(path: Path, intro: str = INTRO) -> Path:
    rows = [[TITLE], [intro], YINCHUAN_HEADER]
    rows += [[int(n), title, title, "", "宣传科", deadline, ""] for n, title, deadline in TASKS]
    return write_xlsx(path, rows, ["A1:G1", "A2:G2"])


def _toml(cli_env: dict[str, str], text: str) -> None:
    Path(cli_env["DUBAN_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(cli_env["DUBAN_CONFIG_DIR"], "duban.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def units(cli_env: dict[str, str]) -> None:
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    db.upgrade()
    with db.session() as s:
        add_directory(s, [("宣传科", [], [])])
    db.engine.dispose()


@pytest.fixture
def previous(cli_env: dict[str, str]) -> None:
    _toml(cli_env, '[office]\ndue_on_rest_day = "previous"\n')


@pytest.fixture
def year_start(cli_env: dict[str, str]) -> None:
    _toml(cli_env, '[office]\nperiods_from = "year_start"\n')


def _by_number(data) -> dict[str, dict]:
    return {t["number"]: t for t in data["tasks"]}


def test_the_dry_run_says_which_day_and_which_periods(units, duban, tmp_path: Path) -> None:
    path = build(tmp_path / "任务分解表.xlsx")
    duban.env["DUBAN_NOW"] = "2024-06-17T09:00"
    tasks = _by_number(duban.json("import", path, "--dry-run"))
    assert tasks["1"]["due_dates"] == MONTH_ENDS_FROM_JUNE
    assert (
        tasks["1"]["due_notes"][0] == "2024-01 至 2024-05 共 5 期 早于计划印发日期 2024-06-14，不计"
    )
    assert tasks["2"]["due_dates"] == ["2024-06-28", "2024-09-30", "2024-12-31"]
    assert tasks["2"]["due_notes"][0] == "2024-Q1 早于计划印发日期 2024-06-14，不计"
    assert tasks["3"]["due_dates"] == ["2024-06-24"]
    assert tasks["3"]["due_notes"] == ["2024-06-22 为休息日，顺延至 2024-06-24"]
    assert tasks["4"]["due_dates"] == ["2024-06-28"]
    assert tasks["4"]["due_notes"] == ["2024-06-30 为休息日，取期内最后一个工作日 2024-06-28"]
    assert tasks["5"]["due_dates"] == ["2024-12-31"] and tasks["5"]["due_notes"] == []
    text = duban.ok("import", path, "--dry-run").stdout
    assert "2024-06-22 为休息日，顺延至 2024-06-24" in text
    assert "早于计划印发日期 2024-06-14，不计" in text


def test_issued_on_the_command_line_wins(units, duban, tmp_path: Path) -> None:
    path = build(tmp_path / "任务分解表.xlsx", intro="请各科室对照落实。")  # no date in the file
    duban.env["DUBAN_NOW"] = "2024-06-17T09:00"
    tasks = _by_number(duban.json("import", path, "--dry-run"))
    assert len(tasks["1"]["due_dates"]) == 12  # no issue date known: every month counts
    tasks = _by_number(duban.json("import", path, "--dry-run", "--issued", "2024-09-02"))
    assert tasks["1"]["due_dates"] == MONTH_ENDS_FROM_JUNE[3:]
    assert tasks["2"]["due_dates"] == ["2024-09-30", "2024-12-31"]
    assert tasks["4"]["due_dates"] == ["2024-06-28"]  # a one-off date is never left out
    bad = duban("import", path, "--dry-run", "--issued", "2024-13-01")
    assert bad.exit_code == 2 and "--issued" in bad.stderr


def test_previous_working_day_when_the_office_says_so(
    previous, units, duban, tmp_path: Path
) -> None:
    duban.env["DUBAN_NOW"] = "2024-06-17T09:00"
    tasks = _by_number(duban.json("import", build(tmp_path / "t.xlsx"), "--dry-run"))
    assert tasks["3"]["due_dates"] == ["2024-06-21"]
    assert tasks["3"]["due_notes"] == ["2024-06-22 为休息日，提前至 2024-06-21"]
    assert tasks["4"]["due_dates"] == ["2024-06-28"]  # a period's end: unchanged


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[office]\ndue_on_rest_day = "later"\n', "due_on_rest_day"),
        ('[office]\nperiods_from = "june"\n', "periods_from"),
    ],
)
def test_a_wrong_setting_is_refused(cli_env, units, duban, tmp_path: Path, toml, words) -> None:
    path = build(tmp_path / "t.xlsx")
    _toml(cli_env, toml)
    result = duban("import", path, "--dry-run")
    assert result.exit_code == 7 and words in result.stderr and "Traceback" not in result.output


# units' points at the end of 31 December 2024 when 宣传科 never reports (never_reported: 3 each)
#               monthly  quarterly  one-offs  items  points lost  score
# issued (6-14)    7        3          3        13       39         61
# year_start      12        4          3        19       57         43
YEAR_END = {"issued": (13, 39.0, 61.0), "year_start": (19, 57.0, 43.0)}


def _year_end(duban, path: Path) -> tuple[int, float, float]:
    duban.env["DUBAN_NOW"] = "2024-06-17T09:00"
    duban.ok("import", path)
    duban.env["DUBAN_NOW"] = "2025-01-06T09:00"
    ev = duban.json("score", "--year", "2024", "--as-of", "2024-12-31")
    (unit,) = ev["units"]
    rules = {r["rule"] for r in ev["deductions"]}
    assert rules == {"never_reported"}, rules
    return unit["rows"], unit["deducted"], unit["score"]


def test_a_year_counts_from_the_issue_date(units, duban, tmp_path: Path) -> None:
    assert _year_end(duban, build(tmp_path / "t.xlsx")) == YEAR_END["issued"]


def test_a_year_counts_from_1_january_when_the_office_says_so(
    year_start, units, duban, tmp_path: Path
) -> None:
    assert _year_end(duban, build(tmp_path / "t.xlsx")) == YEAR_END["year_start"]


def test_the_year_end_number_does_not_depend_on_the_day_it_is_typed(
    year_start, cli_env, duban, tmp_path: Path
) -> None:
    """法规科 reports every item on its due day (on time: the whole day counts); 宣传科 never
    reports. Scored as of 31 December — the day the README tells an office to use — and again a
    week later, the sheet is the same: the items due on 12-31 are charged both times.

    ========  =====  =======  ==============  ======  =====
    unit      items  on time  never reported  points  score
    ========  =====  =======  ==============  ======  =====
    法规科       19       19               0       0    100
    宣传科       19        0              19      57     43
    ========  =====  =======  ==============  ======  =====
    """
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    db.upgrade()
    with db.session() as s:
        add_directory(s, [("宣传科", [], []), ("法规科", [], [])])
    db.engine.dispose()
    rows = [[TITLE], ["请各科室对照落实。"], YINCHUAN_HEADER]
    rows += [[int(n), t, t, "", "宣传科、法规科", d, ""] for n, t, d in TASKS]
    path = write_xlsx(tmp_path / "t.xlsx", rows, ["A1:G1", "A2:G2"])
    duban.env["DUBAN_NOW"] = "2024-01-02T09:00"
    duban.ok("import", path)
    token = duban.json("token", "issue", "法规科")["token"]
    mine = duban.json("task", "list", token=token)
    assert len(mine) == 19
    for row in sorted(mine, key=lambda r: r["due"]):
        duban.env["DUBAN_NOW"] = f"{row['due']}T17:30"  # on the due day itself, after hours
        duban.ok("task", "report", str(row["id"]), "--text", "已完成", token=token)
    tables = []
    for typed_on, as_of in (("2025-01-06T09:00", "2024-12-31"), ("2025-01-13T09:00", "2025-01-07")):
        duban.env["DUBAN_NOW"] = typed_on
        ev = duban.json("score", "--year", "2024", "--as-of", as_of)
        tables.append(
            {
                u["unit"]: (u["due"], u["on_time"], u["rows"], u["deducted"], u["score"])
                for u in ev["units"]
            }
        )
    assert (
        tables[0]
        == tables[1]
        == {
            "法规科": (19, 19, 0, 0.0, 100.0),
            "宣传科": (19, 0, 19, 57.0, 43.0),
        }
    )

"""A reproducible "as of D" record: exporting the same data as of the same date today and a year
later gives the same bytes (no "exported at" stamp, fixed workbook timestamps), and the record
shows the rules, adjustments and appeals behind every point."""

from __future__ import annotations

import tomllib
import zipfile
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from year_world import YEAR, YEAR_TOML, build_year

from workflow.config import Config
from workflow.dates.clock import SHANGHAI
from workflow.evaluation.appeals import decide_appeal, file_appeal
from workflow.evaluation.bonus import add_bonus
from workflow.evaluation.calls import export_file

NOW = datetime(YEAR + 1, 1, 8, 9, tzinfo=SHANGHAI)
AS_OF = "2024-01-15"


@pytest.fixture
def record(db, office, tmp_path, database_url):
    """The 2023 year with a bonus and two decided appeals; the config with the year's rules."""
    config = Config(tmp_path, tmp_path, database_url, raw=tomllib.loads(YEAR_TOML))
    world = build_year(db, office)
    with db.session() as s:
        add_bonus(s, office, "丁科", YEAR, "2", "经验做法被自治区采用", "宁政办发〔2023〕1号", NOW)
    unit = world["戊科"]["caller"]
    with db.session() as s:
        a = file_appeal(
            s, unit, str(world["戊科"]["monthly"][4][0]), "平台故障", None, NOW, config=config
        )
        b = file_appeal(
            s, unit, str(world["戊科"]["monthly"][5][0]), "人员调整", "说明", NOW, config=config
        )
        decide_appeal(s, office, a.id, True, "属实", NOW, config=config)
        decide_appeal(s, office, b.id, False, "不属于免责情形", NOW, config=config)
    return config


def _export(db, office, config, folder, now):
    folder.mkdir()
    with db.session() as s:
        export_file(
            s, office, config, now, path=str(folder / "考核.xlsx"), html=str(folder / "考核.html"),
            as_of=AS_OF, year=YEAR,
        )  # fmt: skip
    return (folder / "考核.xlsx").read_bytes(), (folder / "考核.html").read_bytes()


def test_same_record_today_and_a_year_later(db, office, record, tmp_path):
    first = _export(db, office, record, tmp_path / "today", NOW)
    later = _export(db, office, record, tmp_path / "later", NOW + timedelta(days=366, hours=5))
    assert first == later
    with zipfile.ZipFile(tmp_path / "later" / "考核.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2024, 1, 15, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2024-01-15T00:00:00Z") == 2  # created and modified
    assert "制表日期：2024-01-15" in first[1].decode()


def test_the_record_names_rules_adjustments_and_appeals(db, office, record, tmp_path):
    _export(db, office, record, tmp_path / "out", NOW)
    wb = load_workbook(tmp_path / "out" / "考核.xlsx")
    assert wb.sheetnames == ["考核汇总", "扣分明细", "加减分与申诉", "扣分规则"]
    text = "\n".join(
        str(c) for row in wb["加减分与申诉"].iter_rows(values_only=True) for c in row if c
    )
    for words in (
        "红牌",
        "逾期（含年底未报送）13 项，达 6 项出示红牌，扣 5 分",
        "指标“二、强化重要政策发布，加大同步解读力度”扣分 36 分，按权重最多扣 10 分，退回 26 分",
        "+2",
        "宁政办发〔2023〕1号",
        "申诉成立",
        "申诉不成立",
        "不属于免责情形",
    ):
        assert words in text, words
    rules = [r for r in wb["扣分规则"].iter_rows(values_only=True) if r[0]]
    assert ("红牌", "红牌：逾期（含年底未报送）达 6 项，扣 5 分（不再另计黄牌）") in rules
    summary = {
        r[1]: r[2]
        for r in wb["考核汇总"].iter_rows(min_row=5, values_only=True)
        if isinstance(r[0], int)
    }
    # 戊科: one of three late months waived on appeal → 2 late, no yellow card
    assert summary == {"丁科": 101, "甲科": 100, "戊科": 98, "乙科": 95, "丙科": 84}
    page = (tmp_path / "out" / "考核.html").read_text(encoding="utf-8")
    assert "申诉及处理结果" in page and "加分、黄红牌与指标封顶" in page


def test_cli_export_does_not_depend_on_now(cli_env, duban, tmp_path, request):
    """``duban export evaluation --as-of D`` run on two different days writes the same file."""
    if request.node.callspec.params["duban"] != "local":
        pytest.skip("the clock is the local process's: proven locally")
    from conftest import Cli

    out = []
    for i, now in enumerate(("2027-01-05T09:00", "2028-03-01T16:30")):
        target = tmp_path / f"{i}.xlsx"
        Cli({**cli_env, "DUBAN_NOW": now}).ok(
            "export", "evaluation", str(target), "--as-of", "2026-12-31", "--year", "2026"
        )
        out.append(target.read_bytes())
    assert out[0] == out[1]
    assert date(2026, 12, 31)  # the file's stamps: see test_same_record_today_and_a_year_later

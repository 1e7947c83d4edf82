"""``duban demo``: a throwaway year that never touches the user's database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli


def _run(tmp_path: Path, *args: str):
    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
        "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'user.db'}",
    }
    return CliRunner().invoke(cli, ["demo", *args], env=env, catch_exceptions=False)


def test_demo_plays_a_year_and_leaves_the_user_alone(tmp_path):
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2026-07-24 周五" in out and "【进展报送】" in out  # 5 working days before 7/31
    assert "2026-12-01 周二  标记逾期" in out and "【逾期通知】" in out
    assert "【逾期督办·分管领导】" in out and "【督办汇总】" in out
    assert "年终考核" in out and "从不报送" in out
    assert not (tmp_path / "user.db").exists() and not (tmp_path / "data").exists()


def test_demo_json_keep_and_behaviours(tmp_path):
    keep = tmp_path / "kept"
    result = _run(tmp_path, "--json", "--keep", str(keep), "--year", "2025")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["year"] == 2025 and (keep / "demo.db").exists()
    by_unit = {u["unit"]: u for u in data["year_end"]}
    never = by_unit["银川市中医医院"]
    assert never["behaviour"] == "从不报送" and never["deducted"] > 0 and never["on_time"] == 0
    # scored as of the end of 31 December: every task is charged, the one due on 12-31 too
    assert never["rows"] == never["assignments"] == never["due"] == 6
    assert never["deducted"] == 3 * never["due"]  # never_reported: 3 points each
    on_time = [u for u in data["year_end"] if u["behaviour"] == "按时报送"]
    assert on_time and all(u["deducted"] == 0 and u["on_time"] == u["due"] for u in on_time)
    late = [u for u in data["year_end"] if "逾期" in u["behaviour"]]
    assert late and all(u["deducted"] > 0 for u in late)
    assert data["mails"]["overdue"] >= 1 and data["mails"]["progress_request"] >= 1
    again = _run(tmp_path, "--quiet", "--keep", str(keep))
    assert again.exit_code == 5 and "已有 demo.db" in again.stderr


def test_a_kept_demo_can_be_explored_with_every_command(tmp_path):
    """After ``demo --keep``, ``duban score`` on that database shows who lost points and why."""
    keep = tmp_path / "kept"
    data = json.loads(_run(tmp_path, "--json", "--keep", str(keep)).stdout)
    assert data["token"].startswith("dbn_")
    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
        "DUBAN_DATABASE_URL": data["database"],
        "DUBAN_TOKEN": data["token"],
    }
    result = CliRunner().invoke(
        cli, ["score", "--plan", "2026", "--as-of", "2026-12-31", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    text = json.dumps(scored, ensure_ascii=False)
    assert "银川市中医医院" in text and "never_reported" in text
    plans = CliRunner().invoke(cli, ["plan", "list", "--json"], env=env)
    assert plans.exit_code == 0, plans.output
    [listed] = json.loads(plans.stdout)
    assert "2026年" in listed["title"] and "2023" not in listed["title"]  # the demo year
    printed = _run(tmp_path, "--quiet", "--keep", str(tmp_path / "kept2")).stdout
    token_file = tmp_path / "kept2" / "token"
    assert (
        "export DUBAN_DATABASE_URL=" in printed and f'DUBAN_TOKEN="$(cat {token_file})"' in printed
    )
    assert "dbn_" not in printed  # the token is in a 0600 file, never on a command line
    assert token_file.stat().st_mode & 0o077 == 0 and token_file.read_text().startswith("dbn_")
    assert "接下来可以试试" in printed and "duban score --plan 2026" in printed


def test_the_story_spreads_over_the_year_and_the_sample_is_shipped(tmp_path):
    keep = tmp_path / "kept"
    _run(tmp_path, "--json", "--keep", str(keep), "--year", "2023")
    import sqlite3

    with sqlite3.connect(keep / "demo.db") as conn:
        months = {row[0][:7] for row in conn.execute("select original_due from assignment")}
    assert len(months) >= 8, sorted(months)  # not all due on 30 November
    sample = tmp_path / "台账.xlsx"
    result = _run(tmp_path, "--sample", str(sample))
    assert result.exit_code == 0 and sample.stat().st_size > 0 and "示例台账已写入" in result.stdout


def test_the_demo_office_in_yinchuan_rests_on_its_regions_days():
    """银川 is in 宁夏: in 2021 Monday 07-19 and Tuesday 07-20 (古尔邦节) are off, so the weekly
    digest of week 29 goes out on Wednesday 07-21, and nothing is sent on the festival (nor on
    开斋节, 05-13 and 05-14)."""
    from datetime import date

    from workflow.demo.story import REGION, run_demo

    assert REGION == "宁夏"
    days = {d.day: d for d in run_demo(2021).days}
    assert any("第29周" in m.subject for m in days[date(2021, 7, 21)].mails)
    off = [date(2021, 7, 19), date(2021, 7, 20), date(2021, 5, 13), date(2021, 5, 14)]
    assert all(days[d].mails == [] for d in off)

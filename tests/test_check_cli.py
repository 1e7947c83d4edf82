"""``duban check`` through the CLI, and the [check] policy's validation."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from dbsnap import snapshot

from workflow.chasing.policy import Policy, parse_policy
from workflow.errors import ConfigError


@pytest.fixture
def office(duban):
    duban.ok("leader", "add", "王主任", "--email", "wang@example.org")
    duban.ok("unit", "add", "法规处", "--email", "fagui@example.org", "--leader", "王主任")
    duban.ok("unit", "add", "海域处")
    duban.ok(
        "task",
        "add",
        "修订政府信息公开指南",
        "--unit",
        "法规处",
        "--unit",
        "海域处",
        "--due",
        "2026-11-30",
    )
    return duban


def test_dry_run_shows_and_writes_nothing_then_check_writes(office, database_url):
    before = snapshot(database_url)
    dry = office.json("check", "--as-of", "2026-11-25", "--dry-run")
    assert dry["dry_run"] and dry["working_day"] and dry["counts"]["reminder"] == 1
    assert dry["queued"][0]["recipients"] == ["fagui@example.org"]
    assert any("海域处" in w for w in dry["warnings"])
    assert snapshot(database_url) == before
    text = office.ok("check", "--as-of", "2026-11-25").stdout
    assert "排队通知 1 封" in text and "到期提醒" in text and "法规处" in text
    again = office.json("check", "--as-of", "2026-11-25")
    assert again["queued"] == [] and again["expired"] == []
    late = office.json("check", "--as-of", "2026-12-01")
    assert len(late["expired"]) == 2 and late["counts"]["overdue"] == 1


def test_day_off_marks_overdue_but_sends_nothing(office):
    result = office.json("check", "--as-of", "2026-12-05")  # a Saturday
    assert not result["working_day"] and len(result["expired"]) == 2 and result["queued"] == []


def test_check_refuses_unit_tokens_and_bad_dates(office):
    token = office.json("token", "issue", "法规处")["token"]
    refused = office("check", "--as-of", "2026-11-25", token=token)
    assert refused.exit_code == 4 and "办公室" in refused.stderr
    bad = office("check", "--as-of", "2026-02-30")
    assert bad.exit_code == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.output


def test_bad_policy_in_config_is_one_chinese_line(office):
    config = Path(office.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[check]\nreminder_offsets = [3, "x"]\n', encoding="utf-8")
    result = office("check", "--as-of", "2026-11-25")
    assert (
        result.exit_code == 7
        and "reminder_offsets" in result.stderr
        and "\n" not in result.stderr.strip()
    )


def test_policy_defaults_and_parsing():
    assert Policy().reminder_offsets == (3, 1, 0)
    assert Policy().escalation == {"unit": 1, "leader": 3, "principal": 10}
    p = parse_policy(
        {
            "reminder_offsets": [1, 5],
            "digest": "周五",
            "time": "08:30",
            "escalation": {"principal": False},
        }
    )
    assert p.reminder_offsets == (5, 1) and p.digest_weekday == 4 and p.check_time == time(8, 30)
    assert p.escalation == {"unit": 1, "leader": 3} and p.level_reached(20) == "leader"
    assert parse_policy({"digest": "daily"}).digest_weekday is None
    q = parse_policy({"items_per_unit": 5}, server={"url": "https://d.example.cn/"})
    assert (q.items_per_unit, q.report_within_days, q.server_url) == (5, 3, "https://d.example.cn")
    assert (q.items_per_mail, q.units_per_mail) == (200, 100)
    r = parse_policy({"items_per_mail": 50, "units_per_mail": 30})
    assert (r.items_per_mail, r.units_per_mail) == (50, 30)


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"reminder_offsets": [1, 1]}, "重复"),
        ({"escalation": {"leader": 0}}, "escalation.leader"),
        ({"escalation": {"unit": 5, "leader": 3}}, "递增"),
        ({"escalation": {"boss": 3}}, "未知的级别"),
        ({"digest": "someday"}, "digest"),
        ({"time": "25:00"}, "HH:MM"),
        ({"delivery_interval_minutes": 0}, "delivery_interval_minutes"),
        ({"remind": [1]}, "未知的设置"),
        ({"items_per_unit": 0}, "items_per_unit"),
        ({"items_per_mail": 0}, "items_per_mail"),
        ({"units_per_mail": True}, "units_per_mail"),
        ({"report_within_days": "3"}, "report_within_days"),
    ],
)
def test_policy_errors(section, words):
    with pytest.raises(ConfigError, match=words):
        parse_policy(section)

"""Health for the office's monitoring: ``/healthz``, ``/readyz`` (database, schema, the daemon's
heartbeat, the outbox) and ``duban status`` say the same, with no secret; the daemon's upkeep
writes the heartbeat and takes the scheduled backups, keeping ``[backup] keep`` of them;
``duban db upgrade`` says what it will run and backs up first."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Cli

from workflow.config import load_config
from workflow.dates.clock import SHANGHAI
from workflow.errors import ConfigError
from workflow.operations.health import beat, readiness
from workflow.operations.upkeep import backup_settings, scheduled_backup, upkeep
from workflow.storage.db import Database
from workflow.storage.schema import SCHEMA_HEAD

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def _config(tmp_path: Path, url: str, toml: str = ""):
    (tmp_path / "c").mkdir(exist_ok=True)
    (tmp_path / "c" / "duban.toml").write_text(toml, encoding="utf-8")
    return load_config(
        {
            "DUBAN_CONFIG_DIR": str(tmp_path / "c"),
            "DUBAN_DATA_DIR": str(tmp_path / "d"),
            "DUBAN_DATABASE_URL": url,
        }
    )


def test_readiness_follows_the_heartbeat_and_reports_the_outbox(db, tmp_path):
    config = _config(tmp_path, db.url, "[health]\nheartbeat_minutes = 5\n")
    report = readiness(db, config, NOW)
    assert report["ready"] is False
    assert report["checks"]["daemon"]["reason"] == "守护进程从未运行"
    beat(db, NOW - timedelta(minutes=3))
    report = readiness(db, config, NOW)
    assert report["ready"] is True and report["checks"]["daemon"]["age_minutes"] == 3.0
    assert report["checks"]["schema"] == {
        "ok": True,
        "current": SCHEMA_HEAD,
        "expected": SCHEMA_HEAD,
    }
    from workflow.storage.models import Notification

    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Notification.__table__),
            [
                {
                    "key": f"k{i}",
                    "kind": "overdue",
                    "recipients": [],
                    "recipient_name": "法规处",
                    "context": {},
                    "state": state,
                    "created_at": NOW - timedelta(hours=hours),
                }
                for i, (state, hours) in enumerate([("pending", 2), ("failed", 30), ("failed", 5)])
            ],
        )
    outbox = readiness(db, config, NOW)["checks"]["outbox"]
    assert (outbox["pending"], outbox["failed"]) == (1, 2)
    assert outbox["oldest_failure"] == "2026-03-01T03:00:00+08:00"
    beat(db, NOW - timedelta(minutes=6))
    late = readiness(db, config, NOW)
    assert late["ready"] is False and "6 分钟未更新" in late["checks"]["daemon"]["reason"]


def test_an_old_schema_is_not_ready(database_url, tmp_path):
    db = Database(database_url)
    db.upgrade("0012")
    report = readiness(db, _config(tmp_path, database_url), NOW)
    assert report["ready"] is False
    assert report["checks"]["schema"] == {"ok": False, "current": "0012", "expected": SCHEMA_HEAD}
    db.engine.dispose()


def test_healthz_and_readyz_over_http_without_secrets(cli_env, tmp_path):
    from fastapi.testclient import TestClient

    from workflow.web.app import create_app

    url = cli_env["DUBAN_DATABASE_URL"]
    app = create_app(load_config(cli_env), env=lambda: cli_env)
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["database"]["ok"]
        beat(app.state.duban.db, NOW - timedelta(minutes=1))
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        text = ready.text
    app.state.duban.db.engine.dispose()
    assert cli_env["DUBAN_TOKEN"] not in text and url not in text
    status = Cli(cli_env).json("status")
    assert status["ready"] is True and status["checks"]["daemon"]["age_minutes"] == 1.0
    plain = Cli(cli_env).ok("status").stdout
    assert "状态：就绪" in plain and "守护进程：心跳" in plain


def test_status_says_not_ready_with_its_own_exit_code(cli_env):
    result = Cli(cli_env)("status")
    assert result.exit_code == 13 and "守护进程：从未运行" in result.stdout


def test_upkeep_beats_backs_up_once_a_day_and_keeps_the_newest(db, tmp_path):
    config = _config(
        tmp_path, db.url, f'[backup]\ndir = "{tmp_path / "bk"}"\nkeep = 2\nat = "02:30"\n'
    )
    early = datetime(2026, 3, 2, 1, 0, tzinfo=SHANGHAI)
    assert scheduled_backup(db, config, early) is None  # before 02:30
    names = []
    for day in range(3):
        when = datetime(2026, 3, 2 + day, 3, 0, tzinfo=SHANGHAI)
        upkeep(db, config, when)
        upkeep(db, config, when + timedelta(minutes=1))  # the same day: nothing more
        names.append(sorted(p.name for p in (tmp_path / "bk").iterdir()))
    suffix = "db" if db.dialect == "sqlite" else "dump"
    assert names[-1] == [f"duban-20260303-0300.{suffix}", f"duban-20260304-0300.{suffix}"]
    assert len(names[0]) == 1
    report = readiness(db, config, datetime(2026, 3, 4, 3, 5, tzinfo=SHANGHAI))
    assert report["checks"]["daemon"]["age_minutes"] == 4.0
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT door, action, outcome FROM auditevent ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [("daemon", "settings.change", "ok")] + [
        ("daemon", "backup", "ok")
    ] * 3


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[backup]\nkeep = 0\n", "keep 应为正整数"),
        ('[backup]\nat = "25:00"\n', "at 应为 HH:MM"),
        ("[backup]\nevery = 1\n", "未知设置：every"),
    ],
)
def test_wrong_backup_settings_are_refused(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message):
        backup_settings(_config(tmp_path, "sqlite:///x.db", toml))


def test_db_upgrade_says_what_it_runs_and_backs_up_first(database_url, tmp_path):
    db = Database(database_url)
    db.upgrade("0015")  # the step before the audit log's
    db.engine.dispose()
    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "c"),
        "DUBAN_DATA_DIR": str(tmp_path / "d"),
        "DUBAN_DATABASE_URL": database_url,
        "DUBAN_TOKEN": "",
        "DUBAN_SERVER": "",
        "DUBAN_NOW": "2026-03-02T09:00",
    }
    cli = Cli(env)
    plan = cli.json("db", "upgrade", "--dry-run")
    pending = [s["revision"] for s in plan["pending"]]
    assert pending[0] == "0016" and pending[-1] == SCHEMA_HEAD
    assert plan["pending"][0]["what"].startswith("audit log")
    assert plan["to"] == "0015"
    out = cli.ok("db", "upgrade").stdout
    assert (
        f"执行 {len(pending)} 个升级步骤" in out
        and "0016  audit log" in out
        and "升级前已备份" in out
    )
    backups = list((tmp_path / "d").glob("duban-before-upgrade-20260302-090000.*"))
    assert len(backups) == 1
    assert Database(database_url).current_revision() == SCHEMA_HEAD
    assert "已是最新版本" in cli.ok("db", "upgrade").stdout


def test_upkeep_records_settings_and_template_changes_without_values(db, tmp_path):
    import json

    from workflow.operations.watch import watch

    toml = '[smtp]\nhost = "mail.example.cn"\npassword = "s3cret"\n[check]\ntime = "08:00"\n'
    config = _config(tmp_path, db.url, toml)
    assert watch(db, config, NOW) == ["settings.change"]  # first seen
    assert watch(db, config, NOW) == []
    config = _config(tmp_path, db.url, toml.replace("s3cret", "n3w"))
    (tmp_path / "c" / "templates").mkdir()
    (tmp_path / "c" / "templates" / "overdue.txt").write_text("逾期", encoding="utf-8")
    assert watch(db, config, NOW) == ["settings.change", "template.change"]
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action, detail FROM auditevent ORDER BY id")).all()
    details = [json.loads(d) for _, d in rows]
    assert details[1]["changed"] == ["smtp"]
    assert "first_seen" in details[2] and "overdue.txt" in details[2]["fingerprint"]
    assert "s3cret" not in str(rows) and "n3w" not in str(rows)

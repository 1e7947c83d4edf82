"""The security audit log: one chained row per sign-in, token, directory change, export…;
``duban audit verify`` names the deleted or edited row; retention keeps ≥ 180 days and archives
before it prunes; appends from several processes keep the chain valid."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Cli

from workflow.audit.chain import Entry, append_now, verify
from workflow.audit.reading import AuditSettings, audit_settings, prune
from workflow.config import load_config
from workflow.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _actions(rows):
    return [(r["action"], r["outcome"], r["target"]) for r in reversed(rows)]


def test_each_door_records_who_what_where_and_the_outcome(duban: Cli, tmp_path):
    duban.ok("unit", "add", "法规处")
    issued = duban.json("token", "issue", "法规处")["token"]
    duban.ok("token", "revoke", "2")
    assert duban("unit", "list", token="dbn_wrong").exit_code == 4
    assert duban("token", "list", token=issued).exit_code == 4  # revoked
    duban.ok("audit", "export", str(tmp_path / "审计.csv"))
    rows = duban.json("audit", "list")
    assert _actions(rows) == [
        ("token.issue", "ok", "办公室"),  # duban init
        ("unit.add", "ok", "法规处"),
        ("token.issue", "ok", "法规处"),
        ("token.revoke", "ok", "2"),
        ("signin", "denied", None),
        ("signin", "denied", None),
        ("audit.export", "ok", "审计.csv"),
    ]
    add = rows[-2]
    assert (add["role"], add["actor"], add["token_id"], add["person_id"]) == (
        "office",
        "办公室",
        1,
        None,
    )
    over_http = bool(duban.env.get("DUBAN_SERVER"))
    assert add["door"] == ("api" if over_http else "cli")
    assert add["address"] == "127.0.0.1" if over_http else "@" in add["address"]
    assert add["at"] == "2026-03-02T09:00:00+08:00"
    assert issued not in json.dumps(rows)  # never the token itself
    failed = duban.json("audit", "list", "--action", "signin")
    assert [r["outcome_label"] for r in failed] == ["拒绝", "拒绝"]
    assert duban.json("audit", "verify")["ok"] is True


def test_only_the_office_reads_the_audit_log(duban: Cli):
    duban.ok("unit", "add", "法规处")
    unit = duban.json("token", "issue", "法规处")["token"]
    refused = duban("audit", "list", token=unit)
    assert refused.exit_code == 4 and "无权查看审计日志" in refused.stderr
    # the refusal itself is recorded
    assert duban.json("audit", "list", "--outcome", "denied")[0]["actor"] == "法规处"


def test_export_writes_csv_for_excel_and_jsonl(duban: Cli, tmp_path):
    duban.ok("unit", "add", "=HYPERLINK(1)")
    out = duban.json("audit", "export", str(tmp_path / "审计.csv"), "--action", "unit")
    assert out["rows"] == 1
    text = (tmp_path / "审计.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("序号,时间,操作人")
    assert ",'=HYPERLINK(1)," in text  # a formula stays text
    duban.ok("audit", "export", str(tmp_path / "a.jsonl"))
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["action"] for x in lines] == ["token.issue", "unit.add", "audit.export"]
    bad = duban("audit", "export", str(tmp_path / "a.txt"))
    assert bad.exit_code == 2 and ".csv 或 .jsonl" in bad.stderr


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE auditevent SET actor = '别人' WHERE id = 3",
            ["第 3 条记录的内容被修改（哈希不符）"],
        ),
        ("DELETE FROM auditevent WHERE id = 2", ["第 2 条记录已被删除"]),
        ("DELETE FROM auditevent WHERE id IN (2, 3)", ["第 2–3 条记录已被删除"]),
        ("DELETE FROM auditevent WHERE id = 5", ["第 5 条记录已被删除（日志末尾）"]),
        (
            "UPDATE auditevent SET outcome = 'denied' WHERE id = 5",
            ["第 5 条记录的内容被修改（哈希不符）"],
        ),
    ],
)
def test_verify_names_the_deleted_or_edited_row(db, now, tamper, expected):
    for i in range(5):
        append_now(
            db.engine,
            Entry(
                at=now + timedelta(minutes=i),
                role="office",
                actor="办公室",
                door="cli",
                action="unit.add",
                target=f"单位{i}",
            ),
        )
    with db.engine.connect() as conn:
        assert verify(conn).ok
    with db.engine.begin() as conn:
        conn.execute(sa.text(tamper))
    with db.engine.connect() as conn:
        assert verify(conn).problems == expected


def test_a_rewritten_row_with_a_fresh_hash_breaks_the_next_link(db, now):
    from workflow.audit.chain import row_hash

    for i in range(3):
        append_now(
            db.engine,
            Entry(
                at=now, role="office", actor="办公室", door="cli", action="export", target=str(i)
            ),
        )
    with db.engine.begin() as conn:
        row = dict(conn.execute(sa.text("SELECT * FROM auditevent WHERE id = 2")).mappings().one())
        row["at"] = now
        row["actor"] = "别人"
        conn.execute(
            sa.text("UPDATE auditevent SET actor = '别人', row_hash = :h WHERE id = 2"),
            {"h": row_hash(row["prev_hash"], row)},
        )
    with db.engine.connect() as conn:
        assert verify(conn).problems == [
            "第 3 条记录与前一条的链接不符：第 2 条记录被修改，或第 3 条的链接被改动"
        ]


def test_the_cli_says_which_row_and_exits_non_zero(duban: Cli, office_db):
    duban.ok("unit", "add", "法规处")
    duban.ok("unit", "add", "财政局")
    with office_db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM auditevent WHERE id = 2"))
    result = duban("audit", "verify")
    assert result.exit_code == 12
    assert "第 2 条记录已被删除" in result.stderr


def test_retention_archives_before_it_prunes_and_the_rest_still_verifies(db, now, tmp_path):
    old = now - timedelta(days=200)
    for i in range(3):
        append_now(
            db.engine,
            Entry(
                at=old + timedelta(hours=i),
                role="office",
                actor="办公室",
                door="cli",
                action="export",
                target=f"旧{i}",
            ),
        )
    for i in range(2):
        append_now(
            db.engine,
            Entry(
                at=now - timedelta(days=10),
                role="office",
                actor="办公室",
                door="cli",
                action="export",
                target=f"新{i}",
            ),
        )
    settings = AuditSettings(keep_days=180, archive_dir=tmp_path / "archive")
    actor = Entry(at=now, role="system", actor="系统", door="daemon", action="audit.prune")
    with db.engine.begin() as conn:
        result = prune(conn, settings, now, actor)
    assert result["pruned"] == 3
    archived = [
        json.loads(x) for x in Path(result["file"]).read_text(encoding="utf-8").splitlines()
    ]
    assert [r["target"] for r in archived] == ["旧0", "旧1", "旧2"]
    with db.engine.connect() as conn:
        targets = conn.execute(sa.text("SELECT id, target FROM auditevent ORDER BY id")).all()
        verdict = verify(conn)
    assert [tuple(t) for t in targets] == [(4, "新0"), (5, "新1"), (6, None)]
    assert verdict.ok and verdict.checked == 3
    append_now(db.engine, Entry(at=now, role="office", actor="办公室", door="cli", action="export"))
    with db.engine.connect() as conn:
        assert verify(conn).ok
    with db.engine.begin() as conn:  # nothing old left: nothing to do
        assert prune(conn, settings, now, actor)["pruned"] == 0


@pytest.mark.parametrize("keep", [179, 0, "long", True])
def test_keep_days_below_six_months_is_refused(tmp_path, keep):
    (tmp_path / "duban.toml").write_text(
        f"[audit]\nkeep_days = {json.dumps(keep)}\n", encoding="utf-8"
    )
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="不少于 180"):
        audit_settings(config)


_WRITER = """
import sys
from datetime import datetime, timedelta
from workflow.audit.chain import Entry, append_now
from workflow.storage.db import Database
from workflow.dates.clock import SHANGHAI
db = Database(sys.argv[1])
start = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
for i in range(int(sys.argv[3])):
    append_now(db.engine, Entry(at=start + timedelta(seconds=i), role="office", actor=sys.argv[2], door="cli", action="export", target=str(i)))
"""


def test_concurrent_writers_in_real_processes_keep_the_chain_valid(db):
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, db.url, f"写入者{n}", "40"], cwd=ROOT)
        for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    with db.engine.connect() as conn:
        verdict = verify(conn)
        actors = conn.execute(
            sa.text("SELECT actor, count(*) FROM auditevent GROUP BY actor")
        ).all()
    assert verdict.ok, verdict.problems
    assert verdict.checked == 120
    assert sorted(tuple(a) for a in actors) == [("写入者0", 40), ("写入者1", 40), ("写入者2", 40)]


def test_the_auditors_page_filters_and_shows_the_verdict(cli_env):
    from fastapi.testclient import TestClient

    from workflow.web.app import create_app

    Cli(cli_env).ok("unit", "add", "法规处")
    app = create_app(load_config(cli_env), env=lambda: cli_env)
    with TestClient(app) as client:
        page = client.get("/login")
        csrf = client.cookies.get("duban_login_csrf")
        assert page.status_code == 200
        bad = client.post("/login", data={"token": "dbn_wrong", "csrf_token": csrf})
        assert bad.status_code == 401
        csrf = client.cookies.get("duban_login_csrf")
        ok = client.post(
            "/login",
            data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf},
            follow_redirects=False,
        )
        assert ok.status_code == 303
        page = client.get("/office/audit", params={"action": "signin"})
        assert page.status_code == 200
        assert "日志链完整" in page.text
        assert page.text.count('<td data-label="操作">登录</td>') == 2
        assert "新增单位" not in page.text.split("<tbody>")[1]
    app.state.duban.db.engine.dispose()
    rows = Cli(cli_env).json("audit", "list", "--action", "signin")
    assert [(r["door"], r["outcome"]) for r in rows] == [("page", "ok"), ("page", "failed")]


def test_a_throttled_address_is_recorded_as_a_lockout(cli_env):
    from fastapi.testclient import TestClient

    from workflow.web.app import create_app

    app = create_app(load_config(cli_env), env=lambda: cli_env)
    app.state.duban.throttle.block_after = 2
    app.state.duban.throttle.slow_after = 100
    with TestClient(app) as client:
        for _ in range(2):
            wrong = client.get("/api/v1/units", headers={"Authorization": "Bearer dbn_wrong"})
            assert wrong.status_code == 401
        blocked = client.get(
            "/api/v1/units", headers={"Authorization": f"Bearer {cli_env['DUBAN_TOKEN']}"}
        )
        assert blocked.status_code == 429
    app.state.duban.db.engine.dispose()
    rows = Cli(cli_env).json("audit", "list", "--action", "signin")
    assert [(r["door"], r["outcome"], r["address"]) for r in reversed(rows)] == [
        ("api", "denied", "testclient"),
        ("api", "denied", "testclient"),
        ("api", "throttled", "testclient"),
    ]


def test_a_unit_on_the_auditors_page_is_refused_and_recorded(cli_env):
    from fastapi.testclient import TestClient

    from workflow.web.app import create_app

    cli = Cli(cli_env)
    cli.ok("unit", "add", "法规处")
    unit = cli.json("token", "issue", "法规处")["token"]
    app = create_app(load_config(cli_env), env=lambda: cli_env)
    with TestClient(app) as client:
        client.get("/login")
        client.post(
            "/login", data={"token": unit, "csrf_token": client.cookies.get("duban_login_csrf")}
        )
        page = client.get("/office/audit")
        assert page.status_code == 403 and "无权查看审计日志" in page.text
    app.state.duban.db.engine.dispose()
    denied = cli.json("audit", "list", "--outcome", "denied")
    assert [(r["actor"], r["action"], r["door"]) for r in denied] == [
        ("法规处", "audit.read", "page")
    ]


def test_migration_0016_downgrades_and_upgrades_again(db, now):
    from alembic import command

    append_now(db.engine, Entry(at=now, role="office", actor="办公室", door="cli", action="export"))
    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    with db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert not tables & {"auditevent", "auditseal", "heartbeat"}
    db.upgrade()
    with db.engine.connect() as conn:
        assert verify(conn).ok and verify(conn).checked == 0  # a fresh, empty chain
    append_now(db.engine, Entry(at=now, role="office", actor="办公室", door="cli", action="export"))
    with db.engine.connect() as conn:
        assert verify(conn).checked == 1

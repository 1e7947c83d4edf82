"""The read path (``workflow/storage/reading.py``): one SQL text, on sqlite3 directly or through the
engine, with the same rows either way; a database that is not ready goes the long way round and
is named in Chinese."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.test_client_mode import BLOCKER
from workflow.directory.callers import authenticate_connection, authenticate_reader
from workflow.errors import DatabaseError, NotAuthenticated
from workflow.storage.reading import CoreReader, SqliteReader, open_reader, sqlite_file
from workflow.tasks.listing import TaskFilter, list_assignment_rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def office_world(duban_local, office_db):
    """Two units, three tasks, one report: rows in every state the listing distinguishes."""
    cli = duban_local
    cli.ok("unit", "add", "法规处", "--email", "fg@example.org", "--alias", "法规科")
    cli.ok("unit", "add", "审批处")
    cli.ok("task", "add", "修订指南", "--unit", "法规处", "--unit", "审批处", "--due", "2026-03-10")
    cli.ok("task", "add", "更新专栏", "--unit", "审批处", "--due", "2026-04-20")
    cli.ok("task", "add", "年度报告", "--lead", "法规处", "--due", "2026-12-31")
    rows = cli.json("task", "list")
    unit_token = cli.json("token", "issue", "法规处")["token"]
    cli.ok("task", "report", rows[-1]["id"], "--text", "已上网公开", token=unit_token)
    return cli


@pytest.fixture
def duban_local(cli_env):
    from tests.conftest import Cli

    return Cli(cli_env)


FILTERS = [
    TaskFilter(),
    TaskFilter(overdue=True),
    TaskFilter(state="overdue"),
    TaskFilter(state="已分派"),
    TaskFilter(state="reported"),
    TaskFilter(unit="法规处"),
    TaskFilter(unit="法规科"),  # an alias: the directory's full resolution
    TaskFilter(due_before=date(2026, 4, 30), due_after=date(2026, 3, 10)),
    TaskFilter(plan_id=1),
    TaskFilter(plan_id=99),
]


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
@pytest.mark.parametrize("today", [date(2026, 3, 2), date(2026, 3, 11), date(2027, 1, 4)])
def test_sqlite3_and_the_engine_list_the_same_rows(office_world, office_db, flt, today):
    office_world.env["DUBAN_NOW"] = f"{today}T09:00"  # the command's today
    with office_db.engine.connect() as conn:
        office = authenticate_connection(conn, office_world.env["DUBAN_TOKEN"])
        through_engine = list_assignment_rows(CoreReader(conn), office, flt, today)
    path = sqlite_file(office_db.url)
    if path is None:  # PostgreSQL: only the engine's path exists
        assert through_engine == office_world.json("task", "list", *_args(flt))
        return
    with sqlite3.connect(path) as con:
        direct = list_assignment_rows(SqliteReader(con, office_db.url), office, flt, today)
    assert direct == through_engine
    assert direct == office_world.json("task", "list", *_args(flt))


def _args(flt: TaskFilter) -> list[str]:
    """The command-line options of ``flt``."""
    args = []
    for name, value in vars(flt).items():
        option = "--" + name.replace("_", "-").replace("plan-id", "plan")
        if value is True:
            args.append(option)
        elif value not in (None, False):
            args += [option, str(value)]
    return args


def test_tokens_are_checked_the_same_on_both_paths(office_world, office_db):
    token = office_world.env["DUBAN_TOKEN"]
    with open_reader(office_db.url) as reader:
        assert authenticate_reader(reader, token).role == "office"
        for bad, words in [(None, "未提供令牌"), ("", "未提供令牌"), ("x" * 40, "令牌无效")]:
            with pytest.raises(NotAuthenticated, match=words):
                authenticate_reader(reader, bad)
    unit_token = office_world.json("token", "issue", "审批处")["token"]
    office_world.ok("token", "revoke", str(_token_id(office_world, "审批处")))
    with open_reader(office_db.url) as reader, pytest.raises(NotAuthenticated, match="已吊销"):
        authenticate_reader(reader, unit_token)


def _token_id(cli, label: str) -> int:
    return next(t["id"] for t in cli.json("token", "list") if t["holder"] == label)


@pytest.mark.parametrize(
    "damage, words",
    [
        ("missing", "尚未初始化"),
        ("empty", "尚未初始化"),
        ("behind", "落后于程序"),
    ],
)
def test_a_database_not_ready_is_named_and_left_as_it_was(tmp_path, damage, words):
    path = tmp_path / "duban.db"
    if damage != "missing":
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE notes (x TEXT)")
            if damage == "behind":
                con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
                con.execute("INSERT INTO alembic_version VALUES ('0003')")
    before = _contents(path)
    with pytest.raises(DatabaseError, match=words), open_reader(f"sqlite:///{path}"):
        pass
    assert _contents(path) == before


def _contents(path: Path) -> list[tuple]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as con:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master ORDER BY name")]
        return [(t, con.execute(f"SELECT * FROM {t}").fetchall()) for t in tables]


def test_a_sqlite_failure_mid_read_is_a_chinese_database_error(tmp_path):
    con = sqlite3.connect(tmp_path / "x.db")
    with pytest.raises(DatabaseError, match="读取数据库失败：数据库出错（系统原文：no such table"):
        SqliteReader(con, "sqlite:///x").rows("SELECT * FROM nowhere")


@pytest.mark.parametrize(
    "url, is_file",
    [
        ("sqlite:////srv/duban/duban.db", True),
        ("sqlite:///relative.db", True),
        ("sqlite:///:memory:", False),
        ("sqlite://", False),
        ("sqlite:///file:x.db?mode=ro&uri=true", False),
        ("sqlite:///x.db?timeout=5", False),
        ("postgresql+psycopg://postgres@127.0.0.1/test", False),
    ],
)
def test_only_a_plain_sqlite_file_takes_the_direct_path(url, is_file):
    assert (sqlite_file(url) is not None) == is_file


def test_listing_on_sqlite_never_imports_sqlalchemy(tmp_path):
    """The whole process: ``duban task list`` on the embedded database, SQLAlchemy blocked."""
    from tests.conftest import Cli

    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
        "DUBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'duban.db'}",
        "DUBAN_SERVER": "",
        "DUBAN_NOW": "2026-03-02T09:00",
    }
    office = Cli({**env, "DUBAN_TOKEN": ""})
    env["DUBAN_TOKEN"] = office.json("init")["token"]
    office = Cli(env)
    office.ok("unit", "add", "法规处")
    office.ok("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-03-10")
    blocked = dict(env, PATH="/usr/bin:/bin", HOME=str(tmp_path))
    out = {}
    for args in (["task", "list", "--json"], ["task", "list"]):
        run = subprocess.run(
            [sys.executable, "-c", BLOCKER, *args],
            capture_output=True, text=True, cwd=ROOT, env=blocked, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert run.stdout == office.ok(*args).stdout
        out[args[-1]] = run.stdout
    assert [r["title"] for r in json.loads(out["--json"])] == ["修订指南"]
    assert "修订指南" in out["list"]

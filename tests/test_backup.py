"""``duban backup`` / ``restore``: an online backup while a check and a delivery run in other
processes, restored into a fresh place, holds the same rows; a restore checks the file and
refuses to overwrite a live database without ``--force``. SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from check_helpers import bulk_office
from conftest import PG_URL, Cli

from workflow.audit.chain import verify
from workflow.directory.tokens import create_office_token
from workflow.storage.db import Database
from workflow.storage.schema import SCHEMA_HEAD

ROOT = Path(__file__).resolve().parent.parent
TABLES = (
    "unit",
    "person",
    "task",
    "assignment",
    "history",
    "notification",
    "chasecover",
    "auditevent",
    "auditseal",
    "token",
)


@contextmanager
def fresh_place(tmp: Path, like: str) -> Iterator[str]:
    """An empty place to restore into: a new SQLite file, or a new PostgreSQL database (the
    dump recreates its schema there; the URL keeps the source's search_path)."""
    if not like.startswith("postgresql"):
        yield f"sqlite:///{tmp / f'restored-{uuid.uuid4().hex[:6]}.db'}"
        return
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(like).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rows_of(url: str) -> dict[str, list[tuple]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return {
                t: sorted(tuple(map(str, r)) for r in conn.execute(sa.text(f"SELECT * FROM {t}")))
                for t in TABLES
            }
    finally:
        db.engine.dispose()


def _env(tmp: Path, url: str, token: str = "") -> dict[str, str]:
    return {
        **os.environ,
        "DUBAN_CONFIG_DIR": str(tmp / "config"),
        "DUBAN_DATA_DIR": str(tmp / "data"),
        "DUBAN_DATABASE_URL": url,
        "DUBAN_TOKEN": token,
        "DUBAN_SERVER": "",
        "DUBAN_NOW": "2026-06-12T09:00",
        "DUBAN_NOTIFY_DELIVERY": "file",
    }


def _duban(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_BACKUPS = """
import sys
from pathlib import Path
from workflow.operations.desk import take_backup
folder, stop = Path(sys.argv[1]), Path(sys.argv[2])
n = 0
while not stop.exists() or n < 2:
    take_backup(str(folder / f"b{n:03d}.bak"))
    n += 1
"""


def test_online_backup_during_check_and_delivery_restores_the_same_rows(db, tmp_path):
    due = date(2026, 5, 4)
    bulk_office(db, [[due - timedelta(days=j) for j in range(3)] for _ in range(600)])
    with db.session() as session:
        token = create_office_token(session, _now())
    env = _env(tmp_path, db.url, token)
    folder, stop = tmp_path / "backups", tmp_path / "stop"
    folder.mkdir()
    backups = subprocess.Popen(
        [sys.executable, "-c", _BACKUPS, str(folder), str(stop)], cwd=ROOT, env=env
    )
    check = _duban(env, "check")
    assert check.wait(timeout=300) == 0, check.stderr.read()
    send = _duban(env, "notify", "send")
    assert send.wait(timeout=300) == 0, send.stderr.read()
    stop.touch()
    assert backups.wait(timeout=300) == 0
    taken = sorted(folder.iterdir())
    assert len(taken) >= 2
    full = rows_of(db.url)
    assert len(full["notification"]) > 600 and len(full["chasecover"]) == 1800
    for file in (taken[0], taken[len(taken) // 2], taken[-1]):
        with fresh_place(tmp_path, db.url) as url:
            Cli(_env(tmp_path, url)).ok("restore", str(file))
            got = rows_of(url)
            restored = Database(url)
            with restored.engine.connect() as conn:
                assert verify(conn).ok  # the audit chain came over whole
            restored.engine.dispose()
            # consistent: the check's transaction is all there or not at all
            assert len(got["chasecover"]) in (0, 1800)
            assert {r[0] for r in got["notification"]} <= {r[0] for r in full["notification"]}
    # a backup taken when everything is done holds every row, exactly
    last = tmp_path / "quiet.bak"
    Cli(_env(tmp_path, db.url)).ok("backup", str(last))
    with fresh_place(tmp_path, db.url) as url:
        Cli(_env(tmp_path, url)).ok("restore", str(last))
        got = rows_of(url)
    before = rows_of(db.url)
    assert {t: got[t] for t in TABLES if t not in ("auditevent", "auditseal")} == {
        t: before[t] for t in TABLES if t not in ("auditevent", "auditseal")
    }

    # the audit rows too, but for the backup's own row (written after its snapshot) and the
    # restore's row (written into the restored database)
    def strip(rows):
        return {r for r in rows if r[10] != "quiet.bak"}

    assert strip(got["auditevent"]) == strip(before["auditevent"])
    assert [r[9] for r in got["auditevent"] if r[10] == "quiet.bak"] == ["restore"]


def _now():
    from datetime import datetime

    from workflow.dates.clock import SHANGHAI

    return datetime(2026, 6, 12, 9, 0, tzinfo=SHANGHAI)


def test_restore_checks_the_file_and_refuses_a_live_database(cli_env, tmp_path):
    cli = Cli(cli_env)
    cli.ok("unit", "add", "法规处")
    file = tmp_path / "b.bak"
    out = cli.json("backup", str(file))
    assert out["schema_version"] == SCHEMA_HEAD and Path(out["file"]).stat().st_mode & 0o077 == 0
    again = cli("backup", str(file))
    assert again.exit_code == 5 and "备份文件已存在" in again.stderr
    cli.ok("unit", "add", "财政局")
    live = cli("restore", str(file))
    assert live.exit_code == 5 and "--force" in live.stderr
    assert [u["name"] for u in cli.json("unit", "list")] == ["法规处", "财政局"]
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"not a backup at all")
    bad = cli("restore", str(junk), "--force")
    assert bad.exit_code == 2 and "不是 duban 的备份文件" in bad.stderr
    missing = cli("restore", str(tmp_path / "nope.bak"))
    assert missing.exit_code == 2 and "文件不存在" in missing.stderr
    cli.ok("restore", str(file), "--force")
    assert [u["name"] for u in cli.json("unit", "list")] == ["法规处"]
    actions = [r["action"] for r in cli.json("audit", "list")]
    assert actions[0] == "restore"
    assert cli.json("audit", "verify")["ok"]


@pytest.mark.skipif(not PG_URL, reason="pg_dump: PostgreSQL only")
def test_pg_dump_gets_the_password_from_the_environment_never_argv(tmp_path):
    from workflow.config import load_config
    from workflow.operations.backup import pg_env

    db = Database(
        "postgresql+psycopg://duban:s3cret@db.example:5433/office?options=-csearch_path%3Dx"
    )
    env = pg_env(db)
    assert (env["PGPASSWORD"], env["PGHOST"], env["PGPORT"], env["PGDATABASE"]) == (
        "s3cret",
        "db.example",
        "5433",
        "office",
    )
    assert env["PGOPTIONS"] == "-csearch_path=x"
    db.engine.dispose()
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_DATA_DIR": str(tmp_path)})
    from workflow.operations.backup import pg_tool

    assert pg_tool(config, "pg_dump").endswith("pg_dump")


def test_a_missing_pg_dump_is_named_clearly(tmp_path):
    from workflow.config import load_config
    from workflow.errors import ConfigError
    from workflow.operations.backup import pg_tool

    (tmp_path / "duban.toml").write_text(
        '[backup]\npg_dump = "/nowhere/pg_dump"\n', encoding="utf-8"
    )
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="/nowhere/pg_dump 不存在"):
        pg_tool(config, "pg_dump")

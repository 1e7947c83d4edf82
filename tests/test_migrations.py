"""Schema changes ship as alembic migrations; an old, populated database upgrades in place."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from conftest import Cli

from workflow.storage.db import Database


def _populate_at_0001(url: str) -> None:
    db = Database(url)
    db.upgrade("0001")
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO unit (id, name, aliases, groups, emails, active) VALUES (1, '法规处', '[]', '[]', '[]', :t)"
            ),
            {"t": True},
        )
        conn.execute(
            sa.text(
                "INSERT INTO task (id, kind, section_path, title, lead_units, responsible_units, cooperating_units) VALUES (1, 'manual', '[]', '修订指南', '[]', '[]', '[]')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO assignment (id, task_id, unit_id, role, period, state, due, original_due, due_provisional, late, returned_count, version, created_at)"
                " VALUES (1, 1, 1, 'responsible', '', 'reported', :d, :d, :f, :f, 0, 1, :now)"
            ),
            {"d": date(2026, 3, 31), "f": False, "now": now},
        )
    db.engine.dispose()


def test_upgrade_keeps_data(database_url):
    _populate_at_0001(database_url)
    db = Database(database_url)
    assert db.current_revision() == "0001"
    before, after = db.upgrade()
    assert (before, after) == ("0001", db.head_revision())
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM unit")).scalar_one() == "法规处"
        assert (
            conn.execute(sa.text("SELECT state FROM assignment WHERE id = 1")).scalar_one()
            == "reported"
        )
        tables = set(sa.inspect(conn).get_table_names())
    assert {"notification", "extensionrequest", "waiver"} <= tables
    db.engine.dispose()


def test_db_upgrade_command_on_an_old_database(database_url, tmp_path):
    _populate_at_0001(database_url)
    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "c"),
        "DUBAN_DATA_DIR": str(tmp_path / "d"),
        "DUBAN_DATABASE_URL": database_url,
        "DUBAN_TOKEN": "",
    }
    cli = Cli(env)
    stale = cli("task", "list")
    assert stale.exit_code == 11 and "duban db upgrade" in stale.stderr
    out = cli.json("db", "upgrade")
    assert out["from"] == "0001" and out["to"] == Database(database_url).head_revision()
    assert "已是最新版本" in cli.ok("db", "upgrade").stdout
    token = cli.json("init")["token"]  # the old database had no office yet
    rows = cli.json("task", "list", token=token)
    assert [(r["title"], r["state"], r["due"]) for r in rows] == [
        ("修订指南", "reported", "2026-03-31")
    ]


def test_models_match_migrations(db):
    """Autogenerate finds nothing to do: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import workflow.storage.models  # noqa: F401

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda o, n, t, r, c: (
                    not (t == "table" and n.startswith("apscheduler"))
                ),
                "compare_type": False,
            },
        )
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def test_schema_head_constant_is_alembics_head(db):
    from workflow.storage.db import SCHEMA_HEAD

    assert db.head_revision() == SCHEMA_HEAD == db.current_revision()

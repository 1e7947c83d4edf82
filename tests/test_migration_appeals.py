"""Migration 0014 (appeals, bonus points, frozen evaluations) goes down and up again."""

from __future__ import annotations

import sqlalchemy as sa

from workflow.storage.schema import SCHEMA_HEAD

TABLES = {"appeal", "bonus", "frozenevaluation"}


def _tables(db) -> set[str]:
    with db.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_0014_down_and_up(db):
    from alembic import command

    assert _tables(db) >= TABLES
    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    assert db.current_revision() == "0012" and not TABLES & _tables(db)
    db.upgrade()
    assert db.current_revision() == SCHEMA_HEAD and _tables(db) >= TABLES

"""Secrets (issue 12, item 9): the SQLite database and its directory are private to their owner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from workflow.storage.db import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
def test_init_creates_the_database_0600_in_a_0700_directory(tmp_path, umask):
    data = tmp_path / "new" / "data"
    old = os.umask(umask)
    try:
        env = {
            "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
            "DUBAN_DATA_DIR": str(data),
            "DUBAN_DATABASE_URL": "",
            "DUBAN_NOW": "2026-03-02T09:00",
        }
        result = CliRunner().invoke(cli, ["init", "--json"], env=env, catch_exceptions=False)
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    db_file = data / "duban.db"
    assert _mode(db_file) == 0o600
    assert _mode(data) == 0o700
    for extra in (data / "duban.db-wal", data / "duban.db-shm"):  # SQLite copies the mode
        if extra.exists():
            assert _mode(extra) & 0o077 == 0, extra


def test_an_existing_directory_and_file_are_left_as_they_are(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    db = Database(f"sqlite:///{shared / 'office.db'}")
    db.upgrade()
    db.engine.dispose()
    assert _mode(shared) == 0o755  # not ours to tighten
    assert _mode(shared / "office.db") == 0o600  # but the file duban created is private

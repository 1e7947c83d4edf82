"""Exported files are written atomically and get the user's normal permissions."""

from __future__ import annotations

import os

import pytest

from workflow.errors import InvalidInput
from workflow.writing.files import atomic_write


def test_written_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "台账.xlsx", lambda p: p.write_bytes(b"data"))
    finally:
        os.umask(old)
    target = tmp_path / "台账.xlsx"
    assert target.read_bytes() == b"data"
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["台账.xlsx"]


def test_a_failed_write_leaves_nothing(tmp_path):
    def boom(p):
        p.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(InvalidInput, match="无法写入"):
        atomic_write(tmp_path / "考核.xlsx", boom)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="目录"):
        atomic_write(tmp_path / "nope" / "x.xlsx", lambda p: p.write_bytes(b""))

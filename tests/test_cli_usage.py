"""Mistyped commands get one Chinese line and exit code 2; a dead database gets exit code 11."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import Cli


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["task", "show", "abc"],
            "ASSIGNMENT_ID 的值“abc”不是有效的整数（用 duban task show --help 查看用法）",
        ),
        (["task", "show"], "缺少参数 ASSIGNMENT_ID"),
        (["task", "nosuch"], "没有“nosuch”这个命令"),
        (["task", "lst"], "是否想用 duban task list"),
        (["tsak", "list"], "没有“tsak”这个命令，是否想用 duban task"),
        (["task", "list", "--bogus"], "没有 --bogus 这个选项"),
        (["task", "add", "修订指南", "--unit", "法规处"], "缺少选项 --due"),
        (["notify", "list", "--state", "xx"], "--state 的值“xx”无效"),
        (["nosuch"], "没有“nosuch”这个命令（用 duban --help 查看用法）"),
        (["--bogus"], "没有 --bogus 这个选项"),
        (["task", "start", "1", "2"], "多余的参数"),
    ],
)
def test_usage_errors_are_one_chinese_line(duban, args, words):
    result = duban(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and words in lines[0], result.stderr
    assert "Usage:" not in result.output and "Traceback" not in result.output


def test_unreachable_database_is_a_clear_error(tmp_path):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    cli = Cli(
        {
            "DUBAN_CONFIG_DIR": str(tmp_path / "c"),
            "DUBAN_DATA_DIR": str(tmp_path / "d"),
            "DUBAN_DATABASE_URL": url,
            "DUBAN_TOKEN": "x",
        }
    )
    result = cli("task", "list")
    assert result.exit_code == 11
    assert (
        result.stderr.startswith("错误：无法连接数据库")
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_a_database_dying_mid_command_is_not_a_traceback():
    from cli.main import _database_down, _first_line

    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    with pytest.raises(sa.exc.OperationalError) as info:
        engine.connect()
    assert _database_down(info.value)
    assert "127.0.0.1" in _first_line(info.value) or "connect" in _first_line(info.value).lower()
    assert not _database_down(ValueError("a bug"))

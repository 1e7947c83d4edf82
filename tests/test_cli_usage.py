"""Mistyped commands get one Chinese line and exit code 2; a dead database gets exit code 11."""

from __future__ import annotations

import re
from pathlib import Path

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
    assert "：连接被拒绝，数据库服务器没有在该端口监听" in result.stderr  # Chinese first
    assert "（系统原文：" in result.stderr  # the driver's words, labelled


def test_a_database_dying_mid_command_is_not_a_traceback():
    from cli.main import _database_down, _first_line

    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    with pytest.raises(sa.exc.OperationalError) as info:
        engine.connect()
    assert _database_down(info.value)
    reason = _first_line(info.value)
    assert reason.startswith("连接被拒绝") and "（系统原文：" in reason and "127.0.0.1" in reason
    assert not _database_down(ValueError("a bug"))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["task", "add", "--due"], "选项 --due 需要一个值（用 duban task add --help 查看用法）"),
        (
            ["task", "list", "--nosuch"],
            "没有 --nosuch 这个选项（用 duban task list --help 查看用法）",
        ),
        (["task", "add"], "缺少参数 TITLE（用 duban task add --help 查看用法）"),
    ],
)
def test_click_usage_errors_name_the_command_in_chinese(duban, args, words):
    result = duban(*args)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"错误：{words}"
    assert "Usage" not in result.output + result.stderr and "Error:" not in result.stderr


def test_help_headings_are_chinese(duban):
    text = duban.ok("task", "add", "--help").stdout
    assert text.startswith("用法：duban task add [选项] TITLE")
    assert "选项：" in text and "显示本帮助并退出。" in text and "[必填]" in text
    for english in ("Usage:", "Options:", "Show this message", "[required]"):
        assert english not in text


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[office]\nname = 江门\n".encode(), "格式错误，第 2 行第 8 列：值无效（字符串要加引号"),
        (b"[smtp]\nport = 25\nport = 26\n", "格式错误，第 3 行第 10 列：同一个键或表出现了两次"),
        (b"[office\n", "格式错误，第 1 行第 8 列：表名缺少结尾的 ]"),
        (b'[database]\nurl = "C:\\Users\\duban"\n', "Windows 路径请用单引号"),
        (b"[a]\nb = [1,\n", "格式错误，文件末尾："),
        ('[office]\nname = "江门"\n'.encode("gbk"), "编码错误，第 2 行不是 UTF-8 编码"),
    ],
)
def test_a_broken_duban_toml_is_one_chinese_line_with_its_line(duban, content, words):
    path = Path(duban.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    result = duban("task", "list")
    assert result.exit_code == 7, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"错误：配置文件 {path} ") and words in line, line
    assert not re.search(r"[A-Za-z]{4,}", line.replace(str(path), "").split("（")[0]), line


def test_a_duban_toml_saved_with_a_byte_order_mark_is_read(duban):
    path = Path(duban.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes('\ufeff[office]\nname = "江门市政务公开办公室"\n'.encode())
    assert duban.ok("task", "list", "--json").stdout.strip() == "[]"

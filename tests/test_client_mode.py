"""The CLI as a client: login to a server, whoami shows it, server-only commands refuse, and a
desk with no database code and no database in reach works (a real subprocess)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli
from live_server import ROOT, ThreadServer


@pytest.fixture
def server(cli_env):
    s = ThreadServer(cli_env)
    yield s
    s.stop()


@pytest.fixture
def desk(tmp_path, cli_env):
    """A desk's environment: its own config dir, no database URL, no token yet."""
    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "desk-config"),
        "DUBAN_DATA_DIR": str(tmp_path / "desk-data"),
        "DUBAN_DATABASE_URL": "",
        "DUBAN_TOKEN": "",
        "DUBAN_NOW": cli_env["DUBAN_NOW"],
    }
    return env


def test_login_with_server_reads_the_token_from_stdin_and_saves_it_0600(server, desk, cli_env):
    cli = Cli({**desk, "DUBAN_SERVER": None})  # unset: the saved server URL decides
    result = cli("login", "--server", server.url + "/", input=cli_env["DUBAN_TOKEN"] + "\n")
    assert result.exit_code == 0, result.output
    assert f"@ {server.url}" in result.stdout and cli_env["DUBAN_TOKEN"] not in result.output
    folder = Path(desk["DUBAN_CONFIG_DIR"])
    for name in ("token", "server"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert (folder / "server").read_text().strip() == server.url
    assert cli.json("whoami") == {"role": "office", "name": "办公室", "server": server.url}
    assert cli.ok("whoami").stdout.strip() == f"办公室（office） @ {server.url}"
    assert "已退出登录" in cli.ok("logout").stdout
    assert not (folder / "token").exists() and not (folder / "server").exists()


def test_login_with_a_wrong_token_saves_nothing(server, desk):
    cli = Cli(desk)
    result = cli("login", "--server", server.url, input="dbn_wrong\n")
    assert result.exit_code == 4 and result.stderr.startswith("错误：令牌无效")
    assert not (Path(desk["DUBAN_CONFIG_DIR"]) / "token").exists()


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["init"], "duban init"),
        (["db", "upgrade"], "duban db upgrade"),
        (["daemon"], "duban daemon"),
        (["serve"], "duban serve"),
        (["demo", "--quiet"], "duban demo"),
    ],
)
def test_server_only_commands_refuse_in_client_mode(server, desk, args, command):
    cli = Cli({**desk, "DUBAN_SERVER": server.url})
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"错误：{command} 只能在服务器本机运行（当前为客户端模式，服务器 {server.url}）"
    ]


def test_an_unreachable_server_is_one_line(desk):
    from live_server import free_port

    cli = Cli({**desk, "DUBAN_SERVER": f"http://127.0.0.1:{free_port()}", "DUBAN_TOKEN": "x"})
    result = cli("task", "list")
    assert result.exit_code == 11
    assert result.stderr.startswith("错误：无法连接督办服务 http://127.0.0.1:")
    assert "：连接被拒绝，该端口没有服务在监听" in result.stderr  # in Chinese (issue 17)
    assert "Errno" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


BLOCKER = """
import sys
BLOCKED = ("sqlalchemy", "sqlmodel", "alembic", "openpyxl")
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked on this desk")
        return None
sys.meta_path.insert(0, Blocker())
from cli.main import cli
try:
    cli(prog_name="duban")
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
"""


def test_a_desk_without_database_code_or_database_works(server, desk, cli_env, tmp_path):
    office = Cli(cli_env)
    office.ok("unit", "add", "法规处")
    office.ok("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-11-30")
    unit_token = office.json("token", "issue", "法规处")["token"]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
        **desk,
        "DUBAN_SERVER": server.url,
        "DUBAN_TOKEN": unit_token,
        "HOME": str(tmp_path / "home"),
    }
    env.pop("DUBAN_DATABASE_URL")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-c", BLOCKER, *args],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
        )  # fmt: skip

    listed = run("task", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["unit"], r["title"]) for r in rows] == [("法规处", "修订指南")]
    table = run("task", "list")
    local = office("task", "list", token=unit_token)
    assert table.returncode == 0 and table.stdout == local.stdout
    reported = run("task", "report", str(rows[0]["id"]), "--text", "已完成")
    assert reported.returncode == 0 and "已报送" in reported.stdout
    refused = run("task", "verify", str(rows[0]["id"]))
    assert refused.returncode == 4 and refused.stderr.startswith("错误：无权")
    assert not (tmp_path / "desk-data").exists()  # no database file was made on the desk

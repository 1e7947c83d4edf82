"""The CLI as a client: login to a server, whoami shows it, server-only commands refuse, and a
desk with no database code and no database in reach works (a real subprocess): every command
prints there what it prints on the server's machine, and robot keys cross only in request
bodies, never in a server's log."""

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


def desk_env(desk, tmp_path, url, token):
    """A desk's process environment: no database URL, its own config dir and home."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
        **desk,
        "DUBAN_SERVER": url,
        "DUBAN_TOKEN": token,
        "HOME": str(tmp_path / "home"),
    }
    env.pop("DUBAN_DATABASE_URL")
    return env


def on_desk(env, *args, input=None):
    """``duban args`` in a real process where database code cannot even be imported."""
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *args],
        capture_output=True, text=True, cwd=ROOT, env=env, input=input, timeout=60,
    )  # fmt: skip


def test_a_desk_without_database_code_or_database_works(server, desk, cli_env, tmp_path):
    office = Cli(cli_env)
    office.ok("unit", "add", "法规处")
    office.ok("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-11-30")
    unit_token = office.json("token", "issue", "法规处")["token"]
    env = desk_env(desk, tmp_path, server.url, unit_token)

    def run(*args):
        return on_desk(env, *args)

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


def office_config(cli_env, tmp_path) -> None:
    """The server's settings: an SMTP server nobody listens on, mail written to files."""
    from live_server import free_port

    folder = Path(cli_env["DUBAN_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "duban.toml").write_text(
        '[office]\nname = "江门市政务公开办公室"\n\n'
        f'[notify]\ndelivery = "file"\ndirectory = "{tmp_path / "outbox"}"\n\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\ntls = "none"\n'
        'from = "办公室 <duban@office.example.cn>"\ntimeout = 5\n',
        encoding="utf-8",
    )


@pytest.fixture
def directory(cli_env, tmp_path):
    """A leader, a unit with a task, the day's notifications queued; the office's Cli."""
    office_config(cli_env, tmp_path)
    office = Cli(cli_env)
    office.ok("leader", "add", "张副主任", "--email", "zhang@office.example.cn")
    office.ok("unit", "add", "公开科（政务公开科）", "--email", "gk@office.example.cn",
              "--leader", "张副主任", "--group", "委机关各科室")  # fmt: skip
    office.ok("task", "add", "政策解读专栏更新", "--unit", "公开科", "--due", "2026-03-05")
    office.ok("check")
    return office


# Office commands whose desk output (stdout, stderr, exit code) must equal the local one.
DESK_COMMANDS = {
    "unit": [
        ["unit", "list"],
        ["unit", "list", "--json"],
        ["unit", "show", "政务公开科"],
        ["unit", "show", "公开科", "--json"],
        ["unit", "show", "财务科"],
    ],
    "leader": [["leader", "list"], ["leader", "list", "--json"]],
    "notify list": [
        ["notify", "list"],
        ["notify", "list", "--json"],
        ["notify", "list", "--state", "failed"],
        ["notify", "retry", "--all-failed"],
        ["notify", "retry", "99"],
        ["notify", "retry"],
    ],
    "notify preview": [
        ["notify", "preview", "reminder", "--task", "1", "--html", "{tmp}/preview.html"],
        ["notify", "preview", "digest", "--task", "1", "--as-of", "2026-03-04", "--json"],
        ["notify", "preview", "reminder", "--task", "1", "--channel", "dingtalk"],
        ["notify", "preview", "overdue", "--task", "1", "--channel", "feishu", "--json"],
        ["notify", "preview", "reminder", "--task", "7"],
    ],
    "mail": [
        ["mail", "settings"],
        ["mail", "settings", "--json"],
        ["mail", "test", "admin@office.example.cn"],
        ["mail", "test", "not-an-address"],
    ],
    "test-robot": [["notify", "test-robot", "公开科"], ["notify", "test-robot", "张副主任"]],
}


@pytest.mark.parametrize("family", list(DESK_COMMANDS))
def test_office_commands_on_a_desk_print_what_they_print_locally(
    family, server, desk, cli_env, directory, tmp_path
):
    env = desk_env(desk, tmp_path, server.url, cli_env["DUBAN_TOKEN"])
    for args in DESK_COMMANDS[family]:
        args = [a.replace("{tmp}", str(tmp_path)) for a in args]
        local = directory(*args)
        remote = on_desk(env, *args)
        assert "Traceback" not in remote.stderr, remote.stderr
        assert (remote.returncode, remote.stdout, remote.stderr) == (
            local.exit_code,
            local.stdout,
            local.stderr,
        ), args
    assert not (tmp_path / "desk-data").exists()  # no database file was made on the desk
    assert not (tmp_path / "desk-config" / "duban.db").exists()


WECOM_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
DING_SECRET = "SECd0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"


def test_a_desk_edits_the_directory_and_sends_robot_keys_only_in_request_bodies(
    desk, cli_env, directory, tmp_path
):
    """Against a real ``duban serve`` (its access log on): the desk adds and edits units and
    leaders, sets robots with keys read from stdin, sends the outbox; the keys are nowhere in
    the desk's output or the server's log, and the server's database has what the desk did."""
    from live_server import serve

    log = tmp_path / "serve.log"
    with serve(cli_env, log) as url:
        env = desk_env(desk, tmp_path, url, cli_env["DUBAN_TOKEN"])

        def ok(*args, input=None):
            result = on_desk(env, *args, input=input)
            assert result.returncode == 0, (args, result.stderr)
            return result

        outputs = [
            ok("unit", "add", "法规科", "--alias", "法规处", "--email", "fg@office.example.cn"),
            ok("leader", "add", "李主任", "--title", "主任", "--principal", "--json"),
            ok(
                "unit",
                "edit",
                "法规科",
                "--robot",
                "dingtalk",
                "--robot-secret",
                "--robot-mention",
                "13800138000",
                "--add-group",
                "委机关各科室",
                input=f"{DING_TOKEN}\n{DING_SECRET}\n",
            ),  # fmt: skip
            ok(
                "leader",
                "edit",
                "李主任",
                "--email",
                "li@office.example.cn",
                "--robot",
                "wecom",
                input=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}\n",
            ),  # fmt: skip
            ok("unit", "edit", "公开科", "--rename", "政务公开科", "--json"),
            ok("notify", "send"),
        ]
        assert outputs[0].stdout == "已新增单位 #2：法规科\n"
        assert json.loads(outputs[1].stdout)["principal"] is True
        assert outputs[2].stdout.splitlines() == [
            "已更新单位：法规科",
            "群机器人：钉钉（已设置，已加签，@13800138000）",
        ]
        assert outputs[3].stdout.splitlines() == [
            "已更新领导：李主任",
            "群机器人：企业微信（已设置）",
        ]
        assert json.loads(outputs[4].stdout)["name"] == "政务公开科"
        assert "已发送 1 封" in outputs[5].stdout

        refused = [
            on_desk(env, "unit", "edit", "法规科", "--robot", "wecom", input=""),
            on_desk(env, "unit", "edit", "法规科", "--robot", "feishu", input="bad key/x\n"),
            on_desk(env, "leader", "edit", "王五", "--title", "副主任"),
        ]
        assert [r.returncode for r in refused] == [2, 2, 3]
        assert all(r.stderr.startswith("错误：") for r in refused)
        assert "没有从标准输入读到" in refused[0].stderr and "非法字符" in refused[1].stderr

    text = log.read_text(encoding="utf-8", errors="replace")
    assert "PATCH /api/v1/units/" in text  # the access log was on
    for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET):
        assert secret not in text
        assert all(secret not in r.stdout + r.stderr for r in outputs + refused)
    office = directory
    unit = office.json("unit", "show", "法规处")
    assert unit["groups"] == ["委机关各科室"] and unit["aliases"] == ["法规处"]
    assert [(r["kind"], r["secret"], r["mention_mobiles"]) for r in unit["robots"]] == [
        ("dingtalk", "已设置", ["13800138000"])
    ]
    [li] = [p for p in office.json("leader", "list") if p["name"] == "李主任"]
    assert li["email"] == "li@office.example.cn" and [r["kind"] for r in li["robots"]] == ["wecom"]
    assert {r["state"] for r in office.json("notify", "list")} == {"sent"}
    assert not (tmp_path / "desk-data").exists()

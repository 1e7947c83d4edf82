"""``duban account …`` and ``duban login --account`` through the real CLI, on the database and
as a client of a real server (the ``duban`` fixture runs each test both ways)."""

from __future__ import annotations

import pytest
from dbsnap import snapshot


@pytest.fixture
def clerk(duban):
    duban.ok("unit", "add", "法规处", "--email", "fagui@example.org")
    return duban.json(
        "account", "add", "张三", "--role", "unit", "--unit", "法规处", "--email", "z@example.org"
    )


def _password_login(duban, name: str, password: str):
    env = {**duban.env, "DUBAN_PASSWORD": password, "DUBAN_TOKEN": ""}
    from click.testing import CliRunner

    from cli.main import cli

    return CliRunner().invoke(cli, ["login", "--account", name], env=env, catch_exceptions=False)


def test_add_prints_the_initial_password_once(duban, clerk):
    assert set(clerk) == {"id", "name", "password"} and clerk["name"] == "张三"
    assert len(clerk["password"]) >= 12
    rows = duban.json("account", "list")
    assert [(r["name"], r["roles"], r["unit"]) for r in rows] == [("张三", ["unit"], "法规处")]
    assert "password" not in rows[0] and rows[0]["must_change_password"]
    shown = duban.json("account", "show", "张三")
    assert shown["email"] == "z@example.org" and shown["tokens"] == []
    text = duban.ok("account", "add", "李四", "--role", "office,security").stdout
    assert "初始密码（只显示这一次" in text


def test_edit_lock_unlock_reset_remove(duban, clerk):
    edited = duban.json("account", "edit", "张三", "--mobile", "13800000000", "--email", "")
    assert edited["mobile"] == "13800000000" and edited["email"] is None
    assert duban.json("account", "lock", "张三")["locked"]
    assert "已锁定" in duban.ok("account", "list").stdout
    assert not duban.json("account", "unlock", "张三")["locked"]
    reset = duban.json("account", "reset-password", "张三")
    assert reset["password"] != clerk["password"]
    assert duban.json("account", "remove", "张三") == {"id": 1, "name": "张三", "removed": True}
    assert duban.json("account", "list") == []


@pytest.mark.parametrize(
    ("args", "words", "code"),
    [
        (("account", "add", "王五", "--role", "boss"), "角色无效", 2),
        (("account", "add", "王五", "--role", "unit"), "须指定所属单位", 2),
        (("account", "add", "王五", "--role", "unit", "--unit", "无此处"), "无此处", 3),
        (("account", "show", "无此人"), "账号不存在：无此人", 3),
        (("account", "add", "张三", "--role", "office"), "账号已存在：张三", 5),
    ],
)
def test_bad_input_is_one_chinese_line_and_changes_nothing(duban, clerk, args, words, code):
    before = snapshot(duban.env["DUBAN_DATABASE_URL"])
    result = duban(*args)
    assert result.exit_code == code and words in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert snapshot(duban.env["DUBAN_DATABASE_URL"]) == before


def test_a_person_logs_in_with_a_password_and_history_says_who(duban, clerk):
    task = duban.json("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-11-30")
    aid = task[0]["id"]
    wrong = _password_login(duban, "张三", "Wrong-pass1")
    assert wrong.exit_code == 4 and "账号或密码错误" in wrong.output
    done = _password_login(duban, "张三", clerk["password"])
    assert done.exit_code == 0, done.output
    assert "已登录：张三（法规处）" in done.output
    # the saved personal token now acts as 张三 (DUBAN_TOKEN empty: the saved one counts)
    me = duban.json("whoami", token="")
    assert me["name"] == "张三（法规处）" and me["role"] == "unit"
    duban.ok("task", "start", aid, token="")
    story = duban.json("task", "show", aid)
    assert story["history"][-1]["actor"] == "张三（法规处）"
    assert "张三（法规处）" in duban.ok("task", "show", aid).stdout
    shown = duban.json("account", "show", "张三")
    assert len(shown["tokens"]) == 1 and shown["tokens"][0]["last_used_at"] is not None


def test_five_wrong_passwords_lock_the_account(duban, clerk):
    for _ in range(4):
        assert "账号或密码错误" in _password_login(duban, "张三", "Wrong-pass1").output
    last = _password_login(duban, "张三", "Wrong-pass1")
    assert last.exit_code == 4 and "账号已锁定" in last.output and "之后再试" in last.output
    assert "账号已锁定" in _password_login(duban, "张三", clerk["password"]).output
    duban.ok("account", "unlock", "张三")
    assert _password_login(duban, "张三", clerk["password"]).exit_code == 0


def test_the_security_administrator_takes_over_the_accounts(duban, clerk):
    sec = duban.json("account", "add", "安全员", "--role", "security")
    refused = duban("account", "list")
    assert refused.exit_code == 4 and "仅安全管理员" in refused.output
    assert _password_login(duban, "安全员", sec["password"]).exit_code == 0
    assert [r["name"] for r in duban.json("account", "list", token="")] == ["张三", "安全员"]

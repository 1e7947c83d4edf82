"""Group robots through the outbox, end to end: CLI, real database, real SMTP server, and a real
local HTTP server answering as 企业微信 / 钉钉 / 飞书 do (tests/robot_server.py).

"Today" is Monday 2026-03-02 09:00 in Shanghai (``DUBAN_NOW``); the robot server checks
signatures against the same instant.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from robot_server import RobotServer
from smtp_server import SmtpServer
from sqlmodel import select
from test_exactly_once import ROOT, Proc, wait_until

from workflow.storage.models import Notification, Robot

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai, as DUBAN_NOW
SENDER = "江门市政务公开办公室 <duban@office.example.cn>"
WECOM_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
DING_SECRET = "SECd0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"
FEISHU_HOOK = "2f9e6c1a-5b3d-4e8f-9a7c-1d2e3f4a5b6c"
FEISHU_SECRET = "fS3cr3tW1thSymb0ls+/="
SECRETS = (WECOM_KEY, DING_TOKEN, DING_SECRET, FEISHU_HOOK, FEISHU_SECRET)


@pytest.fixture
def robots():
    with RobotServer(now=NOW) as srv:
        srv.wecom_keys.add(WECOM_KEY)
        srv.dingtalk_tokens[DING_TOKEN] = DING_SECRET
        srv.feishu_hooks[FEISHU_HOOK] = FEISHU_SECRET
        yield srv


@pytest.fixture
def smtp():
    with SmtpServer() as s:
        yield s


def configure(duban, smtp, robots, extra: str = "") -> None:
    config_dir = Path(duban.env["DUBAN_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    ep = robots.endpoints()
    (config_dir / "duban.toml").write_text(
        '[office]\nname = "江门市政务公开办公室"\n\n'
        f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\ntls = "none"\n'
        f'from = "{SENDER}"\ntimeout = 10\n\n'
        f'[robots]\nwecom_url = "{ep.wecom}"\ndingtalk_url = "{ep.dingtalk}"\n'
        f'feishu_url = "{ep.feishu}"\ntimeout = 5\n{extra}',
        encoding="utf-8",
    )


@pytest.fixture
def office(duban, smtp, robots):
    """张副主任 (e-mail + 飞书, signed) in charge of 公开科 (e-mail + 企业微信) and 法规科
    (no e-mail, 钉钉 signed, @13800138000). Task #1 (公开科) due Thu 2026-03-05; task #2
    (法规科) due Fri 2026-02-27, one working day overdue."""
    configure(duban, smtp, robots)
    duban.ok("leader", "add", "张副主任", "--email", "zhang@office.example.cn")
    duban.ok("leader", "add", "李主任", "--email", "li@office.example.cn", "--principal")
    duban.ok("unit", "add", "公开科", "--email", "gk@office.example.cn", "--leader", "张副主任")
    duban.ok("unit", "add", "法规科", "--leader", "张副主任")
    edit(duban, "unit", "公开科", "wecom", WECOM_KEY)
    edit(
        duban,
        "unit",
        "法规科",
        "dingtalk",
        DING_TOKEN,
        DING_SECRET,
        "--robot-mention",
        "13800138000",
    )
    # pasted as the whole webhook address, as copied from the chat's robot settings
    url = f"https://open.feishu.cn/open-apis/bot/v2/hook/{FEISHU_HOOK}"
    edit(duban, "leader", "张副主任", "feishu", url, FEISHU_SECRET)
    duban.ok("task", "add", "政策解读专栏更新", "--unit", "公开科", "--due", "2026-03-05")
    duban.ok(
        "task", "add", "规范性文件集中公开", "--unit", "法规科", "--due", "2026-02-27", "--past"
    )
    return duban


def edit(duban, group, name, kind, token, secret=None, *more):
    args = [group, "edit", name, "--robot", kind, *more]
    lines = token + "\n"
    if secret is not None:
        args.append("--robot-secret")
        lines += secret + "\n"
    result = duban(*args, input=lines)
    assert result.exit_code == 0, result.output
    assert_no_secret(result.output)
    return result


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def at(duban, when: str):
    """The same office acting at another instant (Shanghai time)."""
    from conftest import Cli

    return Cli({**duban.env, "DUBAN_NOW": when})


def outbox(office_db) -> dict[str, Notification]:
    with office_db.session() as s:
        return {n.key: n for n in s.exec(select(Notification).order_by(Notification.id))}


def posted(robots, kind: str) -> list:
    return [r for r in robots.requests if r.kind == kind]


# ---------------------------------------------------------------- storing robots


def test_robot_keys_never_shown_encrypted_at_rest_and_removable(office, office_db):
    view = office.json("unit", "show", "法规科")
    assert view["robots"] == [
        {
            "kind": "dingtalk",
            "label": "钉钉",
            "key": "已设置",
            "secret": "已设置",
            "fingerprint": view["robots"][0]["fingerprint"],
            "mention_mobiles": ["13800138000"],
        }
    ]
    shown = office.ok("unit", "show", "法规科").stdout
    assert "群机器人：钉钉（已设置，已加签，@13800138000）" in shown
    leaders = office.json("leader", "list")
    assert [r["kind"] for r in leaders[0]["robots"]] == ["feishu"]
    for out in (shown, json.dumps(view), json.dumps(leaders), office.ok("unit", "list").stdout):
        assert_no_secret(out)
    with office_db.engine.connect() as conn:
        stored = conn.execute(sa.select(Robot.__table__)).all()
        history = conn.execute(sa.text("select data from history")).scalars().all()
    dump = repr(stored) + repr(history)
    assert_no_secret(dump)  # encrypted at rest; history keeps kinds and fingerprints only
    key_file = Path(office.env["DUBAN_CONFIG_DIR"]) / "robot-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert office.ok("unit", "edit", "法规科", "--robot", "none").exit_code == 0
    assert office.json("unit", "show", "法规科")["robots"] == []


@pytest.mark.parametrize(
    ("args", "stdin", "code", "words"),
    [
        (["--robot", "wecom", "--robot-secret"], "k\ns\n", 2, "--robot-secret 只能"),
        (["--robot", "wecom"], "", 2, "没有从标准输入读到企业微信机器人 key"),
        (["--robot", "dingtalk"], "bad token/with slash\n", 2, "非法字符"),
        (["--robot", "wecom"], "https://example.cn/send?x=1\n", 2, "无法从粘贴的地址中找到"),
        (["--robot-mention", "13800138000"], "", 2, "没有设置群机器人"),
        (["--robot", "wecom", "--robot-mention", "12ab"], "k1\n", 2, "手机号无效"),
    ],
)
def test_robot_settings_refused_with_one_line_and_nothing_changed(duban, args, stdin, code, words):
    duban.ok("unit", "add", "办公室", "--email", "bgs@office.example.cn")
    result = duban("unit", "edit", "办公室", *args, input=stdin)
    assert result.exit_code == code
    assert words in result.stderr and result.stderr.startswith("错误：")
    assert duban.json("unit", "show", "办公室")["robots"] == []


# ---------------------------------------------------------------- check + send


def test_check_and_send_reach_email_and_every_robot_once(office, office_db, smtp, robots):
    office.ok("check")  # Monday: reminder to 公开科, overdue notice to 法规科 (robot only)
    later = office
    later.ok("check", "--as-of", "2026-03-04")  # Wed: reminder (1 day left), escalation to 张
    rows = outbox(office_db)
    channels = sorted((n.kind, n.recipient_name, n.channel) for n in rows.values())
    assert channels == [
        ("escalation", "张副主任", "email"),
        ("escalation", "张副主任", "feishu"),
        ("overdue", "法规科", "dingtalk"),
        ("reminder", "公开科", "email"),
        ("reminder", "公开科", "email"),
        ("reminder", "公开科", "wecom"),
        ("reminder", "公开科", "wecom"),
    ]
    for key, row in rows.items():
        if row.channel != "email":
            assert key.removesuffix(f"#{row.channel}") in rows or row.recipient_name == "法规科"

    result = later.ok("notify", "send")
    assert "已发送 7 封" in result.stdout
    assert all(n.state == "sent" for n in outbox(office_db).values())
    assert sorted(m.rcpt_tos for m in smtp.received) == [
        ("gk@office.example.cn",),
        ("gk@office.example.cn",),
        ("zhang@office.example.cn",),
    ]
    assert [len(posted(robots, k)) for k in ("wecom", "dingtalk", "feishu")] == [2, 1, 1]

    [ding] = posted(robots, "dingtalk")
    assert ding.query["access_token"] == DING_TOKEN and "sign" in ding.query
    assert ding.body["msgtype"] == "markdown"
    assert ding.body["at"]["atMobiles"] == ["13800138000"]
    assert ding.body["markdown"]["text"].rstrip().endswith("@13800138000")
    assert "规范性文件集中公开" in ding.body["markdown"]["text"]
    [fs] = posted(robots, "feishu")
    assert fs.body["msg_type"] == "interactive" and fs.body["sign"] and fs.body["timestamp"]
    assert "规范性文件集中公开" in fs.body["card"]["elements"][0]["content"]
    for wc in posted(robots, "wecom"):
        content = wc.body["markdown"]["content"]
        assert "政策解读专栏更新" in content and len(content.encode()) <= 4096

    # again, the same days and later: nothing new on any channel
    office.ok("check")
    later.ok("check", "--as-of", "2026-03-04")
    assert "没有待发送的通知" in later.ok("notify", "send").stdout
    assert len(robots.requests) == 4 and len(smtp.received) == 3
    listed = later.json("notify", "list")
    assert sorted(r["channel"] for r in listed) == sorted(n for *_, n in channels)


def test_rate_limit_is_retried_later_then_sent(office, office_db, robots):
    office.ok("check")
    robots.fail_next("wecom", "rate_limit")
    result = office.ok("notify", "send")
    assert "稍后重试 1 封" in result.stdout and "频繁" in result.stderr
    [row] = [n for n in outbox(office_db).values() if n.channel == "wecom"]
    assert row.state == "pending" and row.attempts == 1 and "频繁" in row.last_error
    waiting = office.ok("notify", "send").stdout  # backing off: says what waits, and when
    assert "现在没有到期的通知" in waiting and "1 封等待重试" in waiting
    result = at(office, "2026-03-02T09:02").ok("notify", "send")
    assert "已发送 1 封" in result.stdout
    assert outbox(office_db)[row.key].state == "sent"
    assert len(posted(robots, "wecom")) == 2  # the refused one and the one that went through


def test_wrong_key_blocks_that_robot_only_with_one_message_and_nothing_failed(
    office, office_db, smtp, robots
):
    robots.wecom_keys.clear()  # the robot was removed from the chat: 93000
    office.ok("check")
    office.ok("check", "--as-of", "2026-03-04")  # a second row for the same robot
    result = office("notify", "send")
    assert result.exit_code == 10
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1
    assert "企业微信机器人「公开科」" in errors[0] and "93000" in errors[0]
    assert "duban unit edit 公开科 --robot wecom" in errors[0]
    assert_no_secret(result.output)
    rows = outbox(office_db)
    held = [n for n in rows.values() if n.channel == "wecom"]
    assert len(held) == 2 and all(n.state == "pending" and n.attempts == 0 for n in held)
    assert not [n for n in rows.values() if n.state == "failed"]
    assert all(n.state == "sent" for n in rows.values() if n.channel != "wecom")
    assert len(posted(robots, "wecom")) == 1  # the second was not tried against a bad key
    assert len(smtp.received) == 3  # mail went on

    robots.wecom_keys.add(WECOM_KEY)  # fixed in the chat's settings
    result = at(office, "2026-03-02T09:01").ok("notify", "send")
    assert "已发送 2 封" in result.stdout
    assert all(n.state == "sent" for n in outbox(office_db).values())


@pytest.mark.local_only  # kills the sending process: over HTTP that is the server, not the CLI
def test_notify_send_killed_mid_batch_then_restarted_sends_nothing_twice(duban, smtp, robots):
    configure(duban, smtp, robots)
    keys = {f"科室{i}": f"key-{i:02d}-{'x' * 20}" for i in range(5)}
    robots.wecom_keys.update(keys.values())
    for name, key in keys.items():
        duban.ok("unit", "add", name)
        edit(duban, "unit", name, "wecom", key)
        duban.ok("task", "add", f"{name}的任务", "--unit", name, "--due", "2026-03-05")
    duban.ok("check")
    robots.fail_next("wecom", "pass", 2)
    robots.fail_next("wecom", "hang")  # the third request never gets its answer
    log = Path(duban.env["DUBAN_CONFIG_DIR"]) / "send.log"
    env = {**os.environ, **duban.env, "PYTHONPATH": str(ROOT)}
    proc = Proc(["-m", "cli.main", "notify", "send"], env, log)
    try:
        wait_until(lambda: len(robots.requests) >= 3, 60, "the third robot request")
        proc.kill()
    finally:
        proc.cleanup()
    answered = [r.query["key"] for r in robots.requests[:2]]
    in_flight = robots.requests[2].query["key"]
    # a manual send does not free a dead sender's claims: run after they expired
    result = at(duban, "2026-03-02T09:31").ok("notify", "send")
    assert "已发送 3 封" in result.stdout
    counts = {key: [r.query["key"] for r in robots.requests].count(key) for key in keys.values()}
    assert all(counts[k] == 1 for k in answered)  # recorded before the kill: never again
    assert counts[in_flight] == 2  # the one in flight is the only one sent twice
    assert all(c == 1 for k, c in counts.items() if k not in (*answered, in_flight))
    assert sys.executable  # the send ran in a real, separate process


def test_too_long_message_is_cut_not_refused_and_preview_shows_the_cut(duban, smtp, robots):
    configure(duban, smtp, robots)
    templates = Path(duban.env["DUBAN_CONFIG_DIR"]) / "templates"
    templates.mkdir()
    (templates / "reminder.md").write_text(  # an office listing every item, not the ten first
        "### 【督办提醒】{{ unit|md }}有{{ counts.total }}项任务即将到期\n"
        "{% for item in items %}\n{{ loop.index }}. **{{ item.task_title|md }}**：{{ item.due|cn_md }}到期\n"
        "{% endfor %}\n",
        encoding="utf-8",
    )
    duban.ok("unit", "add", "公开科")
    edit(duban, "unit", "公开科", "wecom", WECOM_KEY)
    for i in range(60):
        title = f"第{i + 1}项：全面推进基层政务公开标准化规范化建设并按期更新政策解读专栏内容"
        duban.ok("task", "add", title, "--unit", "公开科", "--due", "2026-03-05")
    preview = duban.json("notify", "preview", "reminder", "--task", "1", "--channel", "wecom")
    assert preview["channel"] == "wecom" and not preview["truncated"]  # one item fits
    duban.ok("check")
    duban.ok("notify", "send")
    [wc] = posted(robots, "wecom")
    content = wc.body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert content.rstrip().endswith("……（内容过长，已截断，共60项）")
    assert "第1项" in content and "第60项" not in content


def test_preview_channel_shows_markdown_and_mentions(office):
    out = office.ok("notify", "preview", "overdue", "--task", "2", "--channel", "dingtalk").stdout
    assert "规范性文件集中公开" in out and "标题：" in out
    view = office.json("notify", "preview", "reminder", "--task", "1", "--channel", "feishu")
    assert view["title"].startswith("【督办提醒】") and "政策解读专栏更新" in view["markdown"]
    assert_no_secret(out + json.dumps(view))


# ---------------------------------------------------------------- test-robot and settings


def test_test_robot_posts_to_each_robot_and_names_the_failing_one(office, robots):
    out = office.ok("notify", "test-robot", "公开科").stdout
    assert "测试消息已发送：企业微信机器人「公开科」" in out
    [wc] = posted(robots, "wecom")
    assert "测试" in wc.body["markdown"]["content"]
    assert office.json("notify", "test-robot", "张副主任")[0]["status"] == "sent"  # a leader
    robots.dingtalk_tokens[DING_TOKEN] = "SECanother"  # the chat's secret was changed
    result = office("notify", "test-robot", "法规科")
    assert result.exit_code == 10
    assert "钉钉机器人「法规科」" in result.stderr and "310000" in result.stderr
    assert_no_secret(result.output)
    result = office("notify", "test-robot", "财务科")
    assert result.exit_code == 3


@pytest.mark.parametrize(
    ("extra", "env", "words"),
    [
        ('wecom_url = "ftp://relay.example.cn/send"\n', {}, "[robots] wecom_url 无效"),
        ("", {"DUBAN_ROBOT_FEISHU_URL": "not a url"}, "环境变量 DUBAN_ROBOT_FEISHU_URL 无效"),
        ("", {"DUBAN_ROBOT_DINGTALK_URL": "https://x.cn/send?access_token=1"}, "查询参数"),
        ("[robots]\nwebhook = 1\n", {}, "未知的设置：webhook"),
    ],
)
def test_bad_robot_settings_stop_send_with_exit_7(duban, smtp, robots, extra, env, words):
    from conftest import Cli

    configure(duban, smtp, robots)
    path = Path(duban.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    text = path.read_text(encoding="utf-8")
    if extra.startswith("[robots]"):
        text = text.split("[robots]")[0] + extra
    elif extra:
        text = text.replace(f'wecom_url = "{robots.endpoints().wecom}"\n', extra)
    path.write_text(text, encoding="utf-8")
    result = Cli({**duban.env, **env})("notify", "send")
    assert result.exit_code == 7
    assert words in result.stderr


def test_an_office_without_smtp_still_reaches_robot_only_units(duban, robots):
    from conftest import Cli

    env = {**duban.env, "DUBAN_ROBOT_WECOM_URL": robots.endpoints().wecom}
    office = Cli(env)
    office.ok("unit", "add", "公开科")  # no e-mail, no [smtp] anywhere
    edit(office, "unit", "公开科", "wecom", WECOM_KEY)
    office.ok("task", "add", "政策解读专栏更新", "--unit", "公开科", "--due", "2026-03-05")
    office.ok("check")
    assert "已发送 1 封" in office.ok("notify", "send").stdout
    assert len(posted(robots, "wecom")) == 1
    office.ok("unit", "add", "法规科", "--email", "fg@office.example.cn")
    office.ok("task", "add", "规范性文件集中公开", "--unit", "法规科", "--due", "2026-03-05")
    office.ok("check")
    result = office("notify", "send")  # a mail is due: [smtp] is needed again
    assert result.exit_code == 7 and "未配置 SMTP 服务器" in result.stderr

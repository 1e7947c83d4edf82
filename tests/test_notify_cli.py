"""``duban notify …`` and ``duban mail …`` end to end: CLI, real database, real SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_server import SmtpServer, make_tls_files

SENDER = "江门市政务公开办公室 <duban@office.example.cn>"


@pytest.fixture
def server():
    with SmtpServer() as s:
        yield s


def configure(duban, text: str) -> Path:
    config_dir = Path(duban.env["DUBAN_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "duban.toml"
    path.write_text('[office]\nname = "江门市政务公开办公室"\n\n' + text, encoding="utf-8")
    return path


def smtp_section(server, extra: str = "") -> str:
    return (
        f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
        f'from = "{SENDER}"\ntimeout = 10\n{extra}'
    )


@pytest.fixture
def office(duban):
    """Leader 张 in charge of 公开科 and 法规科; task #1 (公开科) due Thursday 2026-03-05,
    task #2 (法规科) due Friday 2026-02-27 (overdue by one working day). "Today" is Monday 2026-03-02."""
    duban.ok("leader", "add", "张副主任", "--email", "zhang@office.example.cn")
    duban.ok("leader", "add", "李主任", "--email", "li@office.example.cn", "--principal")
    duban.ok("unit", "add", "公开科", "--email", "gk@office.example.cn", "--leader", "张副主任")
    duban.ok("unit", "add", "法规科", "--email", "fg@office.example.cn", "--leader", "张副主任")
    duban.ok("task", "add", "政策解读专栏更新", "--unit", "公开科", "--due", "2026-03-05")
    duban.ok(
        "task", "add", "规范性文件集中公开", "--unit", "法规科", "--due", "2026-02-27", "--past"
    )
    return duban


# ---------------------------------------------------------------- preview


def test_preview_reminder_text_and_html_file(office, tmp_path):
    html = tmp_path / "reminder.html"
    result = office.ok("notify", "preview", "reminder", "--task", "1", "--html", str(html))
    out = result.stdout
    assert "收件人：公开科 <gk@office.example.cn>" in out
    assert "主题：【督办提醒】《政策解读专栏更新》将于3月5日到期（剩余3个工作日）" in out
    assert "政策解读专栏更新" in out.split("主题：", 1)[1]
    assert f"HTML 正文已写入 {html}" in out
    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html") and "政策解读专栏更新" in page
    assert "蓝色预警" in page


def test_preview_every_kind_json(office):
    subjects = {}
    for kind in ("reminder", "due_today", "overdue", "escalation", "digest", "progress_request"):
        view = office.json("notify", "preview", kind, "--task", "2")
        assert view["kind"] == kind and view["assignment_id"] == 2
        assert view["subject"] and view["text"] and "<html" in view["html"].lower()
        subjects[kind] = view["subject"]
    overdue = office.json("notify", "preview", "overdue", "--task", "2")
    assert overdue["recipients"] == ["fg@office.example.cn"]
    assert "已逾期" in overdue["text"]
    escalation = office.json("notify", "preview", "escalation", "--task", "2")
    assert escalation["recipient"] == "张副主任"
    assert escalation["recipients"] == ["zhang@office.example.cn"]
    assert "请督促" in escalation["html"] and "逾期工作日" in escalation["html"]
    # the digest groups the leader's units; #1 is not overdue, so only 法规科 is listed
    digest = office.json("notify", "preview", "digest", "--task", "2", "--as-of", "2026-03-02")
    assert digest["recipient"] == "张副主任" and "法规科" in digest["text"]
    assert "规范性文件集中公开" in digest["text"]
    assert len(set(subjects.values())) == 6


def test_preview_writes_nothing_and_refuses_bad_input(office):
    before = office.json("notify", "list")
    office.ok("notify", "preview", "digest", "--task", "1")
    assert office.json("notify", "list") == before == []
    missing = office("notify", "preview", "reminder", "--task", "99")
    assert missing.exit_code == 3 and "任务 #99 不存在" in missing.stderr
    unknown = office("notify", "preview", "birthday", "--task", "1")
    assert unknown.exit_code == 2
    no_task = office("notify", "preview", "reminder")
    assert no_task.exit_code == 2


def test_preview_uses_the_office_template_override(office):
    config = configure(office, "")
    (config.parent / "templates").mkdir()
    (config.parent / "templates" / "reminder.subject.txt").write_text("【本办模板】{{ unit }}")
    assert (
        office.json("notify", "preview", "reminder", "--task", "1")["subject"]
        == "【本办模板】公开科"
    )


# ---------------------------------------------------------------- send / list / retry


def test_check_then_send_then_list(office, server):
    configure(office, smtp_section(server))
    office.ok("check")
    pending = office.json("notify", "list", "--state", "pending")
    assert {r["kind"] for r in pending} == {"reminder", "overdue"}

    result = office.ok("notify", "send")

    assert "已发送 2 封，失败 0 封，稍后重试 0 封" in result.stdout
    received = {r.rcpt_tos: r for r in server.received}
    assert set(received) == {("gk@office.example.cn",), ("fg@office.example.cn",)}
    reminder = received[("gk@office.example.cn",)]
    assert "政策解读专栏更新" in reminder.subject and "政策解读专栏更新" in reminder.html
    rows = office.json("notify", "list")
    assert {r["state"] for r in rows} == {"sent"}
    assert {r["message_id"] for r in rows} == {r.message_id for r in server.received}
    assert office.json("notify", "list", "--state", "pending") == []
    assert len(office.json("notify", "list", "--kind", "overdue")) == 1
    table = office.ok("notify", "list").stdout
    assert "到期提醒" in table and "已发送" in table
    again = office.ok("notify", "send", "--json")
    assert '"sent": 0' in again.stdout and len(server.received) == 2


def test_send_limit_and_json_summary(office, server):
    configure(office, smtp_section(server))
    office.ok("check")
    summary = office.json("notify", "send", "--limit", "1")
    assert (summary["sent"], summary["failed"], summary["retried"]) == (1, 0, 0)
    assert len(office.json("notify", "list", "--state", "pending")) == 1


def test_failed_row_retry_after_fixing_the_problem(office, server):
    configure(office, smtp_section(server))
    office.ok("check")
    server.refuse("fg@office.example.cn")

    result = office.ok("notify", "send")

    assert "失败 1 封" in result.stdout
    assert "550" in result.stderr and "fg@office.example.cn" in result.stderr
    [failed] = office.json("notify", "list", "--state", "failed")
    assert failed["last_error"] == (  # issue 17: what it means first, the server's words last
        "全部收件人被拒收：fg@office.example.cn："
        "收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）"
    )
    sent = office.json("notify", "list", "--state", "sent")[0]["id"]
    conflict = office("notify", "retry", str(sent))
    assert conflict.exit_code == 5 and "只有发送失败的通知可以重试" in conflict.stderr
    assert office("notify", "retry").exit_code == 2
    assert office("notify", "retry", "999").exit_code == 3

    server.reset_failures()
    assert "已放回待发送队列：1 封" in office.ok("notify", "retry", str(failed["id"])).stdout
    [again] = office.json("notify", "list", "--state", "pending")
    assert again["attempts"] == 0
    office.ok("notify", "send")
    assert office.json("notify", "list", "--state", "failed") == []
    assert [r.rcpt_tos for r in server.received].count(("fg@office.example.cn",)) == 1


def test_retry_all_failed_puts_every_failed_row_back(office, server):
    configure(office, smtp_section(server))
    office.ok("check")
    server.refuse("fg@office.example.cn")
    server.refuse("gk@office.example.cn")
    office.ok("notify", "send")
    failed = office.json("notify", "list", "--state", "failed")
    assert len(failed) == 2

    server.reset_failures()
    requeued = office.json("notify", "retry", "--all-failed")["requeued"]

    assert requeued == sorted(r["id"] for r in failed)
    office.ok("notify", "send")
    assert {r["state"] for r in office.json("notify", "list")} == {"sent"}
    assert len(server.received) == 2


def test_a_wrong_password_fails_nothing_and_the_send_after_the_fix_delivers(office, tmp_path):
    files = make_tls_files(tmp_path / "tls")
    with SmtpServer(tls="starttls", user="duban", password="right", tls_files=files) as server:
        (Path(office.env["DUBAN_CONFIG_DIR"]) / "pw").parent.mkdir(parents=True, exist_ok=True)
        (Path(office.env["DUBAN_CONFIG_DIR"]) / "pw").write_text("wrong\n")
        configure(
            office,
            f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "starttls"\n'
            f'user = "duban"\npassword_file = "pw"\nfrom = "{SENDER}"\nca_file = "{files.ca_cert}"\n',
        )
        office.ok("check")
        refused = office("notify", "send")
        assert refused.exit_code == 10 and "Traceback" not in refused.output + refused.stderr
        [line] = refused.stderr.strip().splitlines()
        assert "认证失败：用户名或密码错误" in line and "（535 5.7.8，" in line
        assert "仍在队列中" in line and "[smtp]" in line
        assert office.json("notify", "list", "--state", "failed") == []
        waiting = office.json("notify", "list", "--state", "pending")
        assert len(waiting) == 2 and all(r["attempts"] == 0 for r in waiting)
        assert all("认证失败" in r["last_error"] for r in waiting)

        (Path(office.env["DUBAN_CONFIG_DIR"]) / "pw").write_text("right\n")
        office.ok("notify", "send")
        assert {r["state"] for r in office.json("notify", "list")} == {"sent"}
        assert len(server.received) == 2


def test_console_delivery_prints_instead_of_sending(office):
    configure(office, '[notify]\ndelivery = "console"\n')
    office.ok("check")
    out = office.ok("notify", "send").stdout
    assert "邮件（未发送，仅显示）" in out and "政策解读专栏更新" in out
    assert "已发送 2 封" in out


def test_send_without_smtp_settings_is_a_config_error(office):
    configure(office, "")
    office.ok("check")
    result = office("notify", "send")
    assert result.exit_code == 7 and "未配置 SMTP 服务器" in result.stderr
    assert "Traceback" not in result.output
    assert {r["attempts"] for r in office.json("notify", "list")} == {0}  # nothing claimed


def test_only_the_office(office):
    token = office.json("token", "issue", "公开科")["token"]
    for args in (
        ("notify", "send"),
        ("notify", "list"),
        ("notify", "retry", "--all-failed"),
        ("notify", "preview", "reminder", "--task", "1"),
        ("mail", "test", "someone@x.cn"),
        ("mail", "settings"),
    ):
        result = office(*args, token=token)
        assert result.exit_code == 4, args
        assert "仅办公室可以操作" in result.stderr


# ---------------------------------------------------------------- duban mail


def test_mail_test_success(office, server):
    configure(office, smtp_section(server))
    result = office.ok("mail", "test", "admin@office.example.cn")
    assert "测试邮件已发送至 admin@office.example.cn" in result.stdout
    [mail] = server.received
    assert mail.rcpt_tos == ("admin@office.example.cn",)
    assert mail.message_id in result.stdout
    assert mail.text and mail.html
    assert office.json("notify", "list") == []  # not an outbox notification


def test_mail_test_over_starttls_with_login(office, tmp_path):
    files = make_tls_files(tmp_path / "tls")
    with SmtpServer(tls="starttls", user="duban", password="s3cret", tls_files=files) as server:
        configure(
            office,
            f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "starttls"\n'
            f'user = "duban"\nfrom = "{SENDER}"\nca_file = "{files.ca_cert}"\n',
        )
        office.env["DUBAN_SMTP_PASSWORD"] = "s3cret"
        office.ok("mail", "test", "admin@office.example.cn")
        assert len(server.received) == 1

        office.env["DUBAN_SMTP_PASSWORD"] = "wrong"
        failed = office("mail", "test", "admin@office.example.cn")
        assert failed.exit_code == 10
        assert "测试邮件发送失败" in failed.stderr and "认证失败" in failed.stderr
        assert "设置有误" in failed.stderr
        assert "Traceback" not in failed.output


def test_mail_test_failures(office, server):
    configure(office, smtp_section(server))
    server.refuse("nobody@office.example.cn")
    refused = office("mail", "test", "nobody@office.example.cn")
    assert refused.exit_code == 10
    assert refused.stderr.strip().endswith(
        "：全部收件人被拒收：nobody@office.example.cn："
        "收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）"
    )

    server.down()
    down = office("mail", "test", "admin@office.example.cn")
    assert down.exit_code == 10 and "暂时性错误" in down.stderr
    assert (
        f"无法连接 SMTP 服务器 {server.host}:{server.port}：连接被拒绝，该端口没有服务在监听"
        in down.stderr
    )
    assert "Error connecting" not in down.stderr and "Errno" not in down.stderr

    bad = office("mail", "test", "not-an-address")
    assert bad.exit_code == 2 and "收件地址无效" in bad.stderr

    configure(office, "")
    unconfigured = office("mail", "test", "admin@office.example.cn")
    assert unconfigured.exit_code == 7 and "未配置 SMTP 服务器" in unconfigured.stderr


@pytest.mark.parametrize(
    "address",
    ["admin@office.example.cn\r\nBcc: spy@evil.example", "admin@office.example.cn\n", "a@b.cn\r"],
)
def test_mail_test_refuses_a_line_break_in_the_address(office, server, address):
    """A CR/LF could add a header (Bcc…) to the mail: refused in one line, nothing sent."""
    configure(office, smtp_section(server))
    bad = office("mail", "test", address)
    assert bad.exit_code == 2
    # refused by the one input check of every door (workflow/calls/inputs.py) before mail's own
    assert bad.stderr.startswith("错误：") and "控制字符" in bad.stderr
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.output
    assert server.received == []


def test_there_is_no_password_option(office, server):
    configure(office, smtp_section(server))
    result = office("mail", "test", "admin@office.example.cn", "--password", "x")
    assert result.exit_code == 2 and "--password" in result.output + result.stderr
    assert server.received == []
    help_text = (
        office.ok("mail", "test", "--help").stdout + office.ok("notify", "send", "--help").stdout
    )
    assert "password" not in help_text.lower()


def test_mail_settings_shows_effective_values_without_the_password(office, server):
    configure(office, smtp_section(server, 'user = "duban"\n'))
    office.env["DUBAN_SMTP_PASSWORD"] = "topsecret"
    office.env["DUBAN_SMTP_PORT"] = "2525"
    view = office.json("mail", "settings")
    assert view["delivery"] == "smtp"
    assert view["smtp"]["port"] == 2525 and view["smtp"]["user"] == "duban"
    assert view["smtp"]["password"] == "（已设置）"
    text = office.ok("mail", "settings").stdout
    assert "topsecret" not in text and "2525" in text

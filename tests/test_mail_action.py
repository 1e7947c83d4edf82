"""What a mail asks of its reader, and mails that went stale in the outbox (issue 17).

End to end: ``duban check`` queues, the assignments move on (reported, cancelled, extended,
the due date passes), ``duban notify send`` delivers to a real aiosmtpd, and the rows say what
happened. ``DUBAN_NOW`` moves the clock; nothing sleeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli
from smtp_server import SmtpServer

SENDER = "江门市政务公开办公室 <duban@office.example.cn>"
URL = "https://duban.example.gov.cn"
REQUIREMENT = "在政策解读专栏同步发布解读材料，解读与文件同步起草、同步审签、同步发布"


@pytest.fixture
def server():
    with SmtpServer() as s:
        yield s


def configure(duban, server, *, office: str = "", extra: str = "") -> None:
    config_dir = Path(duban.env["DUBAN_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "duban.toml").write_text(
        f'[office]\nname = "江门市政务公开办公室"\n{office}\n'
        f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
        f'from = "{SENDER}"\ntimeout = 10\n{extra}',
        encoding="utf-8",
    )


CONTACT = 'contact = "陈科长"\nphone = "0750-3501234"\nemail = "gkb@office.example.cn"\n'


@pytest.fixture
def office(duban):
    """Leader 张 in charge of 公开科 and 法规科. Today Monday 2026-03-02: #1 #2 #3 (公开科) and
    #4 (法规科) due Thursday 03-05 (reminders today), #5 (法规科) due 02-26 (overdue)."""
    duban.ok("leader", "add", "张副主任", "--email", "zhang@office.example.cn")
    duban.ok("leader", "add", "李主任", "--email", "li@office.example.cn", "--principal")
    duban.ok("unit", "add", "公开科", "--email", "gk@office.example.cn", "--leader", "张副主任")
    duban.ok("unit", "add", "法规科", "--email", "fg@office.example.cn", "--leader", "张副主任")
    for title in ("政策解读专栏更新", "规范性文件集中公开", "年度报告发布"):
        duban.ok("task", "add", title, "--unit", "公开科", "--due", "2026-03-05",
                 "--content", REQUIREMENT)  # fmt: skip
    duban.ok("task", "add", "办事指南更新", "--unit", "法规科", "--due", "2026-03-05")
    duban.ok("task", "add", "依申请公开答复", "--unit", "法规科", "--due", "2026-02-26", "--past")
    return duban


def at(duban, when: str) -> Cli:
    """The same office with the clock at ``when``."""
    return Cli({**duban.env, "DUBAN_NOW": when})


def by_recipient(server) -> dict[str, object]:
    return {r.rcpt_tos[0]: r for r in server.received}


# ---------------------------------------------------------------- how to act


@pytest.mark.parametrize("with_url", [True, False], ids=["server-url", "no-server"])
def test_every_mail_says_what_to_do_how_to_report_and_whom_to_ask(office, server, with_url):
    configure(office, server, office=CONTACT, extra="")
    if with_url:
        path = Path(office.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
        path.write_text(path.read_text(encoding="utf-8") + f'\n[server]\nurl = "{URL}/"\n')
    office.ok("check")
    office.ok("notify", "send")

    mails = by_recipient(server)
    reminder = mails["gk@office.example.cn"]
    for part in (reminder.text, reminder.html):
        assert "具体要求" in part and REQUIREMENT in part
        assert "0750-3501234" in part and "gkb@office.example.cn" in part and "陈科长" in part
        for assignment in (1, 2, 3):
            if with_url:
                assert f"{URL}/assignments/{assignment}" in part  # the trailing "/" trimmed
            else:
                assert f"duban task report {assignment} --text" in part
    if with_url:
        assert f'href="{URL}/assignments/1"' in reminder.html
    leader = mails["zhang@office.example.cn"]  # the Monday digest / escalation
    expected = f"{URL}/board" if with_url else "duban task list --overdue"
    assert expected in leader.text and expected in leader.html
    assert "duban task report" not in leader.text
    assert "0750-3501234" in leader.text


def test_without_contact_details_the_office_name_still_shows(office, server):
    configure(office, server)
    office.ok("check")
    office.ok("notify", "send")
    text = by_recipient(server)["gk@office.example.cn"].text
    assert "如有疑问，请联系江门市政务公开办公室。" in text
    assert "电话" not in text


@pytest.mark.parametrize(
    ("office_toml", "words"),
    [
        ('phone = "请打电话"', "[office] phone"),
        ("phone = 7503501234", "[office] phone"),
        ('email = "not-an-address"', "[office] email"),
        ('contact = ""', "[office] contact"),
        ('[server]\nurl = "duban.example.gov.cn"', "[server] url"),
        ('[server]\nurl = "ftp://duban.example.gov.cn"', "[server] url"),
        ("[server]\nurl = 8080", "[server] url"),
    ],
)
def test_bad_contact_settings_are_one_line_errors_exit_7(office, server, office_toml, words):
    configure(office, server, office=office_toml)
    office.ok("check")
    before = office.json("notify", "list")
    for args in (("notify", "send"), ("notify", "preview", "reminder", "--task", "1")):
        result = office(*args)
        assert result.exit_code == 7, result.output
        error = result.stderr.strip()
        assert error.startswith("错误：") and words in error
        assert len(error.splitlines()) == 1
        assert "Traceback" not in result.output + result.stderr
    assert office.json("notify", "list") == before and server.received == []


# ---------------------------------------------------------------- stale before sending


def test_reported_cancelled_and_extended_items_are_left_out_or_dropped(office, server):
    configure(office, server)
    office.ok("check")  # Monday: 公开科 (#1 #2 #3) and 法规科 (#4) reminded, #5 overdue
    rows = {r["recipient"]: r for r in office.json("notify", "list", "--kind", "reminder")}
    assert set(rows) == {"公开科", "法规科"}
    # before the mail server is reached, the work moves on
    unit = office.json("token", "issue", "公开科")["token"]
    office.ok("task", "report", "1", "--text", "已发布解读材料", token=unit)
    office.ok("task", "cancel", "2", "--reason", "任务调整")
    office.ok("task", "extend", "4", "--to", "2026-03-20", "--reason", "等待上级文件")

    result = office.ok("notify", "send")

    assert "作废 1 封（内容已过时）" in result.stdout
    mails = by_recipient(server)
    assert (
        "fg@office.example.cn" not in mails
        or "办事指南更新" not in mails["fg@office.example.cn"].subject
    )  # the extended reminder was not sent
    gk = mails["gk@office.example.cn"]
    assert "年度报告发布" in gk.text
    assert "政策解读专栏更新" not in gk.text and "规范性文件集中公开" not in gk.text
    listed = {r["id"]: r for r in office.json("notify", "list")}
    sent = listed[rows["公开科"]["id"]]
    assert sent["state"] == "sent"
    assert "#1 已报送" in sent["note"] and "#2 已撤销" in sent["note"]
    dropped = listed[rows["法规科"]["id"]]
    assert dropped["state"] == "dropped" and dropped["sent_at"] is None
    assert "截止日期已改为 2026-03-20" in dropped["note"]
    assert office.json("notify", "list", "--state", "dropped") == [dropped]
    assert "已作废" in office.ok("notify", "list").stdout
    # exactly once: nothing comes again
    again = office.json("notify", "send")
    assert again["sent"] == 0 and again["dropped"] == 0
    assert len(server.received) == len(mails)


def test_a_reminder_delivered_after_its_due_date_is_dropped(office, server):
    configure(office, server)
    office.ok("check")
    server.down()
    office.ok("notify", "send")  # the mail server is down: everything waits
    server.up()
    friday = at(office, "2026-03-06T09:00")  # the due date (Thursday) has passed
    friday.ok("notify", "send", "--now")
    reminders = office.json("notify", "list", "--kind", "reminder")
    assert {r["state"] for r in reminders} == {"dropped"}
    assert all("已过截止日期 2026-03-05" in r["note"] for r in reminders)
    assert all("到期提醒" not in r.subject and "即将到期" not in r.subject
               for r in server.received)  # fmt: skip


def test_a_late_reminder_counts_the_working_days_left_on_the_day_it_goes_out(office, server):
    configure(office, server)
    office.ok("check")
    server.down()
    office.ok("notify", "send")
    server.up()
    at(office, "2026-03-04T09:00").ok("notify", "send", "--now")  # Wednesday
    gk = by_recipient(server)["gk@office.example.cn"]
    assert "剩余1个工作日" in gk.text and "剩余3个工作日" not in gk.text
    assert "剩余3个工作日" not in gk.html


# ---------------------------------------------------------------- the outbox tells the truth


def test_after_a_temporary_failure_send_says_how_many_wait_and_when(office, server):
    configure(office, server)
    office.ok("check")
    queued = len(office.json("notify", "list", "--state", "pending"))
    server.fail_next(queued, "451 4.3.0 Try again later")
    first = office.ok("notify", "send")
    assert f"稍后重试 {queued} 封" in first.stdout

    second = office.ok("notify", "send")  # same instant: nothing due yet

    assert "没有待发送的通知" not in second.stdout
    assert f"{queued} 封等待重试，最早于 2026-03-02 09:01" in second.stdout
    assert "--now" in second.stdout
    summary = office.json("notify", "send")
    assert summary["waiting"] == queued and summary["sent"] == 0

    forced = office.json("notify", "send", "--now")

    assert forced["retried_now"] == queued and forced["sent"] == queued
    assert forced["waiting"] == 0
    rows = office.json("notify", "list")
    assert {(r["state"], r["attempts"]) for r in rows} == {("sent", 2)}
    assert office.ok("notify", "send").stdout.strip() == "没有待发送的通知"


# ---------------------------------------------------------------- preview as of a date


def test_preview_as_of_a_date_shows_that_day_state(office, server):
    configure(office, server, office=CONTACT)
    tuesday = at(office, "2026-03-03T10:00")
    tuesday.ok("check")  # #5 (due 02-26) is marked overdue today
    tuesday.ok("task", "extend", "1", "--to", "2026-03-20", "--reason", "等待上级文件")

    def preview(task: str, day: str) -> dict:
        return office.json("notify", "preview", "reminder", "--task", task, "--as-of", day)

    before = preview("5", "2026-02-24")  # two working days before its due date
    assert "剩余2个工作日" in before["text"] and "，已逾期" not in before["text"]
    assert "当前状态：已分派" in before["text"]
    late = preview("5", "2026-03-02")  # past due, not yet marked: overdue all the same
    assert "已逾期3个工作日" in late["text"]  # 02-27, 调休 Saturday 02-28, 03-02
    assert "当前状态：已逾期" in late["text"]
    assert "剩余" not in late["text"] and "蓝色预警" not in late["text"].split("预警说明")[0]
    # the extension made on 03-03 is not in force on 03-02, and is after it
    assert "2026年3月5日" in preview("1", "2026-03-02")["text"]
    assert "2026年3月20日" in preview("1", "2026-03-04")["text"]
    # and the preview says how to act, as the delivered mail does
    assert "duban task report 1 --text" in preview("1", "2026-03-02")["text"]
    assert "0750-3501234" in preview("1", "2026-03-02")["html"]

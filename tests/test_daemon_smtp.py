"""The real daemon against a real SMTP server (aiosmtpd), on an accelerated schedule."""

from __future__ import annotations

from datetime import date

import pytest
from check_helpers import at, directory, task
from smtp_server import SmtpServer
from sqlmodel import select

from workflow.config import load_config
from workflow.daemon.runner import Daemon, every
from workflow.storage.models import Notification

D = date.fromisoformat
pytest.importorskip("workflow.outbox.settings")


def test_daemon_checks_and_delivers_each_mail_once(db, tmp_path):
    with db.session() as s:
        directory(s)
        (a,) = task(s, "更新政策解读专栏", D("2026-03-10"), "公开科")
        (b,) = task(s, "更新政策解读专栏", D("2026-03-10"), "法规科")
    simulated = iter(
        [D("2026-03-05"), D("2026-03-09"), D("2026-03-10"), D("2026-03-11"), D("2026-03-13")]
    )
    today = [D("2026-03-05")]
    with SmtpServer() as server:
        env = {
            "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
            "DUBAN_DATA_DIR": str(tmp_path / "data"),
            "DUBAN_DATABASE_URL": db.url,
            "DUBAN_SMTP_HOST": server.host,
            "DUBAN_SMTP_PORT": str(server.port),
            "DUBAN_SMTP_TLS": "none",
            "DUBAN_SMTP_FROM": "督办系统 <duban@office.example.cn>",
        }
        daemon = Daemon(db=db, config=load_config(env), clock=lambda: at(today[0]))
        check_job = daemon.run_check_job

        def next_day_check():
            today[0] = next(simulated, today[0])
            return check_job()

        daemon.run_check_job = next_day_check
        daemon.check_trigger = every(0.3)
        daemon.deliver_trigger = every(0.1)

        def settled() -> list[Notification]:
            with db.session() as s:
                return list(s.exec(select(Notification)).all())

        assert daemon.start()
        try:
            assert daemon.wait_for(lambda runs: sum(r.job == "check" for r in runs) >= 6, 60)
            assert daemon.wait_for(
                lambda runs: (
                    runs[-1].job == "deliver"
                    and "已发送" not in runs[-1].summary
                    and len(rows := settled()) >= 9
                    and all(r.state != "pending" for r in rows)
                ),
                60,
            ), [r.summary for r in daemon.runs]
        finally:
            daemon.stop()
        received = server.received
    # 03-05 reminder(3) ×2, 03-09 reminder(1) ×2, 03-10 due today ×2, 03-11 overdue ×2,
    # 03-13 escalation of both units to 张副主任 in one mail. The simulated days pass faster
    # than deliveries on a busy machine: a reminder whose day has passed before its delivery
    # run is dropped as stale (with the reason), never sent late.
    rows = settled()
    dropped = [r for r in rows if r.state == "dropped"]
    assert all(r.kind in ("reminder", "due_today") and "已过截止日期" in r.note for r in dropped)
    subjects = sorted((tuple(r.rcpt_tos), r.subject) for r in received)
    assert len(received) + len(dropped) == 9 and len({r.message_id for r in received}) == len(
        received
    )
    assert subjects.count(
        (
            ("gk@office.example.cn",),
            "【督办提醒】《更新政策解读专栏》将于3月10日到期（剩余3个工作日）",
        )
    ) == 1 - sum(r.as_of == D("2026-03-05") and r.recipient_name == "公开科" for r in dropped)
    assert (
        ("zhang@office.example.cn",),
        "【逾期督办·分管领导】您分管的2个单位共2项任务经提醒仍未报送",
    ) in subjects
    assert all("更新政策解读专栏" in r.text and "<html" in r.html.lower() for r in received)
    assert len(rows) == 9 and {r.state for r in rows} <= {"sent", "dropped"}
    assert a and b

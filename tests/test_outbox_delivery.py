"""deliver_pending against a real aiosmtpd server and a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_helpers import (
    DOMAIN,
    SENDER,
    queue,
    reminder_context,
    rows,
    senders_gone,
    smtp_toml,
    write_config,
)
from smtp_server import SmtpServer

from notifiers.message import make_message_id
from notifiers.sinks import ConsoleSink, FileSink
from workflow.errors import ConfigError, DatabaseError, DeliveryError, MailSettingsError
from workflow.outbox import claims, delivery, outcomes
from workflow.outbox.delivery import deliver_pending
from workflow.outbox.settings import make_sink, notify_settings
from workflow.storage import pglocks

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server():
    with SmtpServer() as s:
        yield s


def mid(key: str) -> str:
    return make_message_id(key, DOMAIN)


def test_500_notifications_are_delivered_exactly_once(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server))
    keys = queue(db, now, 500)
    seen: list[tuple[int, int]] = []

    summary = deliver_pending(db, config, now, progress=lambda d, t: seen.append((d, t)))

    assert (summary.sent, summary.failed, summary.retried, summary.skipped) == (500, 0, 0, 0)
    assert summary.errors == []
    assert seen[-1] == (500, 500) and len(seen) == 500
    received = server.received
    assert Counter(r.message_id for r in received) == Counter({mid(k): 1 for k in keys})
    assert server.connections <= 4  # connections reused across the batch
    stored = rows(db)
    assert {r.state for r in stored.values()} == {"sent"}
    for key, row in stored.items():
        assert row.message_id == mid(key)
        assert row.sent_at == now
        assert row.attempts == 1
        assert row.next_attempt_at is None and row.last_error is None
    # the parsed mail: envelope, headers, both parts
    first = next(r for r in received if r.message_id == mid(keys[7]))
    assert first.rcpt_tos == ("unit7@units.example.cn",)
    assert first.mail_from == "duban@office.example.cn"
    assert str(first.message["To"]) == "政法科7 <unit7@units.example.cn>"
    assert "江门市政务公开办公室" in str(first.message["From"])
    assert first.message["X-Duban-Key"] == keys[7]
    assert (
        first.subject
        == "【督办提醒】《第7项：推进政务公开标准化规范化》将于3月5日到期（剩余3个工作日）"
    )
    assert "第7项：推进政务公开标准化规范化" in first.text
    assert "第7项：推进政务公开标准化规范化" in first.html
    assert "已完成专栏建设" in first.text
    # nothing left: a second run sends nothing
    again = deliver_pending(db, config, now + timedelta(hours=1))
    assert again.total == 0 and len(server.received) == 500


def test_server_down_keeps_everything_pending_then_delivers(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server))
    keys = queue(db, now, 20)
    server.down()

    summary = deliver_pending(db, config, now)

    assert (summary.sent, summary.retried, summary.failed) == (0, 20, 0)
    assert all("无法连接" in e.error or "网络" in e.error for e in summary.errors)
    for row in rows(db).values():
        assert row.state == "pending" and row.attempts == 1
        assert row.next_attempt_at == now + timedelta(minutes=1)
        assert row.last_error
    # not due yet: a run at the same instant does nothing, even with the server back
    server.up()
    assert deliver_pending(db, config, now).total == 0
    assert server.received == []

    later = deliver_pending(db, config, now + timedelta(minutes=1))

    assert later.sent == 20
    assert Counter(server.message_ids()) == Counter({mid(k): 1 for k in keys})
    assert {(r.state, r.attempts, r.last_error) for r in rows(db).values()} == {("sent", 2, None)}


def test_backoff_doubles_and_gives_up_after_max_attempts(db, now, tmp_path, server):
    config = write_config(
        tmp_path, smtp_toml(server, notify="max_attempts = 4\nretry_max_minutes = 3")
    )
    [key] = queue(db, now, 1)
    server.down()
    at = now
    waits = []
    for _ in range(3):
        assert deliver_pending(db, config, at).retried == 1
        row = rows(db)[key]
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=3)]

    final = deliver_pending(db, config, at)

    assert final.failed == 1 and final.retried == 0
    row = rows(db)[key]
    assert row.state == "failed" and row.attempts == 4 and row.next_attempt_at is None
    assert "已尝试 4 次" in row.last_error
    server.up()
    assert deliver_pending(db, config, at + timedelta(days=1)).total == 0  # failed stays failed


def test_451_for_a_while_is_retried_and_delivered_once(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server, concurrency=1))
    keys = queue(db, now, 6)
    server.fail_next(3)

    first = deliver_pending(db, config, now)

    assert (first.sent, first.retried) == (3, 3)
    assert all("451" in e.error for e in first.errors)
    assert server.failed_data == 3
    second = deliver_pending(db, config, now + timedelta(minutes=1))
    assert second.sent == 3
    assert Counter(server.message_ids()) == Counter({mid(k): 1 for k in keys})
    assert {r.state for r in rows(db).values()} == {"sent"}


def test_550_for_one_address_fails_that_row_only(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server))

    def recipients(i):
        if i == 3:
            return ["nobody@units.example.cn"]
        if i == 4:  # one good, one refused: sent, the refusal kept
            return ["unit4@units.example.cn", "nobody@units.example.cn"]
        return [f"unit{i}@units.example.cn"]

    keys = queue(db, now, 8, recipients=recipients)
    server.refuse("nobody@units.example.cn")

    summary = deliver_pending(db, config, now)

    assert (summary.sent, summary.failed, summary.retried) == (7, 1, 0)
    stored = rows(db)
    bad = stored[keys[3]]
    assert bad.state == "failed" and bad.attempts == 1
    assert bad.last_error == (
        "全部收件人被拒收：nobody@units.example.cn："
        "收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）"
    )
    partial = stored[keys[4]]
    assert partial.state == "sent" and partial.last_error == (
        "部分收件人被拒收：nobody@units.example.cn："
        "收件人邮箱不存在（550 5.1.1，服务器原文：Mailbox unavailable）"
    )
    assert {e.status for e in summary.errors} == {"failed", "sent"}
    assert sorted(server.message_ids()) == sorted(mid(k) for k in keys if k != keys[3])
    by_id = {r.message_id: r for r in server.received}
    assert by_id[mid(keys[4])].rcpt_tos == ("unit4@units.example.cn",)
    # a permanent failure is not retried
    assert deliver_pending(db, config, now + timedelta(days=1)).total == 0


def test_a_recipient_greylisted_with_4xx_gets_the_same_mail_later_exactly_once(
    db, now, tmp_path, server
):
    config = write_config(tmp_path, smtp_toml(server))
    both = ["unit1@units.example.cn", "slow@units.example.cn", "gone@units.example.cn"]
    [key] = queue(db, now, 1, recipients=lambda i: both)
    server.refuse("slow@units.example.cn", "450 4.2.0 Greylisted, try later")
    server.refuse("gone@units.example.cn")  # 550: permanent, not resent

    first = deliver_pending(db, config, now)

    assert (first.sent, first.failed) == (1, 0)
    stored = rows(db)
    assert stored[key].state == "sent" and f"{key}+resend1" in stored[key].last_error
    resend = stored[f"{key}+resend1"]
    assert resend.state == "pending" and resend.recipients == ["slow@units.example.cn"]
    assert resend.attempts == 0 and "450" in resend.last_error
    assert deliver_pending(db, config, now).total == 0  # backs off like any retry

    server.reset_failures()
    later = deliver_pending(db, config, now + timedelta(minutes=1))

    assert later.sent == 1
    assert rows(db)[f"{key}+resend1"].state == "sent"
    assert [(r.message_id, r.rcpt_tos) for r in server.received] == [
        (mid(key), ("unit1@units.example.cn",)),
        (mid(key), ("slow@units.example.cn",)),  # the same mail, the same Message-ID
    ]
    assert deliver_pending(db, config, now + timedelta(days=1)).total == 0


def test_a_resend_refused_again_retries_then_fails_like_any_row(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server, notify="max_attempts = 2"))
    [key] = queue(db, now, 1, recipients=lambda i: ["a@units.example.cn", "b@units.example.cn"])
    server.refuse("b@units.example.cn", "452 4.2.2 Mailbox full")
    deliver_pending(db, config, now)

    assert deliver_pending(db, config, now + timedelta(minutes=1)).retried == 1
    last = deliver_pending(db, config, now + timedelta(minutes=10))

    assert last.failed == 1
    stored = rows(db)
    assert (
        stored[f"{key}+resend1"].state == "failed" and "452" in stored[f"{key}+resend1"].last_error
    )
    assert len(stored) == 2  # a whole-message refusal queues no further resend
    assert [r.rcpt_tos for r in server.received] == [("a@units.example.cn",)]


def test_unrenderable_or_unaddressable_rows_fail_alone(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server))
    good = queue(db, now, 3)
    broken = queue(db, now, 1, start=10, context=lambda i: {"office": "x", "unit": "y"})
    no_address = queue(db, now, 1, start=20, recipients=lambda i: ["not an address"])

    summary = deliver_pending(db, config, now)

    assert (summary.sent, summary.failed) == (3, 2)
    stored = rows(db)
    assert stored[broken[0]].state == "failed"
    assert "无法生成邮件" in stored[broken[0]].last_error
    assert "items" in stored[broken[0]].last_error
    assert stored[no_address[0]].state == "failed"
    assert "收件人" in stored[no_address[0]].last_error
    assert sorted(server.message_ids()) == sorted(mid(k) for k in good)


def test_office_template_override_is_used(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server))
    templates = config.config_dir / "templates"
    templates.mkdir()
    (templates / "reminder.subject.txt").write_text(
        "【自定义】{{ unit }}有{{ counts.total }}项待办"
    )
    queue(db, now, 1)

    deliver_pending(db, config, now)

    assert server.received[0].subject == "【自定义】政法科0有1项待办"


def test_an_office_template_breaking_on_one_row_stops_the_run_there(db, now, tmp_path, server):
    """The mails before it go out once; it and the rest stay queued, nothing used up."""
    config = write_config(tmp_path, smtp_toml(server, concurrency=1))
    templates = config.config_dir / "templates"
    templates.mkdir()
    (templates / "reminder.subject.txt").write_text(
        "{{ unit }}：{{ 10 // items[0].working_days }}"  # breaks when an item is due today
    )

    def context(i):
        ctx = reminder_context(i)
        ctx["items"][0]["working_days"] = 0 if i == 5 else 3
        return ctx

    keys = queue(db, now, 10, context=context)

    with pytest.raises(ConfigError) as caught:
        deliver_pending(db, config, now)

    assert "reminder.subject.txt" in caught.value.message
    assert sorted(server.message_ids()) == sorted(mid(k) for k in keys[:5])
    stored = rows(db)
    assert [stored[k].state for k in keys] == ["sent"] * 5 + ["pending"] * 5
    assert all(stored[k].attempts == 0 for k in keys[5:])


def test_limit_sends_only_that_many(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server))
    queue(db, now, 10)
    assert deliver_pending(db, config, now, limit=4).sent == 4
    assert len(server.received) == 4
    assert deliver_pending(db, config, now).sent == 6
    assert len(set(server.message_ids())) == 10


def test_two_senders_at_once_never_send_a_row_twice(db, now, tmp_path, server):
    config = write_config(tmp_path, smtp_toml(server, concurrency=2))
    keys = queue(db, now, 300)
    outbox_chunk = delivery.CHUNK
    delivery.CHUNK = 25  # many claims, so the two senders interleave
    results, errors = [], []

    def run():
        try:
            results.append(deliver_pending(db, config, now))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        delivery.CHUNK = outbox_chunk

    assert errors == []
    assert sum(r.sent for r in results) == 300
    assert Counter(server.message_ids()) == Counter({mid(k): 1 for k in keys})
    assert {r.state for r in rows(db).values()} == {"sent"}


def test_claims_are_disjoint(db, now, tmp_path):
    config = write_config(tmp_path, "")
    settings = notify_settings(config)
    queue(db, now, 10)
    first = claims.claim(db, now, 6, settings)
    second = claims.claim(db, now, 6, settings)
    third = claims.claim(db, now, 6, settings)
    assert len(first.rows) == 6 and len(second.rows) == 4 and third is None
    assert not set(first.rows) & set(second.rows)
    assert first.token != second.token
    # a claim is not an attempt: attempts count the mail server's answers
    assert {r.attempts for r in rows(db).values()} == {0}


# ---------------------------------------------------------------- crashes


CRASH_SCRIPT = """
import os, sys
from datetime import datetime
from workflow.config import load_config
from workflow.storage.db import Database
from workflow.outbox.settings import make_sink
from workflow.outbox.delivery import deliver_pending

class DiesAfterFirstSend:
    '''The SMTP sink, but the process dies as the first result arrives: sent, not recorded.'''
    def __init__(self, inner):
        self.inner = inner
    def deliver(self, messages, on_result=None):
        def die(result):
            os._exit(9)
        return self.inner.deliver(messages, die)

config = load_config()
now = datetime.fromisoformat(sys.argv[1])
deliver_pending(Database(config.database_url), config, now, sink=DiesAfterFirstSend(make_sink(config)))
print("not reached")
"""


@pytest.mark.parametrize("concurrency", [1, 4])
def test_process_killed_between_send_and_record(db, now, tmp_path, server, concurrency):
    config = write_config(tmp_path, smtp_toml(server, concurrency=concurrency))
    keys = queue(db, now, 12)
    env = {
        **os.environ,
        "DUBAN_CONFIG_DIR": str(config.config_dir),
        "DUBAN_DATA_DIR": str(config.data_dir),
        "DUBAN_DATABASE_URL": db.url,
        "PYTHONPATH": str(ROOT),
    }

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, now.isoformat()],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert crashed.returncode == 9, crashed.stderr
    sent_before = server.message_ids()
    assert 1 <= len(sent_before) <= concurrency
    stored = rows(db)
    assert {r.state for r in stored.values()} == {"pending"}  # nothing recorded
    # the sender is gone: a restart right away (same clock, its claims 30 minutes from
    # expiring) takes its claims back and sends them, repeating only what was in flight
    senders_gone(db)
    restart = deliver_pending(db, config, now)

    assert restart.sent == 12 and restart.reclaimed == 12
    counts = Counter(server.message_ids())
    assert set(counts) == {mid(k) for k in keys}
    repeated = {m for m, c in counts.items() if c > 1}
    assert repeated == set(sent_before)  # only what was in flight, with the same Message-ID
    assert all(c <= 2 for c in counts.values())
    if concurrency == 1:
        assert len(repeated) == 1 and sent_before == [mid(keys[0])]
    assert {r.state for r in rows(db).values()} == {"sent"}


def test_recording_failure_stops_the_batch_and_repeats_at_most_one(
    db, now, tmp_path, server, monkeypatch
):
    config = write_config(tmp_path, smtp_toml(server, concurrency=1))
    keys = queue(db, now, 5)
    real = claims.record
    calls = {"n": 0}

    def flaky(writer, claimed, row, values, resend=None):
        calls["n"] += 1
        if calls["n"] == 2:  # the second result: the database goes away for a moment
            raise sa.exc.OperationalError("UPDATE notification", {}, Exception("disk I/O error"))
        return real(writer, claimed, row, values, resend)

    monkeypatch.setattr(outcomes, "record", flaky)

    with pytest.raises(DatabaseError, match="disk I/O error"):
        deliver_pending(db, config, now)

    assert server.message_ids() == [mid(keys[0]), mid(keys[1])]
    stored = rows(db)
    assert stored[keys[0]].state == "sent"
    # the unrecorded one and the unsent ones are released as a temporary failure
    assert all(stored[k].state == "pending" for k in keys[1:])
    assert all(stored[k].next_attempt_at == now + timedelta(minutes=1) for k in keys[1:])

    deliver_pending(db, config, now + timedelta(minutes=1))

    counts = Counter(server.message_ids())
    assert counts == Counter({**{mid(k): 1 for k in keys}, mid(keys[1]): 2})
    assert {r.state for r in rows(db).values()} == {"sent"}


def test_a_broken_sink_is_a_delivery_error_and_loses_nothing(db, now, tmp_path):
    config = write_config(tmp_path, "")
    keys = queue(db, now, 3)

    class Broken:
        def deliver(self, messages, on_result=None):
            raise RuntimeError("磁盘已满")

    with pytest.raises(DeliveryError, match="磁盘已满"):
        deliver_pending(db, config, now, sink=Broken())
    # our side broke off, not the mail server: back in the queue, no attempt used up
    assert {(r.state, r.attempts) for r in rows(db).values()} == {("pending", 0)}
    assert all("磁盘已满" in rows(db)[k].last_error for k in keys)


# ---------------------------------------------------------------- dry-run sinks


def test_console_delivery_from_config(db, now, tmp_path, capsys):
    config = write_config(tmp_path, '[notify]\ndelivery = "console"\n')
    assert isinstance(make_sink(config), ConsoleSink)
    keys = queue(db, now, 2)

    summary = deliver_pending(db, config, now)

    out = capsys.readouterr().out
    assert summary.sent == 2
    assert "未发送，仅显示" in out and "第1项：推进政务公开标准化规范化" in out
    assert make_message_id(keys[0], "localhost") in out  # no [smtp]: placeholder sender
    assert {r.state for r in rows(db).values()} == {"sent"}


def test_file_delivery_from_config(db, now, tmp_path):
    config = write_config(
        tmp_path,
        f'[smtp]\nfrom = "{SENDER}"\n[notify]\ndelivery = "file"\ndirectory = "mails"\n',
    )
    sink = make_sink(config)
    assert isinstance(sink, FileSink) and sink.directory == config.data_dir / "mails"
    keys = queue(db, now, 3)

    assert deliver_pending(db, config, now).sent == 3

    files = sorted((config.data_dir / "mails").glob("*.eml"))
    assert len(files) == 3
    from email import message_from_bytes, policy

    mail = message_from_bytes(sink.path_for(keys[1]).read_bytes(), policy=policy.default)
    assert mail["Message-ID"] == mid(keys[1])
    assert mail.get_body(("html",)).get_content().count("第1项") >= 1


def test_delivery_env_override_selects_console(tmp_path):
    config = write_config(
        tmp_path, '[notify]\ndelivery = "file"\n', DUBAN_NOTIFY_DELIVERY="console"
    )
    assert isinstance(make_sink(config), ConsoleSink)


def test_a_slow_batch_keeps_its_claim_so_a_second_sender_sends_nothing_twice(
    db, now, tmp_path, server
):
    """A batch slower than ``claim_minutes`` (30) renews its claim; a ``notify send`` started
    35 minutes in finds nothing due instead of sending the rest a second time."""
    config = write_config(tmp_path, smtp_toml(server, concurrency=1))
    keys = queue(db, now, 6)
    clock = [0.0]  # the first sender's monotonic clock, in seconds
    second: dict[str, object] = {}
    smtp = make_sink(config, now=lambda: now)

    def second_sender() -> None:
        second["summary"] = deliver_pending(db, config, now + timedelta(minutes=35))

    class SlowSink:
        """The real SMTP sink, each result arriving 11 minutes after the last."""

        def deliver(self, messages, on_result=None):
            def slow(result):
                clock[0] += 11 * 60
                on_result(result)
                if len(server.received) == 3:  # 33 minutes in: someone runs notify send
                    worker = threading.Thread(target=second_sender)
                    worker.start()
                    worker.join()

            return smtp.deliver(messages, slow)

    first = deliver_pending(db, config, now, sink=SlowSink(), monotonic=lambda: clock[0])

    assert second["summary"].total == 0
    assert (first.sent, first.skipped) == (6, 0)
    assert sorted(server.message_ids()) == sorted(mid(k) for k in keys)
    assert {r.state for r in rows(db).values()} == {"sent"}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only
def test_a_wrong_password_keeps_everything_queued_until_it_is_fixed(db, now, tmp_path, monkeypatch):
    """535 is the settings' fault, not the rows': nothing is failed or uses up an attempt."""
    with SmtpServer(user="duban", password="right") as server:
        toml = smtp_toml(server, concurrency=2, extra='user = "duban"')
        wrong = write_config(tmp_path, toml, DUBAN_SMTP_PASSWORD="wrong")
        keys = queue(db, now, 30)
        with monkeypatch.context() as patch:
            patch.setattr(delivery, "CHUNK", 10)  # a blocked run stops at its first chunk
            with pytest.raises(MailSettingsError) as err:
                deliver_pending(db, wrong, now)

        message = err.value.message
        assert "认证失败：用户名或密码错误" in message and "（535 5.7.8，" in message
        assert "仍在队列中" in message and "\n" not in message
        stored = rows(db)
        assert {r.state for r in stored.values()} == {"pending"}
        assert {r.attempts for r in stored.values()} == {0}
        assert sum("535" in (r.last_error or "") for r in stored.values()) == 10
        assert all(r.next_attempt_at <= now for r in stored.values())  # due at once after a fix
        assert server.received == [] and server.auth_failures <= 4  # two workers, one chunk

        right = write_config(tmp_path, toml, DUBAN_SMTP_PASSWORD="right")
        assert deliver_pending(db, right, now).sent == 30
        assert sorted(server.message_ids()) == sorted(mid(k) for k in keys)


@pytest.mark.skipif(not os.environ.get("DUBAN_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_a_sender_whose_lock_connection_dies_stops_before_it_could_send_twice(
    db, now, tmp_path, server
):
    """PostgreSQL drops the senders' lock with its connection (a restart, a killed backend).
    The daemon may then release this sender's claims, so the sender stops at once instead of
    sending the rest of its chunk; a later run sends those exactly once."""
    config = write_config(tmp_path, smtp_toml(server, concurrency=1))
    keys = queue(db, now, 6)
    clock = [0.0]
    smtp = make_sink(config, now=lambda: now)

    def kill_the_lock_connection() -> None:  # this schema's senders' lock only: the server
        with db.engine.connect() as conn:  # is shared with other test runs
            key = pglocks.lock_key(conn, "duban-senders") % 2**64  # as pg_locks shows it
            killed = conn.execute(
                sa.text(
                    "select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory'"
                    " and mode = 'ShareLock' and pid <> pg_backend_pid() and objsubid = 1"
                    " and classid = cast(cast(:hi as bigint) as oid)"
                    " and objid = cast(cast(:lo as bigint) as oid)"
                ),
                {"hi": key >> 32, "lo": key & 0xFFFFFFFF},
            ).all()
            conn.commit()
        assert killed == [(True,)]

    class Sink:
        def deliver(self, messages, on_result=None):
            def result_after_two_seconds(result):
                clock[0] += 2
                if len(server.received) == 2:
                    kill_the_lock_connection()
                on_result(result)

            return smtp.deliver(messages, result_after_two_seconds)

    with pytest.raises(DatabaseError, match="发送者锁已失效"):
        deliver_pending(db, config, now, sink=Sink(), monotonic=lambda: clock[0])

    assert len(server.received) == 2
    unsent = [r for r in rows(db).values() if r.state == "pending"]
    assert len(unsent) == 4 and all("发送者锁已失效" in r.last_error for r in unsent)
    assert claims.release_stale_claims(db, now) is not None  # no sender is alive now
    later = now + timedelta(minutes=1)
    deliver_pending(db, config, later)
    assert Counter(server.message_ids()) == Counter({mid(k): 1 for k in keys})

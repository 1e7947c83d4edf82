"""The daemon stops in time (issue 12, item 8), with a real daemon process and a real SMTP server.

On SIGTERM it stops claiming, lets the mail in flight finish, gives back what it has not sent
(due again at once, its attempt returned), releases its lock and exits within
``[notify] stop_timeout``; a send that hangs past that is abandoned and the next daemon releases
its claim at once. Wrong ``[smtp]`` / ``[notify]`` values stop the daemon at start (exit 7).
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from outbox_helpers import queue, rows
from test_exactly_once import GatedServer, Proc, daemon, mid, office_env, wait_until

from workflow.outbox.settings import NotifySettings

ROOT = Path(__file__).resolve().parent.parent


def _config(cli_env: dict[str, str], text: str) -> None:
    path = Path(cli_env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _stopped_within(proc: Proc, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    code = proc.stop()
    return code, time.monotonic() - started


def test_sigterm_finishes_the_mail_in_flight_and_gives_back_the_rest(db, cli_env, now, tmp_path):
    _config(cli_env, "[notify]\nstop_timeout = 20\n")
    keys = queue(db, now, 40)
    with GatedServer(gate_after=10) as server:
        env = office_env(cli_env, server)
        proc = daemon(env, tmp_path / "daemon.log")
        try:
            wait_until(lambda: server.held() == 4, what="4 messages in flight")
            proc.popen.send_signal(15)
            proc.wait_for_log("收到信号 SIGTERM")
            server.open_gate()  # the server answers the mail in flight
            code, took = _stopped_within(proc, 20)
        finally:
            proc.cleanup()
        log = proc.text()
        assert code == 0 and took < 20, log
        assert "守护进程已停止" in log and "强制停止" not in log and "Traceback" not in log
        stored = rows(db)
        sent = {k for k, r in stored.items() if r.state == "sent"}
        waiting = {k: r for k, r in stored.items() if r.state == "pending"}
        assert len(sent) >= 11 and len(sent) + len(waiting) == 40  # nothing lost
        received = set(server.message_ids())
        assert {mid(k) for k in sent} <= received
        for row in waiting.values():  # given back: due at once, no attempt used up
            assert row.attempts == 0 and row.next_attempt_at <= now, row

        # the lock and the claims are free: the next daemon starts and sends the rest, once
        second = daemon(env, tmp_path / "second.log")
        try:
            wait_until(lambda: all(r.state == "sent" for r in rows(db).values()), what="all sent")
            assert second.stop() == 0, second.text()
        finally:
            second.cleanup()
        counts = Counter(server.message_ids())
    assert set(counts) == {mid(k) for k in keys}
    assert all(c == 1 for m, c in counts.items() if m not in set(server.held_ids))


def test_a_send_that_hangs_is_abandoned_after_stop_timeout(db, cli_env, now, tmp_path):
    _config(cli_env, "[notify]\nstop_timeout = 2\n")
    keys = queue(db, now, 20)
    with GatedServer(gate_after=5) as server:
        env = office_env(cli_env, server)
        proc = daemon(env, tmp_path / "daemon.log")
        try:
            wait_until(lambda: server.held() == 4, what="4 messages in flight")
            code, took = _stopped_within(proc, 30)  # the server never answers them
        finally:
            proc.cleanup()
        log = proc.text()
        assert code == 0 and took < 15, log
        assert "2 秒内未能完成" in log and "守护进程已停止" in log and "Traceback" not in log
        server.open_gate()
        second = daemon(env, tmp_path / "second.log")
        try:
            wait_until(lambda: all(r.state == "sent" for r in rows(db).values()), what="all sent")
            assert second.stop() == 0, second.text()
        finally:
            second.cleanup()
        assert {mid(k) for k in keys} == set(server.message_ids())


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[smtp]\nhost = "127.0.0.1"\ntls = "tls1.3"\nfrom = "a <a@b.cn>"\n', "tls"),
        ('[smtp]\nhost = "127.0.0.1"\nport = 70000\nfrom = "a <a@b.cn>"\n', "port"),
        ('[smtp]\nhost = "127.0.0.1"\nfrom = "a <a@b.cn>"\n[notify]\nstop_timeout = 0\n', "stop"),
        ('[notify]\ndelivery = "pigeon"\n', "delivery"),
    ],
)
def test_wrong_mail_settings_stop_the_daemon_at_start(cli_env, toml, words):
    _config(cli_env, toml)
    env = {**os.environ, **cli_env, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "daemon"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 7, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("错误：") and words in last and "Traceback" not in done.stderr


def test_systemd_unit_waits_longer_than_the_daemon_takes_to_stop():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy" / "duban-daemon.service", encoding="utf-8")
    timeout = int(unit["Service"]["TimeoutStopSec"].rstrip("s"))
    assert unit["Service"]["KillSignal"] == "SIGTERM"
    assert timeout > NotifySettings().stop_timeout + 30

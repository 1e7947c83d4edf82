"""The product promise, with real processes: "the daemon, the mail server and the database can
each stop at any moment; after a restart every due notification is delivered exactly once".

The daemon and ``duban notify send`` / ``duban check`` run as subprocesses against a real
database (SQLite file, or a PostgreSQL schema when ``DUBAN_TEST_DATABASE_URL`` is set) and a real
aiosmtpd server on loopback. Clocks are pinned (``DUBAN_NOW``) or read from a file the test
advances; waits are bounded polls, never timing assertions. "Exactly once" is counted by
Message-ID: a message the server accepted while its sender was killed before hearing the 250
may come again, with the same Message-ID, and nothing else may.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from check_helpers import directory, task
from dbsnap import snapshot
from outbox_helpers import DOMAIN, SENDER, queue, rows
from smtp_server import SmtpServer, _Handler
from sqlmodel import select

from notifiers.message import make_message_id
from workflow.storage.models import Notification

ROOT = Path(__file__).resolve().parent.parent
D = date.fromisoformat


def mid(key: str) -> str:
    return make_message_id(key, DOMAIN)


def wait_until(predicate: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds (a bound, not a timing)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


# ---------------------------------------------------------------- a server that holds replies


class _GatedHandler(_Handler):
    """Accepts every message, but after ``gate_after`` of them withholds the 250 reply until the
    gate opens: the message is on the server, its sender has not heard so (the worst moment to
    die)."""

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        s: GatedServer = self.server  # type: ignore[assignment]
        with s._lock:
            held = s.gate_after is not None and len(s._received) > s.gate_after
            if held:
                raw = envelope.original_content or envelope.content
                s.held_ids.append(
                    str(message_from_bytes(raw, policy=email_policy.default)["Message-ID"])
                )
        while held and not s.gate.is_set():
            await asyncio.sleep(0.02)
        return reply


class GatedServer(SmtpServer):
    def __init__(self, gate_after: int | None = None) -> None:
        super().__init__()
        self.gate_after = gate_after
        self.gate = threading.Event()
        self.held_ids: list[str] = []

    def start(self) -> GatedServer:
        if self._controller is None:
            controller = Controller(_GatedHandler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller
        return self

    def open_gate(self) -> None:
        with self._lock:
            self.gate_after = None
        self.gate.set()

    def held(self) -> int:
        with self._lock:
            return len(self.held_ids)


# ---------------------------------------------------------------- processes


def office_env(cli_env: dict[str, str], server: SmtpServer) -> dict[str, str]:
    return {
        **os.environ,
        **cli_env,
        "DUBAN_SMTP_HOST": server.host,
        "DUBAN_SMTP_PORT": str(server.port),
        "DUBAN_SMTP_TLS": "none",
        "DUBAN_SMTP_FROM": SENDER,
        "PYTHONPATH": str(ROOT),
    }


class Proc:
    """A duban subprocess whose stderr goes to a file (read while it runs)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._err = log.open("w", encoding="utf-8")
        self.popen = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for_log(self, words: str, count: int = 1, timeout: float = 60) -> None:
        wait_until(
            lambda: self.text().count(words) >= count or self.popen.poll() is not None,
            timeout,
            f"{words!r} in {self.log.name}",
        )
        assert self.text().count(words) >= count, self.text()

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self) -> int:
        """SIGTERM and the exit code (a clean stop is 0)."""
        self.popen.send_signal(signal.SIGTERM)
        code = self.popen.wait(30)
        self._err.close()
        return code

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        out, _ = self.popen.communicate(timeout=timeout)
        self._err.close()
        return self.popen.returncode, out

    def cleanup(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(30)
        self._err.close()


def daemon(env: dict[str, str], log: Path) -> Proc:
    return Proc(["-m", "cli.main", "daemon"], env, log)


def all_claimed(db) -> bool:
    """Every outbox row is held by a sender's claim (a token on a non-whole second)."""
    due = [r.next_attempt_at for r in rows(db).values()]
    return all(d is not None and d.microsecond != 0 for d in due)


def sent_count(db) -> int:
    return sum(r.state == "sent" for r in rows(db).values())


def assert_once_except(received_ids: list[str], keys: list[str], allowed: set[str]) -> None:
    """Every key arrived; only Message-IDs in ``allowed`` may have arrived twice."""
    counts = Counter(received_ids)
    assert set(counts) == {mid(k) for k in keys}
    repeated = {m for m, c in counts.items() if c > 1}
    assert repeated <= allowed, sorted(repeated - allowed)
    assert max(counts.values()) <= 2


# ---------------------------------------------------------------- (1) daemon killed mid-batch


def test_daemon_killed_mid_batch_restart_delivers_the_rest_once(db, cli_env, now, tmp_path):
    keys = queue(db, now, 40)
    with GatedServer(gate_after=10) as server:
        env = office_env(cli_env, server)  # DUBAN_NOW pinned at 2026-03-02 09:00
        first = daemon(env, tmp_path / "first.log")
        try:
            # 10 answered; one message per connection (4) accepted but still unanswered
            wait_until(lambda: server.held() == 4, what="4 messages in flight")
            first.kill()
        finally:
            first.cleanup()
        in_flight = set(server.held_ids)
        stored = rows(db)
        assert sorted(k for k, r in stored.items() if r.state == "sent") == sorted(
            k for k in keys if mid(k) in set(server.message_ids()) - in_flight
        )
        assert len([r for r in stored.values() if r.state == "sent"]) == 10
        server.open_gate()

        # Same pinned clock: the killed daemon's claims run until 09:30, yet the restarted
        # daemon (the lock is its; no sender is alive) releases them at once.
        second = daemon(env, tmp_path / "second.log")
        try:
            wait_until(lambda: sent_count(db) == 40, what="all 40 sent")
            second.wait_for_log("重新排队发送")
            assert second.stop() == 0, second.text()
        finally:
            second.cleanup()
        received = server.message_ids()
    assert len(received) == 44
    assert_once_except(received, keys, in_flight)
    assert Counter(received)[next(iter(in_flight))] == 2  # in flight: repeated, same Message-ID
    assert "Traceback" not in first.text() + second.text()


# ---------------------------------------------------------------- (2) the mail server stops


LAUNCHER = """
import sys
from datetime import datetime
from pathlib import Path

from workflow.config import load_config
from workflow.daemon.runner import Daemon, configure_logging, every
from workflow.storage.db import Database

clock_file = Path(sys.argv[1])


def clock():
    return datetime.fromisoformat(clock_file.read_text().strip())


configure_logging()
config = load_config()
db = Database(config.database_url)
db.ensure_ready()
Daemon(
    db=db, config=config, clock=clock, check_trigger=every(3600), deliver_trigger=every(0.2)
).serve_forever()
"""


def test_mail_server_down_mid_run_then_back_delivers_everything_once(db, cli_env, now, tmp_path):
    keys = queue(db, now, 40)
    clock_file = tmp_path / "clock.txt"
    clock_file.write_text(now.isoformat())
    with GatedServer(gate_after=10) as server:
        env = office_env(cli_env, server)
        proc = Proc(["-c", LAUNCHER, str(clock_file)], env, tmp_path / "daemon.log")
        try:
            wait_until(lambda: server.held() == 4, what="4 messages in flight")
            in_flight = set(server.held_ids)
            server.down()  # mid-batch: open connections cut, new ones refused
            server.gate_after = None

            def settled(attempts: int) -> bool:
                stored = rows(db).values()
                waiting = [r for r in stored if r.state == "pending"]
                return len(waiting) == 30 and all(
                    r.attempts == attempts and r.last_error for r in waiting
                )

            wait_until(lambda: settled(1), what="30 rows back off after the cut")
            # still down a couple of minutes later: one more attempt each, still nothing lost
            clock_file.write_text((now + timedelta(minutes=2)).isoformat())
            wait_until(lambda: settled(2), what="a second attempt while down")
            assert {r.state for r in rows(db).values()} == {"sent", "pending"}

            server.gate.set()
            server.up()
            clock_file.write_text((now + timedelta(minutes=5)).isoformat())
            wait_until(lambda: sent_count(db) == 40, what="all 40 sent after the server is back")
            assert proc.stop() == 0, proc.text()
        finally:
            proc.cleanup()
        received = server.message_ids()
    assert_once_except(received, keys, in_flight)
    assert len(received) <= 40 + len(in_flight)
    assert "Traceback" not in proc.text()


# ---------------------------------------------------------------- (3) the check killed


KILLED_CHECK = """
import os, signal, sys
from datetime import date

from sqlalchemy.orm import Session

from workflow.chasing.check import check_database, load_calendar
from workflow.dates.clock import now
from workflow.config import load_config
from workflow.storage.db import Database
from workflow.chasing.policy import load_policy


def die(self):
    self.flush()  # every write of the check has reached the database, uncommitted
    print("flushed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


Session.commit = die
config = load_config()
db = Database(config.database_url)
check_database(
    db, date.fromisoformat(sys.argv[1]), calendar=load_calendar(config),
    policy=load_policy(config), now=now(),
)
"""


def test_check_killed_before_commit_leaves_nothing_and_rerun_queues_it_all(db, cli_env, tmp_path):
    with db.session() as s:
        directory(s)
        task(s, "更新政策解读专栏", D("2026-03-05"), "公开科", "法规科")  # reminder (3 days)
        task(s, "报送年度报告", D("2026-02-24"), "公开科", "法规科")  # overdue, escalated
    env = {**os.environ, **cli_env, "PYTHONPATH": str(ROOT)}

    def duban_json(*args: str):
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args, "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    plan = duban_json("check", "--as-of", "2026-03-02", "--dry-run")
    # 2 reminders, 2 overdue notices (caught up: each audience at its own level), the Monday
    # digest carrying the leader's escalation
    assert plan["expired"] and len(plan["queued"]) == 5
    before = snapshot(db.url)

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_CHECK, "2026-03-02"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL and "flushed" in killed.stdout, killed.stderr
    assert snapshot(db.url) == before  # nothing half-written

    done = duban_json("check", "--as-of", "2026-03-02")
    assert done["expired"] == plan["expired"]
    assert [q["key"] for q in done["queued"]] == [q["key"] for q in plan["queued"]]
    with db.session() as s:
        assert len(s.exec(select(Notification)).all()) == len(plan["queued"])
    again = duban_json("check", "--as-of", "2026-03-02")
    assert again["queued"] == [] and again["expired"] == []


# ---------------------------------------------------------------- (4) notify send + daemon


def test_notify_send_by_hand_while_the_daemon_starts_and_runs_no_duplicate(
    db, cli_env, now, tmp_path
):
    keys = queue(db, now, 40)
    with GatedServer(gate_after=10) as server:
        env = office_env(cli_env, server)
        send = Proc(["-m", "cli.main", "notify", "send", "--json"], env, tmp_path / "send.log")
        first = None
        try:
            wait_until(lambda: server.held() == 4, what="notify send mid-batch")
            # The daemon starts while `notify send` holds its claims: it must not take them as
            # a dead sender's (the senders' lock is held), so it sends nothing of them.
            first = daemon(env, tmp_path / "daemon.log")
            first.wait_for_log("投递：")
            assert "重新排队发送" not in first.text()
            assert len(server.received) == 14
            server.open_gate()
            code, out = send.finish()
            assert code == 0, send.text()
            assert json.loads(out)["sent"] == 40
            # a second `notify send` while the daemon runs finds nothing left
            again = Proc(["-m", "cli.main", "notify", "send", "--json"], env, tmp_path / "2.log")
            code, out = again.finish()
            assert code == 0 and json.loads(out)["sent"] == 0
            assert first.stop() == 0, first.text()
        finally:
            send.cleanup()
            if first is not None:
                first.cleanup()
        received = server.message_ids()
    assert Counter(received) == Counter({mid(k): 1 for k in keys})
    assert {r.state for r in rows(db).values()} == {"sent"}
    assert isinstance(now, datetime)


# ---------------------------------------------------------------- (5) crashes use up no attempts


def test_killed_senders_use_up_no_attempts_only_server_answers_count(db, cli_env, now, tmp_path):
    """kill -9 three times mid-send, then one 451 each, with max_attempts = 3: nothing fails
    (attempts count the mail server's answers, not claims), and everything goes out after."""
    from workflow.outbox.claims import release_stale_claims

    config_dir = Path(cli_env["DUBAN_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "duban.toml").write_text("[notify]\nmax_attempts = 3\n", encoding="utf-8")
    keys = queue(db, now, 8)
    with GatedServer(gate_after=0) as server:  # accepts, then withholds every 250
        env = office_env(cli_env, server)
        for round_ in range(3):
            held = server.held()
            send = Proc(["-m", "cli.main", "notify", "send"], env, tmp_path / f"kill{round_}.log")
            try:
                # a message in flight, and it is this sender's: a message of the previous round
                # can still be arriving (the killed sender's other connection) and count as held
                wait_until(
                    lambda: server.held() > held and all_claimed(db),  # noqa: B023
                    what="a message in flight and every row claimed",
                )
                send.kill()
            finally:
                send.cleanup()
            # no sender alive: its claims are freed (on PostgreSQL once the killed process's
            # session has ended and let go of the senders' lock, a moment after the process)
            freed: list[int | None] = []
            wait_until(
                lambda: freed.append(release_stale_claims(db, now)) or freed[-1] is not None,  # noqa: B023
                what="the killed sender's database session to end",
            )
            assert freed[-1] == 8
            assert {(r.state, r.attempts) for r in rows(db).values()} == {("pending", 0)}
        in_flight = set(server.held_ids)
        server.open_gate()
        server.fail_next(8, "451 4.3.0 Try again later")

        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "notify", "send", "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["retried"] == 8
        assert {(r.state, r.attempts) for r in rows(db).values()} == {("pending", 1)}

        later = {**env, "DUBAN_NOW": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")}
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "notify", "send", "--json"],
            cwd=ROOT, env=later, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["sent"] == 8
        received = server.message_ids()
    assert {(r.state, r.attempts) for r in rows(db).values()} == {("sent", 2)}
    counts = Counter(received)
    assert set(counts) == {mid(k) for k in keys}
    # repeats only of what was in flight at a kill (once per kill), always the same Message-ID
    assert {m for m, c in counts.items() if c > 1} <= in_flight
    assert max(counts.values()) <= 4

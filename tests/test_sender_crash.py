"""A sender killed with SIGKILL, with real processes, a real aiosmtpd and a real database.

(1) ``duban notify send`` run by hand after a kill sends the dead sender's claimed mail at once
(no daemon, no 30 minutes of "正由另一个发送进程发送"). (2) Each mail is marked sent as soon as the
server accepts it, so a crash repeats at most the mails then in flight: one per SMTP connection,
each with its Message-ID. The repeats per crash are counted over several kills at random points.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_helpers import queue, rows, senders_gone
from smtp_server import SmtpServer
from test_exactly_once import ROOT, GatedServer, Proc, mid, office_env, wait_until


def send_by_hand(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "notify", "send", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_a_manual_send_after_a_kill_sends_the_dead_senders_mail_at_once(db, cli_env, now, tmp_path):
    keys = queue(db, now, 20)
    with GatedServer(gate_after=5) as server:  # 5 answered, then every 250 withheld
        env = office_env(cli_env, server)  # DUBAN_NOW pinned: the claims run for 30 more minutes
        first = Proc(["-m", "cli.main", "notify", "send"], env, tmp_path / "first.log")
        try:
            wait_until(lambda: server.held() == 4, what="one mail in flight per connection")
            first.kill()
        finally:
            first.cleanup()
        in_flight = set(server.held_ids)
        assert sum(r.state == "sent" for r in rows(db).values()) == 5
        server.open_gate()
        senders_gone(db)

        result = send_by_hand(env)  # same pinned clock, no daemon anywhere

        assert result["reclaimed"] == 15 and result["sent"] == 15, result
        assert result["sending_elsewhere"] == 0
        received = server.message_ids()
    assert {r.state for r in rows(db).values()} == {"sent"}
    counts = Counter(received)
    assert set(counts) == {mid(k) for k in keys}
    assert {m for m, c in counts.items() if c > 1} <= in_flight  # the same Message-ID again
    assert max(counts.values()) == 2


def test_a_manual_send_leaves_a_live_senders_claims_alone(db, cli_env, now, tmp_path):
    """While a sender is alive its claims are its own: a second send takes nothing of them."""
    queue(db, now, 8)
    with GatedServer(gate_after=0) as server:
        env = office_env(cli_env, server)
        first = Proc(["-m", "cli.main", "notify", "send"], env, tmp_path / "first.log")
        try:
            wait_until(lambda: server.held() == 4, what="mails in flight")
            result = send_by_hand(env)
            assert result["reclaimed"] == 0 and result["sent"] == 0
            assert result["sending_elsewhere"] == 8
            server.open_gate()
            code, _ = first.finish()
            assert code == 0, first.text()
        finally:
            first.cleanup()
        counts = Counter(server.message_ids())
    assert len(counts) == 8 and max(counts.values()) == 1


def test_repeats_per_crash_are_at_most_the_mails_in_flight(db, cli_env, now, tmp_path):
    """Kill ``notify send`` five times at random moments (4 SMTP connections), then finish:
    every mail arrives, and each crash repeats at most 4 (those accepted but not yet marked)."""
    concurrency, kills, total = 4, 5, 3000
    keys = queue(db, now, total)
    chance = random.Random(27)
    config_dir = Path(cli_env["DUBAN_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "duban.toml").write_text(
        f"[smtp]\nconcurrency = {concurrency}\n", encoding="utf-8"
    )
    with SmtpServer() as server:
        env = office_env(cli_env, server)
        per_crash = []
        for round_ in range(kills):
            before = len(server.message_ids())
            sent_before = sum(r.state == "sent" for r in rows(db).values())
            senders_gone(db)
            sender = Proc(["-m", "cli.main", "notify", "send"], env, tmp_path / f"k{round_}.log")
            try:
                target = before + chance.randint(50, 300)
                running = sender.popen

                def enough(target: int = target, running=running) -> bool:
                    return len(server.message_ids()) >= target or running.poll() is not None

                wait_until(enough, what="some mail accepted")
                assert sender.popen.poll() is None, sender.text()  # killed while sending
                sender.kill()
            finally:
                sender.cleanup()
            accepted = len(server.message_ids()) - before
            marked = sum(r.state == "sent" for r in rows(db).values()) - sent_before
            per_crash.append(accepted - marked)  # accepted, not marked: will come again
        senders_gone(db)
        assert send_by_hand(env)["sent"] > 0
        received = server.message_ids()
    counts = Counter(received)
    repeats = sum(c - 1 for c in counts.values())
    print(
        f"\n{os.environ.get('DUBAN_TEST_DATABASE_URL') and 'PostgreSQL' or 'SQLite'}: "
        f"{kills} kills, {total} mails, {repeats} repeats; per crash {per_crash}"
    )
    assert set(counts) == {mid(k) for k in keys}
    assert {r.state for r in rows(db).values()} == {"sent"}
    assert all(0 <= n <= concurrency for n in per_crash), per_crash
    # nothing else came twice; a mail the server was still taking in when it was counted after
    # a kill arrives once more than counted, but never more than one per connection and crash
    assert sum(per_crash) <= repeats <= kills * concurrency, (repeats, per_crash)
    assert sum(n > 0 for n in per_crash) >= 1  # the kills did hit mails in flight


def test_a_dead_senders_claims_are_freed_while_another_sender_is_alive(db, cli_env, now, tmp_path):
    """Sender B delivers (its mails held by the server); sender A is killed with its claims;
    only A's are made due again — B's stay B's — and everything arrives, A's in flight twice."""
    from workflow.outbox.claims import release_stale_claims

    keys = queue(db, now, 8)
    with GatedServer(gate_after=0) as server:
        env = office_env(cli_env, server)
        args = ["-m", "cli.main", "notify", "send", "--limit", "4"]
        alive = Proc(args, env, tmp_path / "alive.log")
        dead = None
        try:
            wait_until(lambda: server.held() == 4, what="B's mails in flight")
            dead = Proc(args, env, tmp_path / "dead.log")
            wait_until(lambda: server.held() == 8, what="A's mails in flight")
            dead.kill()
            in_flight = set(server.held_ids[4:])
            freed: list[int | None] = []
            wait_until(  # on PostgreSQL, once the killed client's session has ended
                lambda: freed.append(release_stale_claims(db, now)) or freed[-1] is not None,
                what="A's session to end",
            )
            assert freed[-1] == 4
            due = {k for k, r in rows(db).items() if r.next_attempt_at <= now}
            assert {mid(k) for k in due} == in_flight  # exactly A's four, not B's
            server.open_gate()
            code, _ = alive.finish()
            assert code == 0, alive.text()
        finally:
            alive.cleanup()
            if dead is not None:
                dead.cleanup()
        result = send_by_hand(env)
        assert result["sent"] == 4
        counts = Counter(server.message_ids())
    assert set(counts) == {mid(k) for k in keys}
    assert {m for m, c in counts.items() if c > 1} == in_flight
    assert {r.state for r in rows(db).values()} == {"sent"}


@pytest.mark.skipif(not os.environ.get("DUBAN_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_a_dropped_database_connection_does_not_send_a_mail_twice(db, now, tmp_path):
    """PostgreSQL kills the connection the results are written on, twice, mid-run: each result
    is written again on a new connection, the run goes on, every mail goes out once."""
    from outbox_helpers import smtp_toml, write_config

    from workflow.outbox.delivery import deliver_pending
    from workflow.outbox.settings import make_sink

    keys = queue(db, now, 30)
    with SmtpServer() as server:
        config = write_config(tmp_path, smtp_toml(server, concurrency=2))
        smtp = make_sink(config, now=lambda: now)
        killed: list[int] = []

        pids: list[int] = []  # this engine's connections only: the server is shared
        db.engine.dispose()
        sa.event.listen(db.engine, "connect", lambda dbapi, _: pids.append(dbapi.info.backend_pid))

        def kill_the_writer() -> None:  # our connections but the senders' lock's and this one
            with db.engine.connect() as conn:
                gone = conn.execute(
                    sa.text(
                        "select pg_terminate_backend(pid) from pg_stat_activity"
                        " where pid = any(:pids) and pid <> pg_backend_pid()"
                        " and pid not in (select pid from pg_locks where locktype = 'advisory')"
                    ),
                    {"pids": pids},
                ).all()
                conn.commit()
            killed.append(len(gone))

        class Sink:
            def deliver(self, messages, on_result=None):
                def result(outcome):
                    if len(server.message_ids()) in (7, 19) and len(killed) < 2:
                        kill_the_writer()
                    on_result(outcome)

                return smtp.deliver(messages, result)

        summary = deliver_pending(db, config, now, sink=Sink())
        counts = Counter(server.message_ids())
    assert killed and all(n >= 1 for n in killed), killed
    assert summary.sent == 30 and summary.errors == [], summary
    assert counts == Counter({mid(k): 1 for k in keys})
    assert {r.state for r in rows(db).values()} == {"sent"}

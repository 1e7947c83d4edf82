"""The daemon: one at a time (SQLite file lock / PostgreSQL advisory lock), jobs, SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from check_helpers import at, directory, task

from workflow.config import load_config
from workflow.daemon.lock import DaemonLock
from workflow.daemon.runner import (
    CHECK_JOB,
    DELIVER_JOB,
    JOBSTORE_TABLE,
    UPKEEP_JOB,
    Daemon,
    every,
)
from workflow.errors import Conflict
from workflow.storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
D = date.fromisoformat


def test_second_lock_refuses_then_standby_takes_over(db):
    first = DaemonLock(Database(db.url))
    second = DaemonLock(Database(db.url), poll_seconds=0.05)
    assert first.acquire()
    with pytest.raises(Conflict, match="另一个 duban 守护进程"):
        second.acquire()
    took_over = threading.Event()

    def standby() -> None:
        if second.acquire(wait=True):
            took_over.set()

    thread = threading.Thread(target=standby)
    thread.start()
    assert not took_over.wait(0.3)  # still held by the first
    first.release()
    assert took_over.wait(10)
    thread.join(10)
    second.release()
    assert first.acquire()  # released cleanly
    first.release()


def test_standby_gives_up_when_stopped(db):
    first, second = DaemonLock(Database(db.url)), DaemonLock(Database(db.url), poll_seconds=0.05)
    first.acquire()
    stop = threading.Event()
    stop.set()
    assert second.acquire(wait=True, stop=stop) is False
    first.release()


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
        "DUBAN_DATABASE_URL": url,
    }


def test_daemon_jobs_in_its_job_store_and_start_up_check(db, tmp_path):
    with db.session() as s:
        directory(s)
        task(s, "任务", D("2026-03-10"), "公开科")
    config = load_config(_env(tmp_path, db.url))
    clock_day = [D("2026-03-05")]
    daemon = Daemon(db=db, config=config, clock=lambda: at(clock_day[0]), deliver=lambda *a: None)
    daemon.check_trigger = every(3600)
    daemon.deliver_trigger = every(3600)
    assert daemon.start()
    try:
        assert [r.job for r in daemon.runs] == ["check", "deliver"]
        assert len(daemon.runs[0].result.queued) == 1  # the 3-working-day reminder
        with db.engine.connect() as conn:
            ids = set(conn.execute(sa.text(f"select id from {JOBSTORE_TABLE}")).scalars())
        assert ids == {CHECK_JOB, DELIVER_JOB, UPKEEP_JOB}
        other = Daemon(
            db=Database(db.url), config=config, clock=lambda: at(clock_day[0]), deliver=print
        )
        with pytest.raises(Conflict):
            other.start()
    finally:
        daemon.stop()
    # a restart replaces the stored jobs rather than adding more, and its start-up check is a no-op
    again = Daemon(db=db, config=config, clock=lambda: at(clock_day[0]), deliver=lambda *a: None)
    again.check_trigger = again.deliver_trigger = every(3600)
    assert again.start()
    try:
        assert again.runs[0].result.queued == []
        with db.engine.connect() as conn:
            count = conn.execute(sa.text(f"select count(*) from {JOBSTORE_TABLE}")).scalar()
        assert count == 3
    finally:
        again.stop()


def test_accelerated_schedule_runs_jobs_and_stops_cleanly(db, tmp_path):
    with db.session() as s:
        directory(s)
        task(s, "任务", D("2026-03-10"), "公开科")
    days = iter(
        [D("2026-03-05"), D("2026-03-09"), D("2026-03-10"), D("2026-03-11")]
        + [D("2026-03-11")] * 1000
    )
    current = [D("2026-03-05")]

    def clock():
        return at(current[0])

    delivered: list[str] = []
    daemon = Daemon(
        db=db,
        config=load_config(_env(tmp_path, db.url)),
        clock=clock,
        deliver=lambda *a: delivered.append("x"),
    )
    original = daemon.run_check_job

    def advancing_check():
        current[0] = next(days)
        return original()

    daemon.run_check_job = advancing_check
    daemon.check_trigger = every(0.2)
    daemon.deliver_trigger = every(0.1)
    assert daemon.start()
    try:
        assert daemon.wait_for(lambda runs: sum(r.job == "check" for r in runs) >= 4, 30)
        assert daemon.wait_for(lambda runs: sum(r.job == "deliver" for r in runs) >= 3, 30)
    finally:
        daemon.stop()
    kinds = [q.kind for r in daemon.runs if r.job == "check" and r.ok for q in r.result.queued]
    assert kinds[:4] == ["reminder", "reminder", "due_today", "overdue"]
    n = len(daemon.runs)
    assert daemon.scheduler is None and len(daemon.runs) == n  # nothing runs after stop


def _spawn(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "daemon"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen, words: str, timeout: float = 60) -> list[str]:
    lines: list[str] = []
    found = threading.Event()

    def reader() -> None:
        for line in proc.stderr:
            lines.append(line)
            if words in line:
                found.set()

    threading.Thread(target=reader, daemon=True).start()
    assert found.wait(timeout), "".join(lines)
    return lines


def test_two_daemon_processes_second_refuses_sigterm_stops(cli_env, tmp_path):
    env = {k: v for k, v in cli_env.items() if k != "DUBAN_TOKEN"}
    env["DUBAN_NOTIFY_DELIVERY"] = "file"  # no SMTP server configured: the daemon would refuse
    first = _spawn(env)
    try:
        lines = _wait_for_line(first, "守护进程启动")
        second = subprocess.run(
            [sys.executable, "-m", "cli.main", "daemon"],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 5, second.stderr
        assert "已有另一个 duban 守护进程" in second.stderr and "Traceback" not in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        assert any("守护进程已停止" in line for line in lines)
    finally:
        if first.poll() is None:
            first.kill()


def test_a_check_that_failed_is_retried_by_the_next_delivery_run(tmp_path):
    """The database is gone at 09:00 (file moved away); the day's reminders are not lost."""
    path = tmp_path / "office.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as s:
        directory(s)
        task(s, "任务", D("2026-03-10"), "公开科")
    config = load_config(_env(tmp_path, db.url))
    clock = [at(D("2026-03-05"))]  # 09:00, 3 working days before the due date
    daemon = Daemon(db=db, config=config, clock=lambda: clock[0], deliver=lambda *a: None)

    db.engine.dispose()
    moved = tmp_path / "away"
    moved.mkdir()
    for f in tmp_path.glob("office.db*"):
        f.rename(moved / f.name)
    failed = daemon.run_check_job()
    assert not failed.ok and daemon.last_check_ok is None
    db.engine.dispose()
    for f in tmp_path.glob("office.db*"):
        f.unlink()  # the empty file SQLite created meanwhile
    for f in moved.iterdir():
        f.rename(tmp_path / f.name)

    clock[0] = at(D("2026-03-05"), 10)
    daemon.run_deliver_job()
    assert [r.job for r in daemon.runs] == ["check", "check", "deliver"]
    assert daemon.runs[1].ok and len(daemon.runs[1].result.queued) == 1
    assert daemon.last_check_ok == D("2026-03-05")
    daemon.run_deliver_job()  # done for today: no further check
    assert [r.job for r in daemon.runs][-1] == "deliver" and len(daemon.runs) == 4
    db.engine.dispose()


@pytest.mark.skipif(not os.environ.get("DUBAN_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_a_lost_postgres_lock_is_taken_again_or_the_daemon_stops(db, tmp_path):
    """The server drops the lock's connection (as in a restart): the daemon takes the lock again;
    if another daemon took it meanwhile, this one stops instead of sending twice."""
    config = load_config(_env(tmp_path, db.url))
    daemon = Daemon(db=db, config=config, clock=lambda: at(D("2026-03-05")), deliver=lambda *a: [])
    assert daemon.lock.acquire()

    def kill_lock_connection() -> None:
        pid = daemon.lock._conn.execute(sa.text("select pg_backend_pid()")).scalar()
        daemon.lock._conn.commit()
        with db.engine.connect() as conn:
            conn.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": pid})

    kill_lock_connection()
    assert daemon.run_deliver_job().ok  # nobody else: the lock is taken again, work goes on
    assert daemon.lock.held() and not daemon.stop_event.is_set()

    kill_lock_connection()
    other = DaemonLock(Database(db.url))
    assert other.acquire()  # a standby takes over while our connection is gone
    run = daemon.run_deliver_job()
    assert not run.ok and daemon.stop_event.is_set() and daemon.lock.lost
    other.release()
    daemon.lock.release()


def test_a_job_due_while_the_daemon_stops_is_skipped_without_a_traceback(caplog):
    """APScheduler 3 shuts its executors before its own thread; a job that falls due in between
    is handed to a stopped pool. The daemon's executor skips it (the next start-up runs both
    jobs) instead of logging ``cannot schedule new futures after shutdown``."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from workflow.daemon.pool import StoppableThreadPool

    ran: list[str] = []
    pool = StoppableThreadPool()
    scheduler = BackgroundScheduler(executors={"default": pool}, timezone="Asia/Shanghai")
    job = scheduler.add_job(ran.append, args=["ran"], id="deliver", name="duban deliver")
    scheduler.start(paused=True)
    try:
        pool.submit_job(job, [job.next_run_time])  # a live pool runs it
        pool.shutdown(wait=True)
        assert ran == ["ran"]
        logger = logging.getLogger("duban.daemon")
        logger.addHandler(caplog.handler)  # "duban" may not propagate once configured
        try:
            with caplog.at_level("INFO", logger="duban.daemon"):
                pool.submit_job(job, [job.next_run_time])  # the race, made deterministic
        finally:
            logger.removeHandler(caplog.handler)
        assert ran == ["ran"]
        assert "跳过本次「duban deliver」" in caplog.text
    finally:
        scheduler.shutdown(wait=False)


def test_apscheduler_errors_land_in_the_daemon_log_with_timestamps():
    from workflow.daemon.runner import configure_logging

    loggers = [logging.getLogger("duban"), logging.getLogger("apscheduler")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    try:
        configure_logging()
        duban, scheduler = loggers
        assert scheduler.handlers == duban.handlers
        assert scheduler.level == logging.WARNING and not scheduler.propagate
    finally:
        for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate


def test_wrong_mail_settings_back_off_instead_of_logging_in_every_few_minutes(db, tmp_path):
    """A wrong SMTP password is tried after 5, 10, 20 … minutes (at most every 4 hours);
    the first good run resets the pace."""
    from datetime import timedelta

    from workflow.errors import MailSettingsError

    start = at(D("2026-03-05"))
    clock = [start]
    attempts: list[object] = []
    broken = [True]

    def deliver(*_args):
        attempts.append(clock[0])
        if broken[0]:
            raise MailSettingsError("SMTP 认证失败（535）：bad credentials")
        return None

    daemon = Daemon(
        db=db, config=load_config(_env(tmp_path, db.url)), clock=lambda: clock[0], deliver=deliver
    )
    for minutes in range(0, 40):  # a delivery run every minute, on the injected clock
        clock[0] = start + timedelta(minutes=minutes)
        daemon.run_deliver_job()
    tried = [int((t - start).total_seconds() // 60) for t in attempts]
    assert tried == [0, 5, 15, 35]  # waits of 5, 10, 20 minutes
    failed = [r for r in daemon.runs if r.job == "deliver" and not r.ok]
    assert len(failed) == 4 and "535" in failed[0].summary and "5 分钟内" in failed[0].summary
    paused = [r for r in daemon.runs if r.job == "deliver" and r.ok]
    assert paused and all("暂停投递" in r.summary for r in paused)

    broken[0] = False
    clock[0] = start + timedelta(minutes=75)
    assert daemon.run_deliver_job().ok
    clock[0] += timedelta(minutes=1)
    daemon.run_deliver_job()
    assert len(attempts) == 6 and daemon.mail_blocked is None  # back to every run

"""The office daemon: APScheduler wiring and the single-daemon lock.

What runs (APScheduler 3.x, ``BackgroundScheduler``; the process's main thread only waits for
SIGTERM/SIGINT):

* ``duban-check``: :func:`workflow.chasing.check.run_check` every day at the policy's time
  (Asia/Shanghai). On a day off it only marks overdue work; on working days it queues reminders,
  overdue notices, escalations, progress requests and, on the digest weekday (or daily), the
  leader digests; what fell due on days off is caught up on the next working day
  (``[check] notify_on_days_off = true``: queue on days off too).
* ``duban-deliver``: :func:`workflow.outbox.delivery.deliver_pending` every few minutes.
* Both once at start-up, so downtime costs nothing: the jobs are idempotent scans of duban's
  own tables (the check catches up, the outbox keeps what was not sent).

The job store is a ``SQLAlchemyJobStore`` in duban's own database (table ``apscheduler_jobs``,
outside alembic's view); jobs use ``coalesce=True, misfire_grace_time=None`` and fixed ids with
``replace_existing=True``, so a restart neither duplicates nor drops them.

Stopping (SIGTERM/SIGINT): the daemon stops claiming, lets the mail in flight finish and gives
back the rows of its batch not yet sent (due again at once, their attempt returned), releases
the lock and exits, all within ``[notify] stop_timeout`` seconds (30). A job still running
after that (a check's transaction, a hung SMTP connection) is abandoned: the process exits, the
database rolls the check back, and the next sender releases the abandoned claims at once (the
senders' lock died with the process). ``deploy/duban-daemon.service`` allows more than that.

Settings are checked at start: a wrong ``[smtp]`` or ``[notify]`` value stops the daemon at once
(:class:`~workflow.errors.ConfigError`, exit code 7) rather than failing every delivery run.

One daemon at a time: two APScheduler 3.x schedulers on one job store run jobs twice. On
PostgreSQL the daemon holds an advisory session lock (:mod:`workflow.storage.pglocks`, keyed by
database and schema) on a dedicated connection for its lifetime — this holds across machines;
on SQLite a ``filelock`` next to the database file. A second daemon refuses to start with a Chinese message
(:class:`~workflow.errors.Conflict`), or with ``standby=True`` waits until the first one stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from workflow.chasing.policy import Policy, load_policy
from workflow.config import Config
from workflow.daemon.lock import DaemonLock
from workflow.daemon.logs import configure_logging, every  # noqa: F401 - the daemon's API
from workflow.dates.clock import SHANGHAI, local_date
from workflow.dates.clock import now as wall_clock
from workflow.errors import DubanError, MailSettingsError
from workflow.storage.db import Database

log = logging.getLogger("duban.daemon")

JOBSTORE_TABLE = "apscheduler_jobs"
CHECK_JOB = "duban-check"
DELIVER_JOB = "duban-deliver"
UPKEEP_JOB = "duban-upkeep"  # heartbeat, scheduled backups, audit retention (issue 30)
_RUNNING: dict[str, Daemon] = {}  # the daemon of this process, for the scheduler's job functions


# ---------------------------------------------------------------- the lock


# ---------------------------------------------------------------- the daemon


@dataclass
class JobRun:
    """What one job run did (kept for logs and tests)."""

    job: str
    as_of: date
    ok: bool
    summary: str
    result: Any = None


@dataclass
class Daemon:
    """The scheduler, its jobs and the lock. ``clock`` is injectable for tests and the demo."""

    db: Database
    config: Config
    policy: Policy | None = None
    calendar: Any = None
    clock: Callable[[], datetime] = wall_clock
    check_trigger: Any = None  # default: daily at policy.check_time, Asia/Shanghai
    deliver_trigger: Any = None  # default: every policy.delivery_interval_minutes
    deliver: Callable[..., Any] | None = None  # default: workflow.outbox.delivery.deliver_pending
    runs: list[JobRun] = field(default_factory=list)
    last_check_ok: date | None = None  # the last day whose check completed

    def __post_init__(self) -> None:
        self.policy = self.policy or load_policy(self.config)
        if self.calendar is None:
            from workflow.chasing.check import load_calendar

            self.calendar = load_calendar(self.config)
        self.lock = DaemonLock(self.db)
        self._check_lock = threading.Lock()  # one check at a time (scheduled, or retried)
        self.stop_event = threading.Event()
        self.changed = threading.Condition()
        self.scheduler: Any = None
        self.mail_blocked: tuple[datetime, int] | None = None  # (paused until, failures in a row)
        self.stop_timeout: float = 30.0  # [notify] stop_timeout, read at start
        self._busy = 0  # jobs running now (under ``changed``)
        self._scheduler_lock = threading.Lock()  # starting vs stopping the scheduler

    @contextmanager
    def _working(self) -> Iterator[None]:
        with self.changed:
            self._busy += 1
        try:
            yield
        finally:
            with self.changed:
                self._busy -= 1
                self.changed.notify_all()

    def check_settings(self) -> None:
        """Refuse to start on wrong ``[notify]`` / ``[smtp]`` values (ConfigError, exit 7)."""
        from workflow.operations.upkeep import check_upkeep_settings
        from workflow.outbox.settings import make_sink, notify_settings
        from workflow.tasks.evidence_fetch import evidence_settings

        self.stop_timeout = float(notify_settings(self.config).stop_timeout)
        check_upkeep_settings(self.config)  # [backup], [audit], [health]
        evidence_settings(self.config)  # [evidence] (issue 31)
        if self.deliver is None:  # the real delivery: its sink's settings must be right
            make_sink(self.config)

    # -- jobs (also called directly)
    def run_check_job(self) -> JobRun:
        if self.stop_event.is_set():
            return self._record(JobRun("check", local_date(self.clock()), True, "正在停止，跳过"))
        if not self._still_the_daemon("check"):
            return self.runs[-1]
        with self._working(), self._check_lock:
            return self._check(self.clock())

    def _still_the_daemon(self, job: str) -> bool:
        """Before each job: the lock must still be ours (see :meth:`DaemonLock.held`)."""
        if self.lock.held():
            return True
        if self.lock.lost:
            log.error("守护进程锁已被另一个守护进程取得，本进程停止以免重复发送")
            self.stop_event.set()
        self._record(JobRun(job, local_date(self.clock()), False, "未持有守护进程锁，本次跳过"))
        return False

    def _check(self, now: datetime) -> JobRun:
        from workflow.chasing.check import check_database

        as_of = local_date(now)
        try:
            report = check_database(
                self.db, as_of, calendar=self.calendar, policy=self.policy, now=now
            )
        except DubanError as exc:
            return self._record(JobRun("check", as_of, False, exc.message))
        except Exception as exc:  # noqa: BLE001 - e.g. the database is down: retried (see below)
            return self._record(JobRun("check", as_of, False, f"每日检查 {as_of} 失败：{exc}"))
        self.last_check_ok = as_of
        counts = {k: v for k, v in report.counts().items() if v}
        summary = f"每日检查 {as_of}：标记逾期 {len(report.expired)} 项，排队通知 {len(report.queued)} 封 {counts or ''}".rstrip()
        for warning in report.warnings:
            log.warning("每日检查 %s：%s", as_of, warning)
        return self._record(JobRun("check", as_of, True, summary, report))

    def run_deliver_job(self) -> JobRun:
        if self.stop_event.is_set():
            return self._record(JobRun("deliver", local_date(self.clock()), True, "正在停止，跳过"))
        if not self._still_the_daemon("deliver"):
            return self.runs[-1]
        with self._working():
            return self._deliver(self.clock())

    def run_upkeep_job(self) -> JobRun:
        """The heartbeat, a due backup, the audit log's retention (workflow/operations/upkeep)."""
        from workflow.operations.upkeep import upkeep

        now = self.clock()
        done = upkeep(self.db, self.config, now)
        evidence = self._check_evidence(now)
        if evidence:
            done = [*done, evidence]
        return JobRun("upkeep", local_date(now), True, "；".join(done) or "心跳")

    def _check_evidence(self, now: datetime) -> str | None:
        """The evidence links due a check (issue 31), bounded: a cap per run and per host,
        and no new fetch after 20 seconds; the rest wait for the next upkeep minute."""
        if self.stop_event.is_set():
            return None
        from workflow.tasks.evidence import run_due_checks

        try:
            result = run_due_checks(self.db, self.config, now, budget=20.0)
        except Exception as exc:  # noqa: BLE001 - never stop the heartbeat for a link check
            log.warning("检查佐证链接时出错（下次再试）：%s", exc)
            return None
        if not result["checked"]:
            return None
        return f"佐证链接检查 {result['checked']} 个，有问题 {result['flagged']} 个"

    def _deliver(self, now: datetime) -> JobRun:
        self._retry_missed_check(now)
        self._release_stale_claims(now)
        paused = self._mail_paused(now)
        if paused is not None:
            return self._record(JobRun("deliver", local_date(now), True, paused))
        try:
            if self.deliver is not None:
                result = self.deliver(self.db, self.config, now)
            else:
                from workflow.outbox.delivery import deliver_pending

                result = deliver_pending(self.db, self.config, now, stop=self.stop_event.is_set)
        except MailSettingsError as exc:
            minutes = self._pause_mail(now)
            message = f"投递失败：{exc.message}（{minutes} 分钟内不再尝试登录）"
            return self._record(JobRun("deliver", local_date(now), False, message))
        except DubanError as exc:
            return self._record(
                JobRun("deliver", local_date(now), False, f"投递失败：{exc.message}")
            )
        self.mail_blocked = None
        return self._record(
            JobRun("deliver", local_date(now), True, f"投递：{_describe(result)}", result)
        )

    def _pause_mail(self, now: datetime) -> int:
        """After wrong SMTP settings: wait one delivery interval, then 2, 4 … up to 4 hours,
        so a wrong password is not tried every few minutes (servers lock accounts for it)."""
        failures = (self.mail_blocked[1] if self.mail_blocked else 0) + 1
        interval = self.policy.delivery_interval_minutes
        minutes = min(interval * 2 ** min(failures - 1, 16), max(240, interval))
        self.mail_blocked = (now + timedelta(minutes=minutes), failures)
        return minutes

    def _mail_paused(self, now: datetime) -> str | None:
        if self.mail_blocked is None or now >= self.mail_blocked[0]:
            return None
        until = self.mail_blocked[0].astimezone(SHANGHAI).strftime("%H:%M")
        return f"SMTP 设置有误，{until} 前暂停投递（修正后可运行 duban notify send 立即发送）"

    def _release_stale_claims(self, now: datetime) -> None:
        """Rows claimed by a sender that died (this daemon killed mid-batch, a ``notify send``
        interrupted) are due again now instead of after ``claim_minutes``; a live sender's
        claims are never released (see :mod:`workflow.outbox.senders`)."""
        try:
            from workflow.outbox.claims import release_stale_claims

            released = release_stale_claims(self.db, now)
        except Exception as exc:  # noqa: BLE001 - the claims then expire on their own
            log.warning("释放已停止的发送进程领取的通知时出错（领取到期后自动释放）：%s", exc)
            return
        if released:
            log.info("%s 封通知由已停止的发送进程领取但未完成，现重新排队发送", released)

    def _retry_missed_check(self, now: datetime) -> None:
        """The daily check runs once a day; if it failed (the database was down at 09:00), every
        delivery run tries it again until it succeeds. The check is idempotent, so this is safe."""
        local = now.astimezone(SHANGHAI)
        if self.last_check_ok == local.date() or local.time() < self.policy.check_time:
            return
        if not self._check_lock.acquire(blocking=False):
            return  # a check is running right now
        try:
            log.info("今天的每日检查尚未成功完成，重新运行")
            self._check(now)
        finally:
            self._check_lock.release()

    def _record(self, run: JobRun) -> JobRun:
        (log.info if run.ok else log.error)(run.summary)
        with self.changed:
            self.runs.append(run)
            self.changed.notify_all()
        return run

    def wait_for(self, predicate: Callable[[list[JobRun]], bool], timeout: float) -> bool:
        """Block until ``predicate(runs)`` holds (tests); False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(list(self.runs)), timeout)

    # -- lifecycle
    def start(self, *, standby: bool = False) -> bool:
        """Take the lock, run both jobs once, start the scheduler. False if stopped while waiting."""
        if not self._begin(standby):
            return False
        self._run_startup()
        return True

    def _begin(self, standby: bool) -> bool:
        """Check the settings and take the lock (raises ConfigError / Conflict)."""
        self.check_settings()
        if not self.lock.acquire(wait=standby, stop=self.stop_event):
            return False
        _RUNNING["daemon"] = self
        log.info(
            "守护进程启动：数据库 %s；每日 %s（上海时间）检查，每 %s 分钟投递，领导汇总%s",
            self.db.safe_url,
            self.policy.check_time.strftime("%H:%M"),
            self.policy.delivery_interval_minutes,
            self.policy.digest_label,
        )
        return True

    def _run_startup(self) -> None:
        """Both jobs once (the catch-up), then the scheduler, unless a stop came meanwhile."""
        try:
            self.run_upkeep_job()
            self.run_check_job()
            self.run_deliver_job()
            with self._scheduler_lock:
                if not self.stop_event.is_set():
                    self.scheduler = self._scheduler()
                    self.scheduler.start()
        except BaseException:
            _RUNNING.pop("daemon", None)
            self.lock.release()
            raise

    def _scheduler(self):
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        from workflow.daemon.pool import StoppableThreadPool

        scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.db.engine, tablename=JOBSTORE_TABLE)
            },
            executors={"default": StoppableThreadPool()},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=SHANGHAI,
        )
        check_trigger = self.check_trigger or CronTrigger(
            hour=self.policy.check_time.hour,
            minute=self.policy.check_time.minute,
            timezone=SHANGHAI,
        )
        deliver_trigger = self.deliver_trigger or IntervalTrigger(
            minutes=self.policy.delivery_interval_minutes, timezone=SHANGHAI
        )
        for job_id, trigger, name in (
            (CHECK_JOB, check_trigger, "check"),
            (DELIVER_JOB, deliver_trigger, "deliver"),
            (UPKEEP_JOB, IntervalTrigger(minutes=1, timezone=SHANGHAI), "upkeep"),
        ):
            scheduler.add_job(
                "workflow.daemon.runner:scheduled_job",
                trigger,
                args=[name],
                id=job_id,
                name=f"duban {name}",
                replace_existing=True,
            )
        return scheduler

    def stop(self) -> bool:
        """Stop: no new jobs or claims, wait up to ``stop_timeout`` for the running job (which
        gives back what it has not sent), release the lock. False if a job was abandoned."""
        self.stop_event.set()
        deadline = time.monotonic() + self.stop_timeout

        def left() -> float:
            return max(deadline - time.monotonic(), 0.0)

        idle = True
        try:
            # the scheduler's shutdown joins its thread, which may wait on the database: bounded
            stopper = threading.Thread(target=self._shutdown_scheduler, daemon=True)
            stopper.start()
            stopper.join(left())
            with self.changed:
                idle = self.changed.wait_for(lambda: self._busy == 0, left())
            idle = idle and not stopper.is_alive()
            if not idle:
                log.warning(
                    "%s 秒内未能完成正在运行的任务，强制停止（检查未提交的部分不会生效；"
                    "未发出的通知由下一个发送进程立即重新排队）",
                    f"{self.stop_timeout:g}",
                )
        finally:
            self.scheduler = None
            if _RUNNING.get("daemon") is self:
                _RUNNING.pop("daemon", None)
            self.lock.release()
            log.info("守护进程已停止")
        return idle

    def _shutdown_scheduler(self) -> None:
        with self._scheduler_lock:
            if self.scheduler is not None and self.scheduler.running:
                self.scheduler.shutdown(wait=False)

    def serve_forever(self, *, standby: bool = False) -> bool:
        """Start, then wait for SIGTERM/SIGINT (``stop_event``) and stop within the timeout.
        False if a job had to be abandoned (the caller then exits without waiting for it)."""
        import signal

        def on_signal(signum, _frame) -> None:
            log.info("收到信号 %s，正在停止…", signal.Signals(signum).name)
            self.stop_event.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            if not self._begin(standby):
                log.info("热备等待期间收到停止信号，未启动")
                return True
            # the start-up catch-up runs beside this thread, so a SIGTERM is heard during it too
            threading.Thread(target=self._startup_in_background, daemon=True).start()
            self.stop_event.wait()
            return self.stop()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _startup_in_background(self) -> None:
        try:
            self._run_startup()
        except Exception:  # noqa: BLE001 - logged; the daemon stops rather than run half-started
            log.exception("守护进程启动时出错，停止运行")
            self.stop_event.set()


def scheduled_job(name: str) -> None:
    """What the scheduler calls (by textual reference, so the job store can persist it)."""
    daemon = _RUNNING.get("daemon")
    if daemon is None:
        log.error("调度任务 %s 触发时守护进程未运行，已跳过", name)
        return
    try:
        if name == "check":
            daemon.run_check_job()
        elif name == "deliver":
            daemon.run_deliver_job()
        elif name == "upkeep":
            daemon.run_upkeep_job()
    except Exception:  # noqa: BLE001 - a failing job must not kill the scheduler; it is logged
        log.exception("调度任务 %s 出错（下次按计划重试）", name)


def _describe(result: Any) -> str:
    if result is None:
        return "无待发通知"
    for attr in ("summary", "to_dict"):
        value = getattr(result, attr, None)
        if callable(value):
            value = value()
        if value is not None:
            return str(value)
    return str(result)

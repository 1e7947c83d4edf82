"""The daemon's job executor: APScheduler's thread pool, made safe to stop at any moment.

APScheduler 3's ``shutdown()`` stops the executors first and the scheduler's own thread last.
A wake-up of that thread in between (likely with a short delivery interval) submits a due job
to a pool that is already shut down, and APScheduler logs ``RuntimeError: cannot schedule new
futures after shutdown`` with a traceback. Nothing is lost by skipping that run (every job is an
idempotent scan and the daemon runs both at start-up), so this executor skips it quietly.

``shutdown`` and ``submit_job`` take the executor's own lock, so a submission either reaches a
live pool (and ``shutdown(wait=True)`` waits for it) or sees the stop and is skipped.
"""

from __future__ import annotations

import logging

from apscheduler.executors.pool import ThreadPoolExecutor

log = logging.getLogger("duban.daemon")


class StoppableThreadPool(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` that drops submissions made after ``shutdown``."""

    def __init__(self, max_workers: int = 2) -> None:
        super().__init__(max_workers)
        self.stopped = False

    def shutdown(self, wait: bool = True) -> None:
        if self._lock is None:  # never started by a scheduler
            self.stopped = True
        else:
            with self._lock:
                self.stopped = True
        super().shutdown(wait)

    def _do_submit_job(self, job, run_times) -> None:
        # called by ``submit_job`` with ``self._lock`` held
        if self.stopped:
            log.info("守护进程正在停止，跳过本次「%s」（下次启动时会先运行一次）", job.name)
            return
        super()._do_submit_job(job, run_times)

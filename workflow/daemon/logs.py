"""The daemon's log lines, and an accelerated trigger for tests and demos."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from workflow.dates.clock import SHANGHAI


def configure_logging(level: int = logging.INFO) -> None:
    """Plain timestamped lines on stderr (journald adds its own metadata)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("duban")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # APScheduler's own warnings and errors go to the same log, timestamped like duban's lines
    scheduler_log = logging.getLogger("apscheduler")
    scheduler_log.handlers[:] = [handler]
    scheduler_log.setLevel(max(level, logging.WARNING))
    scheduler_log.propagate = False


def every(seconds: float):
    """An accelerated interval trigger (tests, demos)."""
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(
        seconds=seconds, start_date=datetime.now(SHANGHAI) + timedelta(seconds=seconds)
    )

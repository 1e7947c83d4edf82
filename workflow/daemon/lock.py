"""One daemon per database: an advisory lock on PostgreSQL (:mod:`workflow.storage.pglocks`), a file
lock on SQLite."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow.errors import Conflict
from workflow.storage import pglocks
from workflow.storage.db import Database

log = logging.getLogger("duban.daemon")

LOCK_NAME = "duban-daemon"


class DaemonLock:
    """Held for the daemon's lifetime; ``acquire(wait=False)`` refuses if another daemon holds it."""

    def __init__(self, db: Database, poll_seconds: float = 5.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._conn: sa.Connection | None = None
        self._file_lock: Any = None
        self.lost = False  # set by held(): another daemon holds the lock now

    @property
    def where(self) -> str:
        return self.db.safe_url

    def acquire(self, wait: bool = False, stop: threading.Event | None = None) -> bool:
        """Take the lock; False only when ``stop`` was set while waiting."""
        stop = stop or threading.Event()
        while True:
            if self._try():
                return True
            if not wait:
                raise Conflict(
                    f"已有另一个 duban 守护进程在使用数据库 {self.where}，本进程不启动"
                    "（同一数据库只能运行一个守护进程；如需热备，请加 --standby 等待其停止）"
                )
            log.info("另一个守护进程正在运行，热备等待中（每 %s 秒重试）", self.poll_seconds)
            if stop.wait(self.poll_seconds):
                return False

    def _try(self) -> bool:
        if self.db.dialect == "postgresql":
            return self._try_pg()
        if self.db.dialect == "sqlite":
            return self._try_file()
        return True

    def _try_pg(self) -> bool:
        if self._conn is None:
            self._conn = self.db.engine.connect()
        got = pglocks.try_session_lock(self._conn, LOCK_NAME)
        self._conn.commit()  # the advisory lock is session-level: it outlives the transaction
        if not got:
            self._conn.close()
            self._conn = None
        return bool(got)

    def held(self) -> bool:
        """Do we still hold the lock? On PostgreSQL the lock lives as long as its connection: if
        the server restarted, the connection is gone and so is the lock. Take it again if nobody
        else did; otherwise the caller must stop, or two daemons would send."""
        if self.db.dialect != "postgresql":
            return self._file_lock is None or self._file_lock.is_locked
        if self._conn is not None:
            try:
                if pglocks.holds_session_lock(self._conn):
                    self._conn.commit()
                    return True
            except sa.exc.DBAPIError:
                log.warning("守护进程锁的数据库连接已断开，尝试重新加锁")
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.close()
            self._conn = None
        try:
            got = self._try_pg()
        except sa.exc.DBAPIError:
            self._conn = None
            return False  # the database is still down: hold off this run, try again next time
        self.lost = not got  # reachable, and the lock is another daemon's now
        return got

    def lock_path(self) -> Path | None:
        path = sa.engine.make_url(self.db.url).database
        if not path or path == ":memory:":
            return None
        return Path(path).expanduser().resolve().with_name(Path(path).name + ".daemon.lock")

    def _try_file(self) -> bool:
        from filelock import FileLock, Timeout

        path = self.lock_path()
        if path is None:
            return True
        if self._file_lock is None:
            self._file_lock = FileLock(str(path), thread_local=False)
        try:
            self._file_lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                pglocks.session_unlock(self._conn, LOCK_NAME)
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._file_lock is not None and self._file_lock.is_locked:
            self._file_lock.release()

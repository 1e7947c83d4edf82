"""Engine, session scope and schema migrations (alembic).

``Database(url)`` is cheap to create; the CLI makes one per process, tests one per test. The
schema is owned by alembic: ``init()`` and ``upgrade()`` run the migrations shipped in
``workflow/migrations``. APScheduler's job table lives in the same database but outside
alembic's view (see ``migrations/env.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from workflow.errors import DatabaseError
from workflow.storage.db_reasons import database_reason
from workflow.storage.schema import SCHEMA_HEAD

if TYPE_CHECKING:  # the ORM costs ~0.4 s to import: read paths on Core never load it
    from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).parent.parent / "migrations"
__all__ = ["SCHEMA_HEAD", "Database", "database_reason", "make_engine"]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Foreign keys on; WAL so the daemon and the CLI read and write the same file side by side;
    synchronous=NORMAL is durable across process crashes in WAL mode (the outbox commits one
    row at a time, ~0.1 ms each instead of ~10 ms). A page cache of up to 64 MB (SQLite's
    default is 2 MB): a check catching up on a late-year backlog writes several hundred
    thousand rows into indexes far bigger than 2 MB, in no order those indexes keep, and
    re-read their pages from the file for every few rows."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600), in a 0700 directory when duban
    makes the directory: the database holds token hashes, names and addresses. SQLite gives its
    -wal and -shm files the database file's mode."""
    path = path.expanduser()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    path.chmod(0o600)


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:" and not path.startswith("file:"):
            create_private_file(Path(path))
        engine = sa.create_engine(url, connect_args={"timeout": 10})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


class Database:
    """One database: an engine plus the session scope everything uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on any exception."""
        from sqlmodel import Session as SQLModelSession

        session = SQLModelSession(self.engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # -- schema ------------------------------------------------------------------------------
    def _alembic_config(self):
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        return cfg

    def current_revision(self) -> str | None:
        """The schema version recorded in the database (None for an empty database)."""
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.OperationalError as exc:
            raise DatabaseError(f"无法连接数据库 {self.safe_url}：{database_reason(exc)}") from None

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Bring the schema up to ``revision``; returns (before, after)."""
        from alembic import command

        before = self.current_revision()
        cfg = self._alembic_config()
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        return before, self.current_revision()

    def ensure_ready(self) -> None:
        """Refuse to work on a database that was never initialised or is behind the code."""
        current = self.current_revision()
        if current is None:
            raise DatabaseError(f"数据库 {self.safe_url} 尚未初始化，请先运行 duban init")
        if current != SCHEMA_HEAD:
            raise DatabaseError(
                f"数据库 {self.safe_url} 的结构版本（{current}）落后于程序，请先运行 duban db upgrade"
            )

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

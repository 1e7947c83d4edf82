"""The read paths' connection: one SQL text, run on sqlite3 directly or through the engine.

Why not always the engine: importing SQLAlchemy costs ~0.15 s, half of what ``duban task list
--json`` over 10,000 assignments may take as a whole process (issue 18: < 0.3 s). So on the
embedded SQLite database a read path opens the file with the standard library's ``sqlite3``
and never imports SQLAlchemy. Everywhere else (PostgreSQL, an unusual SQLite URL, a file that
is missing, not initialised or behind the code) it goes through :class:`workflow.storage.db.Database`,
which also says in Chinese what is wrong.

Both run the same SQL text with named ``:params`` (the style sqlite3 and SQLAlchemy's
``text()`` share), so each query is written once. Rows come back as tuples; a date column is
``'YYYY-MM-DD'`` text on SQLite and a ``date`` on PostgreSQL (:func:`iso`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from workflow.errors import DatabaseError
from workflow.storage.db_reasons import database_reason
from workflow.storage.schema import SCHEMA_HEAD

_SQLITE_PREFIX = "sqlite:///"


class Reader:
    """Run read-only SQL and get tuples back; ``session()`` for the rare path that needs more."""

    dialect: str

    def rows(self, sql: str, **params: Any) -> Sequence[tuple]:
        raise NotImplementedError

    def first(self, sql: str, **params: Any) -> tuple | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    @contextmanager
    def session(self) -> Iterator[Any]:
        """An ORM session on the same database (name resolution with aliases, its errors)."""
        raise NotImplementedError
        yield


def _sqlite_params(params: dict[str, Any]) -> dict[str, Any]:
    """Dates as the ISO text SQLAlchemy stores them as on SQLite."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}


def iso(value: date | str) -> str:
    """A date column as ``YYYY-MM-DD`` whichever database it came from."""
    return value if value.__class__ is str else value.isoformat()


# -- pages of a list (issue 32) ---------------------------------------------------------------
DEFAULT_PAGE = 200  # rows a list answers when no ``limit`` is asked for
MAX_PAGE = 5000  # the most rows one answer holds (``--all`` asks for pages of this size)


class Page(list):
    """One page of a list: its rows, and ``next``, the opaque cursor of the rest (None at the
    end). It encodes as the plain list of its rows; the API puts ``next`` beside ``result``."""

    next: str | None = None

    def __init__(self, rows: Sequence[Any] = (), next: str | None = None) -> None:
        super().__init__(rows)
        self.next = next


def page_limit(limit: int | None) -> int:
    """``limit`` checked (1…MAX_PAGE); DEFAULT_PAGE when none is given."""
    if limit is None:
        return DEFAULT_PAGE
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        from workflow.errors import InvalidInput

        raise InvalidInput(f"参数 limit 应为 1 到 {MAX_PAGE} 之间的整数：{limit!r}")
    return limit


class SqliteReader(Reader):
    dialect = "sqlite"

    def __init__(self, con: sqlite3.Connection, url: str) -> None:
        self.con = con
        self.url = url

    def rows(self, sql: str, **params: Any) -> Sequence[tuple]:
        try:
            return self.con.execute(sql, _sqlite_params(params)).fetchall()
        except sqlite3.OperationalError as exc:  # locked past the timeout, disk errors
            raise DatabaseError(f"读取数据库失败：{database_reason(exc)}") from None

    @contextmanager
    def session(self) -> Iterator[Any]:
        from workflow.storage.db import Database

        db = Database(self.url)
        try:
            with db.session() as session:
                yield session
        finally:
            db.engine.dispose()


class CoreReader(Reader):
    """The same SQL through a SQLAlchemy connection (a session's, or the engine's)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def rows(self, sql: str, **params: Any) -> Sequence[tuple]:
        import sqlalchemy as sa

        if self.dialect == "sqlite":
            params = _sqlite_params(params)
        return self.conn.execute(sa.text(sql), params).all()  # Rows unpack like tuples

    @contextmanager
    def session(self) -> Iterator[Any]:
        from sqlmodel import Session

        with Session(bind=self.conn) as session:
            yield session


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for anything else (options, memory)."""
    if not url.startswith(_SQLITE_PREFIX) or "?" in url:
        return None
    path = url[len(_SQLITE_PREFIX) :]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).expanduser()


def _ready_sqlite(url: str) -> sqlite3.Connection | None:
    """The file opened with sqlite3 when it is there and at the code's schema, else None."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        con = sqlite3.connect(path, timeout=10)
    except sqlite3.Error:
        return None
    try:
        con.execute("PRAGMA busy_timeout=10000")
        version = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        con.close()
        return None
    if version is None or version[0] != SCHEMA_HEAD:
        con.close()
        return None
    return con


@contextmanager
def open_reader(url: str) -> Iterator[Reader]:
    """A reader on the database at ``url``, checked to be initialised and up to date."""
    con = _ready_sqlite(url)
    if con is not None:
        try:
            yield SqliteReader(con, url)
        finally:
            con.close()
        return
    from workflow.storage.db import Database

    db = Database(url)
    db.ensure_ready()  # the Chinese message for a missing, empty or old database
    with db.engine.connect() as conn:
        yield CoreReader(conn)

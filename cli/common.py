"""What every command needs: one call to an operation (locally, or over HTTP in client mode),
settings, the local read path. No business logic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click


def load():
    """(config, database) for this process, checked to be initialised and up to date."""
    from workflow.config import load_config
    from workflow.storage.db import Database

    config = load_config()
    db = Database(config.database_url)
    db.ensure_ready()
    return config, db


def desk_check(config) -> None:
    """A desk with no server and no database is told to log in to the server, never to run
    ``duban init`` (which would make a private database on a unit's PC)."""
    from workflow.config import DESK_NOT_SET_UP, database_chosen
    from workflow.errors import DatabaseError

    if not database_chosen(config):
        raise DatabaseError(DESK_NOT_SET_UP)


@contextmanager
def reading() -> Iterator[tuple[object, object]]:
    """(reader, caller) for read paths: plain SQL, on SQLite without importing SQLAlchemy."""
    from workflow.config import load_config, saved_token
    from workflow.directory.callers import authenticate_reader
    from workflow.storage.reading import open_reader

    config = load_config()
    desk_check(config)
    with open_reader(config.database_url) as reader:
        yield reader, authenticate_reader(reader, saved_token(config))


def call(name: str, /, _local: dict[str, Any] | None = None, **params: Any) -> Any:
    """Run operation ``name`` (see ``workflow/calls/table.py``) and return its plain JSON data.

    With a server configured (``duban login --server`` or ``DUBAN_SERVER``) this is one HTTP
    request and no database code is imported; otherwise the same ``workflow`` function runs
    here on this machine's database. ``_local`` holds callbacks (a progress bar) that only a
    local run can use.
    """
    from cli import client

    remote = client.settings()
    if remote is not None:
        return remote.call(name, params)
    from workflow.calls.runner import run
    from workflow.config import load_config, saved_token

    config = load_config()

    def database():
        from workflow.storage.db import Database

        desk_check(config)
        db = Database(config.database_url)
        db.ensure_ready()
        return db

    return run(
        name, params, config=config, database=database, token=saved_token(config), extras=_local
    )


def local_only(command: str) -> None:
    """Refuse a command that only makes sense on the server machine when this is a client."""
    from cli import client
    from workflow.errors import InvalidInput

    remote = client.settings()
    if remote is not None:
        raise InvalidInput(
            f"{command} 只能在服务器本机运行（当前为客户端模式，服务器 {remote.url}）"
        )


def date_arg(value: str | None, what: str = "日期") -> date | None:
    from workflow.dates.clock import parse_date

    return None if value is None else parse_date(value, what)


def as_of_option(func):
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="YYYY-MM-DD",
        help="按此日期计算（默认今天，上海时间）",
    )(func)

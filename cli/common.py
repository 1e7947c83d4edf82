"""What every command needs: settings, the database, the caller. No business logic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import click


@dataclass
class Context:
    config: object  # workflow.config.Config
    db: object  # workflow.db.Database
    session: object  # sqlalchemy Session
    caller: object  # workflow.directory.roles.Caller


def load():
    """(config, database) for this process, checked to be initialised and up to date."""
    from workflow.config import load_config
    from workflow.db import Database

    config = load_config()
    db = Database(config.database_url)
    db.ensure_ready()
    return config, db


@contextmanager
def acting() -> Iterator[Context]:
    """A session (committed when the command succeeds) and the authenticated caller."""
    from workflow.config import saved_token
    from workflow.directory.tokens import authenticate

    config, db = load()
    with db.session() as session:
        caller = authenticate(session, saved_token(config))
        yield Context(config=config, db=db, session=session, caller=caller)


@contextmanager
def reading() -> Iterator[tuple[object, object]]:
    """(connection, caller) for read paths on SQLAlchemy Core: no ORM, no models imported."""
    from workflow.config import saved_token
    from workflow.directory.callers import authenticate_connection

    config, db = load()
    with db.engine.connect() as conn:
        caller = authenticate_connection(conn, saved_token(config))
        yield conn, caller


def date_arg(value: str | None, what: str = "日期") -> date | None:
    from workflow.clock import parse_date

    return None if value is None else parse_date(value, what)


def as_of_option(func):
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="YYYY-MM-DD",
        help="按此日期计算（默认今天，上海时间）",
    )(func)


def resolve_as_of(value: str | None) -> date:
    from workflow.clock import parse_date, today

    return today() if value is None else parse_date(value, "--as-of 日期")

"""Creating and upgrading the database, logging in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workflow.audit.record import operation_audit, record
from workflow.config import Config, load_config, save_token
from workflow.dates import clock
from workflow.directory.roles import Caller
from workflow.directory.tokens import authenticate, create_office_token
from workflow.storage.db import Database


@dataclass(frozen=True)
class InitResult:
    token: str
    database: str


def initialize(config: Config | None = None, now: datetime | None = None) -> InitResult:
    """Create (or upgrade) the schema and the first office token."""
    config = config or load_config()
    db = Database(config.database_url)
    db.upgrade()
    with db.session() as session:
        token = create_office_token(session, now or clock.now())
    record(
        db,
        Caller.system("duban init"),
        "token.issue",
        now or clock.now(),
        door="cli",
        target="办公室",
    )
    return InitResult(token=token, database=db.safe_url)


def upgrade_database(config: Config | None = None) -> tuple[str | None, str | None, str]:
    config = config or load_config()
    db = Database(config.database_url)
    before, after = db.upgrade()
    return before, after, db.safe_url


def login(token: str, config: Config | None = None) -> tuple[Caller, Path]:
    """Check the token against the database, then save it in the user's config directory."""
    config = config or load_config()
    db = Database(config.database_url)
    db.ensure_ready()
    seen: dict = {}
    with (
        operation_audit(lambda: db, "login", {}, clock.now(), address=None, seen=seen),
        db.session() as session,
    ):
        caller = seen["caller"] = authenticate(session, token)
    return caller, save_token(config, token.strip())

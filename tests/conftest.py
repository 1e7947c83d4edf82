"""Shared fixtures: a real database per test, fixed clocks, a CLI runner with its own config.

The database is a SQLite file in the test's tmp dir, or, when ``DUBAN_TEST_DATABASE_URL`` is
set, a fresh schema on that PostgreSQL server (``search_path`` carried in the URL, so the CLI,
the library and the daemon all see the same schema and parallel runs never collide).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.storage.db import Database

PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL")


def pytest_report_header(config) -> str:
    return f"duban database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (tmp files)'}"


def pytest_sessionstart(session) -> None:
    if not PG_URL:
        return
    try:
        with sa.create_engine(PG_URL).connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure here must stop the run loudly
        pytest.exit(
            f"DUBAN_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", returncode=3
        )


def _pg_schema_url(schema: str) -> str:
    url = sa.engine.make_url(PG_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@contextmanager
def fresh_database(tmp: Path, prefix: str = "t") -> Iterator[str]:
    """A URL of an empty database: a SQLite file in ``tmp``, or a fresh schema on the test
    PostgreSQL (dropped afterwards)."""
    if not PG_URL:
        yield f"sqlite:///{tmp / 'duban.db'}"
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database that only this test uses."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.engine.dispose()


@pytest.fixture
def now() -> datetime:
    """A fixed instant: Monday 2026-03-02 09:00 in Shanghai."""
    return datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def office() -> Caller:
    return Caller(role="office", name="办公室")


def unit_caller(unit) -> Caller:
    return Caller(role="unit", name=unit.name, unit_id=unit.id)


class Cli:
    """Runs ``duban`` in-process with its own config dir, data dir and database."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, token: str | None = None, input: str | None = None) -> Result:
        from cli.main import cli

        env = dict(self.env)
        if token is not None:
            env["DUBAN_TOKEN"] = token
        return self.runner.invoke(
            cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False
        )

    def ok(self, *args: str, token: str | None = None) -> Result:
        result = self(*args, token=token)
        assert result.exit_code == 0, (
            f"duban {' '.join(map(str, args))} failed:\n{result.output}\n{result.stderr}"
        )
        return result

    def json(self, *args: str, token: str | None = None):
        import json

        return json.loads(self.ok(*args, "--json", token=token).stdout)


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """Environment of an initialised office: DUBAN_TOKEN is the office token."""
    env = {
        "DUBAN_CONFIG_DIR": str(tmp_path / "config"),
        "DUBAN_DATA_DIR": str(tmp_path / "data"),
        "DUBAN_DATABASE_URL": database_url,
        "DUBAN_TOKEN": "",
        "DUBAN_SERVER": "",  # local mode unless a test says otherwise
        "DUBAN_NOW": "2026-03-02T09:00",
    }
    result = Cli(env).json("init")
    env["DUBAN_TOKEN"] = result["token"]
    return env


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "local_only: a CLI test that makes sense on the database's machine only"
    )


@pytest.fixture(params=["local", "http"])
def duban(request, cli_env: dict[str, str]) -> Iterator[Cli]:
    """``duban(...)`` runs a command as the office; ``token=`` acts as someone else.

    Every test using it runs twice: on the embedded database (``local``), and as a client of a
    real HTTP server on a free loopback port (``http``: the server app on uvicorn in a thread,
    over the same database), so every command is proven over HTTP.
    """
    if request.param == "local":
        yield Cli(cli_env)
        return
    if request.node.get_closest_marker("local_only"):
        pytest.skip("runs on the database's machine only")
    from live_server import ThreadServer

    server = ThreadServer(cli_env)
    try:
        yield Cli({**cli_env, "DUBAN_SERVER": server.url})
    finally:
        server.stop()


@pytest.fixture
def office_db(cli_env: dict[str, str]) -> Iterator[Database]:
    """The database the ``duban`` fixture's commands use, for setting up and checking rows."""
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    yield db
    db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per browser test module (see tests/browser.py). Not per session:
    Playwright's sync API keeps an event loop running in the main thread while it is started,
    and the tests after a browser module run in-process senders that refuse to run inside one."""
    from browser import launch

    pw, chromium = launch()
    yield chromium
    chromium.close()
    pw.stop()

"""A unit's ``duban task list`` over HTTP (client mode) against the same command on the local
database, each as a whole process, end to end.

    .venv/bin/python bench/bench_client.py [--runs 10] [--units 40] [--tasks 30]

Starts a real ``duban serve`` on a free loopback port over a throwaway database (``--units``
units, ``--tasks`` tasks each assigned to every unit), issues one unit's token, then times
``duban task list`` as that unit: locally (the old way: SQLAlchemy + SQLModel + the query in
the process) and as a client of the server (httpx, no database code). The target is < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_startup import _duban, _time  # noqa: E402


def _prepare(env: dict[str, str], units: int, tasks: int) -> str:
    """The database with the work plan; returns the first unit's token."""
    from workflow.config import load_config
    from workflow.dates.clock import SHANGHAI
    from workflow.directory.roles import Caller
    from workflow.directory.setup import initialize
    from workflow.directory.tokens import issue_token
    from workflow.directory.units import add_unit
    from workflow.storage.db import Database
    from workflow.tasks.assignments import add_task

    config = load_config(env)
    initialize(config)
    db = Database(config.database_url)
    office = Caller("office", "办公室")
    now = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
    with db.session() as s:
        names = [add_unit(s, office, f"第{i}科", now).name for i in range(units)]
        for i in range(tasks):
            add_task(s, office, f"任务{i}", names, date(2026, 3 + i % 9, 28), now)
        token = issue_token(s, office, names[0], now)
    db.engine.dispose()
    return token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=30)
    args = parser.parse_args()
    from live_server import serve

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DUBAN_CONFIG_DIR=f"{tmp}/c", DUBAN_DATA_DIR=f"{tmp}/d")
        env.pop("DUBAN_DATABASE_URL", None)
        env.pop("DUBAN_SERVER", None)
        token = _prepare(env, args.units, args.tasks)
        print(
            f"{args.units} units × {args.tasks} tasks = {args.units * args.tasks} assignments; "
            f"one unit's list has {args.tasks} rows"
        )
        local_env = dict(env, DUBAN_TOKEN=token, DUBAN_SERVER="")
        with serve(
            {k: env[k] for k in ("DUBAN_CONFIG_DIR", "DUBAN_DATA_DIR")}, Path(tmp, "log")
        ) as url:
            desk = dict(
                os.environ, DUBAN_CONFIG_DIR=f"{tmp}/desk", DUBAN_DATA_DIR=f"{tmp}/desk-data",
                DUBAN_SERVER=url, DUBAN_TOKEN=token,
            )  # fmt: skip
            desk.pop("DUBAN_DATABASE_URL", None)
            cmd = [_duban(), "task", "list"]
            subprocess.run(cmd, env=desk, check=True, capture_output=True)  # warm the server
            results = [
                ("local database (before)", _time(cmd, local_env, args.runs)),
                ("over HTTP, client mode", _time(cmd, desk, args.runs)),
            ]
            started = time.perf_counter()
            for _ in range(args.runs):
                import httpx

                httpx.get(
                    f"{url}/api/v1/assignments", headers={"Authorization": f"Bearer {token}"}
                ).raise_for_status()
            request_ms = (time.perf_counter() - started) / args.runs * 1000
    for label, (walls, cpus) in results:
        print(
            f"duban task list, {label:26s} wall median {statistics.median(walls) * 1000:7.1f} ms"
            f"  best {min(walls) * 1000:7.1f} ms   CPU median {statistics.median(cpus) * 1000:6.1f} ms"
            f"   ({args.runs} runs)"
        )
    print(f"the request alone (GET /api/v1/assignments, server side included): {request_ms:.1f} ms")
    wall = statistics.median(results[1][1][0])
    verdict = "within" if wall < 0.3 else "OVER"
    print(f"client mode wall median {wall * 1000:.0f} ms is {verdict} the 300 ms target", end="")
    print(f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()

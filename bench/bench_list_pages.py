"""A desk's 10,000-row list over the server (issue 32): ``duban task list --all --json`` as a
unit's client of ``duban serve``, end to end (a whole process each time).

    .venv/bin/python bench/bench_list_pages.py [--rows 10000] [--runs 11] [--root DIR]

Builds a throwaway SQLite database with one unit holding ``--rows`` assignments (and a second
unit with as many, which the desk does not see), starts ``duban serve`` on a free loopback port
and times the desk's command: ``task list --all --json`` (pages of 5,000 streamed as they come)
and, for comparison, ``task list`` (the first page, as a table). ``--root`` runs another
checkout's code (server and client) for the old figure: before paging, ``task list --json``
fetched everything in one answer. Repeats the runs until the spread (p90 − p10) is under 15 %
of the median or five rounds have run, and prints the load average. The target is < 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _prepare(env: dict[str, str], rows: int, root: Path) -> str:
    """The database: two units with ``rows`` assignments each; the first unit's token."""
    code = f"""
import sys
sys.path.insert(0, {str(root)!r})
from datetime import date, datetime
from workflow.dates.clock import SHANGHAI
from workflow.config import load_config
from workflow.storage.db import Database
from workflow.directory.roles import Caller
from workflow.directory.setup import initialize
from workflow.directory.tokens import issue_token
from workflow.directory.units import add_unit
from workflow.tasks.assignments import add_task

config = load_config()
initialize(config)
db = Database(config.database_url)
office = Caller("office", "办公室")
now = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
with db.session() as s:
    names = [add_unit(s, office, name, now).name for name in ("法规科", "财务科")]
    for i in range({rows}):
        title = f"任务{{i}}：按要求公开本单位政务信息并及时更新（第{{i % 12 + 1}}期）"
        add_task(s, office, title, names, date(2026, 3 + i % 9, 28), now)
    print(issue_token(s, office, names[0], now))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _time(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    import time

    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    return walls


def _steady(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> list[float]:
    """Rounds of ``runs`` until the spread is small (or five rounds): the last round's times."""
    _time(cmd, env, cwd, 2)  # warm: bytecode, page cache, the server's pool
    for _ in range(5):
        walls = sorted(_time(cmd, env, cwd, runs))
        p10, p90 = walls[len(walls) // 10], walls[-1 - len(walls) // 10]
        if (p90 - p10) < 0.15 * statistics.median(walls):
            break
    return walls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--root", type=Path, default=HERE.parent, help="the checkout to run")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root / "tests"))
    from live_server import serve  # that checkout's: its server

    pages = "--all" in subprocess.run(
        [sys.executable, "-m", "cli.main", "task", "list", "--help"],
        cwd=root, capture_output=True, text=True,
    ).stdout  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            DUBAN_CONFIG_DIR=f"{tmp}/c",
            DUBAN_DATA_DIR=f"{tmp}/d",
            DUBAN_NOW="2026-06-15T09:00",
        )
        for key in ("DUBAN_DATABASE_URL", "DUBAN_SERVER", "DUBAN_TOKEN"):
            env.pop(key, None)
        token = _prepare(env, args.rows, root)
        served = {k: env[k] for k in ("DUBAN_CONFIG_DIR", "DUBAN_DATA_DIR", "DUBAN_NOW")}
        with serve(served, Path(tmp, "serve.log")) as url:
            desk = dict(
                env, DUBAN_CONFIG_DIR=f"{tmp}/desk", DUBAN_DATA_DIR=f"{tmp}/desk-data",
                DUBAN_SERVER=url, DUBAN_TOKEN=token,
            )  # fmt: skip
            duban = [sys.executable, "-m", "cli.main", "task", "list"]
            whole = [*duban, "--all", "--json"] if pages else [*duban, "--json"]
            out = subprocess.run(whole, env=desk, cwd=root, check=True, capture_output=True)
            rows = out.stdout.count(b'"id":')
            results = [(" ".join(whole[3:]), _steady(whole, desk, root, args.runs))]
            if pages:
                results.append((" ".join(duban[3:]), _steady(duban, desk, root, args.runs)))
    print(f"code: {root} ({'pages' if pages else 'no pages: the old one-answer list'})")
    print(f"a desk's list over duban serve: {rows} rows in the JSON")
    for label, walls in results:
        print(
            f"  duban {label:24s} median {statistics.median(walls) * 1000:6.0f} ms"
            f"  best {walls[0] * 1000:6.0f} ms  p90 {walls[-1 - len(walls) // 10] * 1000:6.0f} ms"
            f"  ({len(walls)} runs)"
        )
    median = statistics.median(results[0][1])
    verdict = "within" if median < 0.3 else "OVER"
    print(f"whole list median {median * 1000:.0f} ms: {verdict} the 300 ms target")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

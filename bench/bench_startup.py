"""How long a user waits: ``duban --help`` and ``duban task list`` as whole processes.

    .venv/bin/python bench/bench_startup.py [--runs 10]

Creates a throwaway database with 200 assignments, then times each command end to end
(process start, imports, database, rendering) and prints the median and the best run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _duban() -> str:
    exe = Path(sys.executable).with_name("duban")
    return str(exe) if exe.exists() else shutil.which("duban") or "duban"


def _prepare(env: dict[str, str]) -> None:
    from workflow.clock import SHANGHAI
    from workflow.config import load_config
    from workflow.directory.roles import Caller
    from workflow.directory.setup import initialize
    from workflow.directory.units import add_unit
    from workflow.tasks.assignments import add_task

    config = load_config(env)
    env["DUBAN_TOKEN"] = initialize(config).token
    from workflow.db import Database

    db = Database(config.database_url)
    office = Caller("office", "办公室")
    now = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
    with db.session() as s:
        names = [add_unit(s, office, f"第{i}科", now).name for i in range(20)]
        for i in range(10):
            add_task(s, office, f"任务{i}", names, date(2026, 3 + i % 9, 28), now)


def _time(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DUBAN_CONFIG_DIR=f"{tmp}/c", DUBAN_DATA_DIR=f"{tmp}/d")
        env.pop("DUBAN_DATABASE_URL", None)
        _prepare(env)
        for label, cmd in [
            ("duban --help", [_duban(), "--help"]),
            ("duban task list (200 rows)", [_duban(), "task", "list"]),
        ]:
            times = _time(cmd, env, args.runs)
            print(
                f"{label:28s} median {statistics.median(times) * 1000:7.1f} ms   best {min(times) * 1000:7.1f} ms   ({args.runs} runs)"
            )


if __name__ == "__main__":
    main()

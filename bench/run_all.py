"""Run every benchmark in turn with its default sizes: ``.venv/bin/python bench/run_all.py``.

Each benchmark is also a script of its own (``bench/bench_<name>.py --help`` for its options,
e.g. ``bench_check.py --sizes 100000 1000000 --pg postgresql+psycopg://…``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from steady import load_line

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_startup.py",
    "bench_client.py",
    "bench_calendar.py",
    "bench_mail.py",
    "bench_check.py",
    "bench_scoring.py",
    "bench_import.py",
    "bench_pipeline.py --days 60",  # the first 60 working days; the whole year alone: ~14 min
]


def main() -> int:
    failed = []
    for entry in BENCHES:
        name, *args = entry.split()
        print(f"\n===== {entry}\n{load_line('before')}", flush=True)
        if subprocess.run([sys.executable, str(HERE / name), *args]).returncode != 0:
            failed.append(name)
        print(load_line("after"), flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

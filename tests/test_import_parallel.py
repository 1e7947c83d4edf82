"""Six ``duban import`` of one file started at once make one plan (real processes, SQLite or
PostgreSQL as the suite runs): one creates it, the others find it already up to date."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledgers import YINCHUAN_DIRECTORY, add_directory, build_yinchuan_xlsx
from sqlmodel import func, select

from workflow.storage.models import Assignment, Plan, Task

ROOT = Path(__file__).resolve().parent.parent


def test_six_parallel_imports_make_one_plan(cli_env, office_db, tmp_path: Path) -> None:
    with office_db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
    ledger = build_yinchuan_xlsx(tmp_path / "银川2023台账.xlsx")
    env = {**os.environ, **cli_env, "PYTHONPATH": str(ROOT)}
    start = tmp_path / "start"
    # each process waits for the start file, so all six read and write at the same moment
    script = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(start)!r}): time.sleep(0.005)\n"
        "from cli.main import main\n"
        "sys.argv = ['duban', 'import', sys.argv[1]]\n"
        "main()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(ledger)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    start.touch()
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for code, out, err in results:
        assert "Traceback" not in out + err, out + err
        assert code == 0 or (code == 5 and len(err.strip().splitlines()) == 1), (code, out, err)
    created = [out + err for code, out, err in results if code == 0 and "已导入" in out + err]
    current = [out + err for code, out, err in results if code == 0 and "已是最新" in out + err]
    assert len(created) == 1
    assert len(created) + len(current) + sum(code == 5 for code, _, _ in results) == 6
    with office_db.session() as s:
        assert s.exec(select(func.count()).select_from(Plan)).one() == 1
        assert s.exec(select(func.count()).select_from(Task)).one() == 14
        assert s.exec(select(func.count()).select_from(Assignment)).one() == 63

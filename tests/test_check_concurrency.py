"""Checks started together, as real processes: each reminder is queued once, on SQLite too.

The serialisation is taken before the check reads (``BEGIN IMMEDIATE`` on SQLite, an advisory
lock on PostgreSQL); a check that cannot get it in time exits with one line, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from check_helpers import all_rows, directory, task

ROOT = Path(__file__).resolve().parent.parent
D = date.fromisoformat


# Each process imports everything, says it is ready, and waits for the go file: the checks then
# start within milliseconds of each other instead of being spread by interpreter start-up.
STARTER = """
import sys, os, time, pathlib
import cli.check, workflow.chasing.check, workflow.chasing.planner, sqlmodel  # noqa
from cli.main import main
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(ready / str(os.getpid())).touch()
while not go.exists():
    time.sleep(0.002)
sys.argv = ["duban", *sys.argv[3:]]
main()
"""


def run_together(
    cli_env: dict[str, str], dates: list[str], tmp_path: Path
) -> list[subprocess.CompletedProcess]:
    env = {**os.environ, **cli_env, "PYTHONPATH": str(ROOT)}
    ready, go = tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(ready), str(go), "check", "--as-of", d, "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for d in dates
    ]
    while len(list(ready.iterdir())) < len(procs) and all(p.poll() is None for p in procs):
        time.sleep(0.005)
    go.touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out


@pytest.mark.parametrize(
    "dates",
    [
        ["2026-03-05", "2026-03-06"],  # neighbouring dates: both would send the "3 days" reminder
        ["2026-03-05"] * 10,  # ten for the same date
    ],
    ids=["neighbouring-dates", "ten-same-date"],
)
def test_checks_started_together_queue_each_item_once(cli_env, office_db, dates, tmp_path):
    with office_db.session() as s:
        directory(s)
        (a,) = task(s, "更新政策解读专栏", D("2026-03-10"), "公开科")
        (b,) = task(s, "发布部门预算", D("2026-03-10"), "法规科")
        (late,) = task(s, "报送年度报告", D("2026-02-27"), "公开科")
    results = run_together(cli_env, dates, tmp_path)
    for r in results:
        assert "Traceback" not in r.stderr and "IntegrityError" not in r.stderr, r.stderr
        if r.returncode != 0:  # refused in one line: another check held the lock too long
            assert r.returncode == 5 and "另一个每日检查" in r.stderr
            assert len(r.stderr.strip().splitlines()) == 1
    assert any(r.returncode == 0 for r in results)
    rows = all_rows(office_db)
    covers = Counter(c for row in rows for c in row.context["covers"])
    assert covers and max(covers.values()) == 1, covers
    assert {c.rsplit(":", 1)[0] for c in covers if c.startswith("r:")} == {
        f"r:{a}:2026-03-10",
        f"r:{b}:2026-03-10",
    }
    assert f"o:{late}:2026-02-27:unit" in covers
    assert len({row.key for row in rows}) == len(rows)


def test_a_report_committed_inside_the_expiry_refuses_the_check_and_changes_nothing(db):
    """PostgreSQL: the expiry's history INSERT and its UPDATE read the rows at two moments; a
    unit's report committed in between makes them differ, and the whole check is refused (it is
    simply run again). SQLite's check holds the write lock: nothing can commit in between."""
    import sqlalchemy as sa
    from check_helpers import check, report
    from sqlmodel import select

    from workflow.errors import Conflict
    from workflow.storage.models import Assignment, History

    if db.dialect != "postgresql":
        pytest.skip("on SQLite the check holds the database's write lock")
    with db.session() as s:
        directory(s)
        first, second = task(s, "修订指南", D("2026-03-02"), "公开科", "法规科")
    reported: list[int] = []

    def between(conn, cursor, statement, params, context, executemany) -> None:
        if statement.startswith("UPDATE assignment SET state") and not reported:
            reported.append(first)
            with db.session() as unit_session:  # the unit's own connection, its own commit
                report(unit_session, first, D("2026-03-03"))

    sa.event.listen(db.engine, "before_cursor_execute", between)
    try:
        with pytest.raises(Conflict, match="1 项任务刚被他人修改，本次检查未保存"):
            check(db, D("2026-03-03"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", between)
    with db.session() as s:
        states = {a.id: a.state for a in s.exec(select(Assignment)).all()}
        assert states == {first: "reported", second: "assigned"}  # the check left no trace
        assert not s.exec(select(History).where(History.action == "expire")).all()
    assert check(db, D("2026-03-03")).expired == [second]  # run again: the rest is expired

"""Benchmark ``duban import``: a ledger of 2,000 tasks × 5 units (10,000 assignments).

    python bench/bench_import.py                    # 2,000 tasks on SQLite
    python bench/bench_import.py --tasks 500 --units 5
    python bench/bench_import.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

The ledger is an .xlsx written with openpyxl: a title row, a header, 20 sections, each task with
its requirement text, 5 units of a 50-unit directory in its 责任单位 cell and "11月底前" as its
deadline. Timed, each on a fresh database holding only the units:

* ``dry run``: ``import_ledger(..., dry_run=True)`` — read, parse, date, resolve, preview;
* ``import``: the same file imported and committed;
* ``again``: the same file imported a second time (nothing changes).

The figures of the old path (one flush per task, assignment and history row; a dry run that
performed every write and rolled back) were measured on this machine at the commit before the
bulk import (676cdef) with this very script, and are printed beside the new ones. CPU seconds
are printed too: on a busy machine the wall time grows, the CPU time hardly does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calendars import ChinaCalendar  # noqa: E402
from workflow.dates.clock import SHANGHAI  # noqa: E402
from workflow.directory.roles import Caller  # noqa: E402
from workflow.ledger.importing import import_ledger  # noqa: E402
from workflow.storage.db import Database  # noqa: E402
from workflow.storage.models import Unit  # noqa: E402

# the old path, measured with this script at 676cdef (2,000 tasks × 5 units, SQLite, 2-core dev
# machine): wall seconds on a quiet machine, CPU seconds (the same under load)
OLD = {"dry run": (15.8, 10.0), "import": (10.5, 8.7), "again": (2.4, 1.4)}
UNITS = 50
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def write_ledger(path: Path, tasks: int, per_task: int) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["2026年政务公开工作任务落实台账（基准测试）"])
    ws.append(["序号", "工作任务", "具体要求", "责任单位", "完成时限", "进展落实情况"])
    per_section = max(1, tasks // 20)
    for i in range(tasks):
        if i % per_section == 0:
            ws.append([f"{_cn(i // per_section + 1)}、第{i // per_section + 1}部分"])
        units = "、".join(f"单位{(i + k) % UNITS:02d}" for k in range(per_task))
        ws.append(
            [
                str(i + 1),
                f"第{i + 1}项工作任务",
                f"按要求做好第{i + 1}项工作，及时公开相关信息，每月更新。",
                units,
                "11月底前",
                "",
            ]
        )
    wb.save(path)


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def fresh_db(pg: str | None, workdir: Path) -> Database:
    if pg:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(pg)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = sa.engine.make_url(pg).update_query_dict({"options": f"-csearch_path={schema}"})
        db = Database(url.render_as_string(hide_password=False))
    else:
        db = Database(f"sqlite:///{workdir / f'{uuid.uuid4().hex[:8]}.db'}")
    db.upgrade()
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(Unit.__table__),
            [
                {"name": f"单位{i:02d}", "aliases": [], "groups": [], "emails": [], "active": True}
                for i in range(UNITS)
            ],
        )
    return db


def timed(db: Database, path: Path, dry_run: bool) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, assignments created)."""
    office = Caller(role="office", name="办公室")
    start, cpu = time.perf_counter(), time.process_time()
    with db.session() as session:
        result = import_ledger(
            session, office, path, calendar=ChinaCalendar(), now=NOW, dry_run=dry_run
        )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall, cpu, result.counts["assignments_created"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--units", type=int, default=5, help="units per task")
    parser.add_argument("--pg", default=os.environ.get("DUBAN_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ledger = workdir / "2026年台账.xlsx"
        write_ledger(ledger, args.tasks, args.units)
        where = "PostgreSQL" if args.pg else "SQLite"
        print(f"{args.tasks} tasks × {args.units} units on {where}")
        timed(fresh_db(args.pg, workdir), ledger, dry_run=True)  # warm: imports, calendar index
        db = fresh_db(args.pg, workdir)
        dry = timed(db, ledger, dry_run=True)
        db2 = fresh_db(args.pg, workdir)
        real = timed(db2, ledger, dry_run=False)
        again = timed(db2, ledger, dry_run=False)
        default = args.tasks == 2000 and args.units == 5 and not args.pg
        for label, (wall, cpu, count) in (("dry run", dry), ("import", real), ("again", again)):
            old = OLD[label] if default else None
            beside = f"   (old path: {old[0]:.1f} s wall, {old[1]:.1f} s CPU)" if old else ""
            print(f"  {label:8} {wall:6.2f} s wall {cpu:6.2f} s CPU  {count:6d} new{beside}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

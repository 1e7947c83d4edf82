"""Year-end scoring and the evaluation export on a large office.

Run: ``python bench/bench_scoring.py [units] [tasks]`` (default 600 units × 100 tasks = 60,000
assignments, the size issue 18 names). Each assignment has a create, a report and for a third
of them a return and a second report in its history; a tenth of the tasks are event time limits
and a tenth carry a monthly quantitative target ("每月至少更新2条") reported with ``count``.
Builds a temporary SQLite database with Core bulk inserts, then times ``score_plan`` (year end
and a mid-year forecast), the .xlsx and the .html export, and, in a fresh process, the peak
memory (RSS) of scoring plus writing the workbook. The figures before this version (measured
on the same 2-core machine, 60,000 assignments) are printed beside the new ones.
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from calendars import ChinaCalendar  # noqa: E402
from workflow.dates.clock import SHANGHAI  # noqa: E402
from workflow.evaluation.report import evaluation_html  # noqa: E402
from workflow.evaluation.scores import ScoringRules, score_plan  # noqa: E402
from workflow.evaluation.workbook import write_evaluation_xlsx  # noqa: E402
from workflow.storage.db import Database  # noqa: E402
from workflow.storage.models import Assignment, History, Plan, Task, Unit  # noqa: E402

# 60,000 assignments, before this version (ORM reads; openpyxl in normal mode), measured with
# this script's CPU timer on the same machine (shared: load average 12–16 on 2 cores)
OLD = {
    "score_plan as of 2026-12-31": "6.6 s cpu; 8.5 s wall in issue 18",
    "score_plan as of 2026-07-01": "7.6 s cpu",
    "write .xlsx": "19.2 s cpu; 26.5 s wall in issue 18",
    "render .html": "2.5 s cpu, one row per deduction",
    "peak RSS, score + .xlsx": "905 MB in issue 18",
}


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 10, tzinfo=SHANGHAI).astimezone(UTC)


def build(db: Database, units: int, tasks: int, seed: int = 20261231) -> int:
    rng = random.Random(seed)
    created = _at(date(2026, 1, 5))
    with db.engine.begin() as c:
        plan_id = c.execute(
            sa.insert(Plan).values(
                year=2026, title="2026年政务公开工作要点（基准）", report_dates=[]
            )
        ).inserted_primary_key[0]
        c.execute(sa.insert(Unit), [{"name": f"单位{i:03d}", "aliases": [], "groups": [],
                                     "emails": [], "active": True} for i in range(units)])  # fmt: skip
        task_rows = []
        for i in range(tasks):
            kind = "event" if i % 10 == 3 else "ledger"
            metric = "专栏每月至少更新2条信息" if i % 10 == 5 else None
            task_rows.append(
                {"plan_id": plan_id, "title": f"任务{i:03d}", "kind": kind, "metric": metric,
                 "event_kind": "policy_interpretation" if kind == "event" else None,
                 "section_path": [], "lead_units": [], "responsible_units": [],
                 "cooperating_units": []}
            )  # fmt: skip
        c.execute(sa.insert(Task), task_rows)
        task_ids = [r[0] for r in c.execute(sa.select(Task.id).order_by(Task.id))]
        unit_ids = [r[0] for r in c.execute(sa.select(Unit.id).order_by(Unit.id))]
        dues = {t: date(2026, 1, 31) + timedelta(rng.randrange(320)) for t in task_ids}
        c.execute(
            sa.insert(Assignment),
            [
                {"task_id": t, "unit_id": u, "due": dues[t], "original_due": dues[t],
                 "state": "assigned", "version": 1, "role": "responsible", "period": ""}
                for t in task_ids for u in unit_ids
            ],
        )  # fmt: skip
        history, reported = [], []
        for aid, due in c.execute(sa.select(Assignment.id, Assignment.due)):
            history.append(_h(aid, "create", created, "office"))
            offset = rng.choice([None, -3, -1, 0, 1, 2, 5, 20])
            if offset is None:
                continue
            if rng.random() < 0.33:
                first = due - timedelta(6)
                history.append(_h(aid, "report", _at(first), "unit"))
                history.append(_h(aid, "return", _at(first + timedelta(1)), "office"))
            history.append(
                _h(aid, "report", _at(due + timedelta(offset)), "unit", rng.randrange(3))
            )
            reported.append(aid)
        c.execute(sa.insert(History), history)
        c.execute(sa.update(Assignment).where(Assignment.id.in_(reported)).values(state="reported"))
    return plan_id


def _h(aid: int, action: str, at: datetime, role: str, count: int | None = None) -> dict:
    return {"assignment_id": aid, "action": action, "actor": role, "role": role, "at": at,
            "entity": "assignment", "data": {"count": count} if count is not None else None}  # fmt: skip


def timed(label: str, func):
    """Wall time, and CPU time (steadier when other processes share the machine)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func()
    took, used = time.perf_counter() - start, time.process_time() - cpu
    old = f"(before: {OLD[label]})" if label in OLD else ""
    print(f"{label:<34} {took:8.3f} s  cpu {used:7.3f} s   {old}", flush=True)
    return result


def _score_and_write(url: str, plan_id: int, out: str) -> None:
    """In a fresh process: score, write the workbook, print the peak RSS (VmHWM) in kB."""
    db = Database(url)
    with db.session() as s:
        ev = score_plan(
            s, plan_id, date(2026, 12, 31), calendar=ChinaCalendar(), rules=ScoringRules()
        )
    write_evaluation_xlsx(ev, out)
    db.engine.dispose()
    status = Path("/proc/self/status")
    if status.exists():  # per process image: not inflated by the parent's pages at fork
        peak = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM"))
        print(peak.split()[1])
    else:
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss(url: str, plan_id: int, out: str) -> float:
    """Peak RSS (MB) of a fresh process that scores and writes the workbook."""
    done = subprocess.run(
        [sys.executable, __file__, "--peak", url, str(plan_id), out],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(done.stdout.split()[-1]) / 1024


def main(units: int = 600, tasks: int = 100) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        db.upgrade()
        plan_id = timed(f"build {units}×{tasks} assignments", lambda: build(db, units, tasks))
        calendar = ChinaCalendar()
        calendar.is_working_day(date(2026, 1, 1))  # build the index outside the timings
        rules = ScoringRules()
        with db.session() as s:
            ev = timed(
                "score_plan as of 2026-12-31",
                lambda: score_plan(s, plan_id, date(2026, 12, 31), calendar=calendar, rules=rules),
            )
            timed(
                "score_plan as of 2026-07-01",
                lambda: score_plan(s, plan_id, date(2026, 7, 1), calendar=calendar, rules=rules),
            )
        print(f"{'deduction rows':<34} {len(ev.rows):8d}")
        timed("write .xlsx", lambda: write_evaluation_xlsx(ev, Path(tmp) / "e.xlsx"))
        timed("render .html", lambda: evaluation_html(ev))
        rss = peak_rss(url, plan_id, str(Path(tmp) / "f.xlsx"))
        label = "peak RSS, score + .xlsx"
        print(f"{label:<34} {rss:8.0f} MB  (before: {OLD[label]})")
        db.engine.dispose()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        _score_and_write(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main(*(int(a) for a in sys.argv[1:3]))

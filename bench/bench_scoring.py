"""Year-end scoring and the evaluation export on a large plan.

Run: ``python bench/bench_scoring.py [units] [tasks]`` (default 60 units × 100 tasks = 6,000
assignments, each with a create, a report and for a third of them a return and a second report
in the history). Builds a temporary SQLite database with bulk inserts, then times
``score_plan`` (year end and a mid-year forecast), the .xlsx and the .html export.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calendars import ChinaCalendar  # noqa: E402
from workflow.clock import SHANGHAI  # noqa: E402
from workflow.db import Database  # noqa: E402
from workflow.evaluation.scores import ScoringRules, score_plan  # noqa: E402
from workflow.evaluation.workbook import evaluation_html, write_evaluation_xlsx  # noqa: E402
from workflow.models import Assignment, History, Plan, Task, Unit  # noqa: E402


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 10, tzinfo=SHANGHAI).astimezone(UTC)


def build(db: Database, units: int, tasks: int, seed: int = 20261231) -> int:
    rng = random.Random(seed)
    with db.session() as s:
        plan = Plan(year=2026, title="2026年政务公开工作要点（基准）")
        s.add(plan)
        s.flush()
        unit_rows = [Unit(name=f"单位{i:03d}") for i in range(units)]
        task_rows = [Task(plan_id=plan.id, title=f"任务{i:03d}") for i in range(tasks)]
        s.add_all(unit_rows + task_rows)
        s.flush()
        assignments = []
        for t in task_rows:
            due = date(2026, 1, 31) + timedelta(rng.randrange(320))
            for u in unit_rows:
                assignments.append(
                    Assignment(task_id=t.id, unit_id=u.id, due=due, original_due=due)
                )
        s.add_all(assignments)
        s.flush()
        history = []
        for a in assignments:
            history.append(
                History(
                    assignment_id=a.id,
                    action="create",
                    actor="办公室",
                    role="office",
                    at=_at(date(2026, 1, 5)),
                )
            )
            offset = rng.choice([None, -3, -1, 0, 1, 2, 5, 20])
            if offset is None:
                continue
            if rng.random() < 0.33:
                first = a.due - timedelta(6)
                history.append(
                    History(
                        assignment_id=a.id,
                        action="report",
                        actor="单位",
                        role="unit",
                        at=_at(first),
                    )
                )
                history.append(
                    History(
                        assignment_id=a.id,
                        action="return",
                        actor="办公室",
                        role="office",
                        at=_at(first + timedelta(1)),
                    )
                )
            history.append(
                History(
                    assignment_id=a.id,
                    action="report",
                    actor="单位",
                    role="unit",
                    at=_at(a.due + timedelta(offset)),
                )
            )
            a.state = "reported"
        s.add_all(history)
        return plan.id


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<34} {time.perf_counter() - start:8.3f} s")
    return result


def main(units: int = 60, tasks: int = 100) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
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
        db.engine.dispose()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

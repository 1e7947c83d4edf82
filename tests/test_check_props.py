"""Property: whatever days the daemon happens to run, nothing is queued twice or on a day off."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from check_helpers import CAL, all_rows, check, directory, report, task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.storage.db import Database
from workflow.storage.models import Assignment

START = date(2026, 2, 2)
SPAN = 60  # through the Spring Festival break and its 调休 Saturdays
_TEMPLATE: list[Path] = []


def _template() -> Path:
    if not _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="duban-props-")) / "template.db"
        db = Database(f"sqlite:///{path}")
        db.upgrade()
        with db.session() as s:
            directory(s)
        db.engine.dispose()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dues=st.lists(st.integers(0, SPAN - 10), min_size=1, max_size=4),
    run_days=st.sets(st.integers(0, SPAN - 1), min_size=1, max_size=SPAN),
    reports=st.lists(st.one_of(st.none(), st.integers(-3, 15)), min_size=4, max_size=4),
)
def test_any_schedule_queues_each_item_once(dues, run_days, reports):
    directory_ = Path(tempfile.mkdtemp(prefix="duban-prop-"))
    try:
        shutil.copy(_template(), directory_ / "duban.db")
        db = Database(f"sqlite:///{directory_ / 'duban.db'}")
        with db.session() as s:
            ids = [
                task(s, f"任务{i}", START + timedelta(d), "公开科", "法规科")[0]
                for i, d in enumerate(dues)
            ]
        report_on = {
            aid: START + timedelta(dues[i] + reports[i])
            for i, aid in enumerate(ids)
            if reports[i] is not None
        }
        last = None
        for offset in range(SPAN):
            day = START + timedelta(offset)
            if offset in run_days:
                check(db, day)
                last = day
            done = [aid for aid, d in report_on.items() if d == day]
            if done:
                with db.session() as s:
                    for aid in done:
                        if s.get(Assignment, aid).state in ("assigned", "in_progress", "overdue"):
                            report(s, aid, day)
        assert check(db, last).queued == []  # the same date again: nothing new
        rows = all_rows(db)
        covers = Counter(c for r in rows for c in r.context.get("covers", ()))
        assert not covers or max(covers.values()) == 1
        assert all(CAL.is_working_day(r.as_of) for r in rows)
        assert len({r.key for r in rows}) == len(rows)
        with db.session() as s:
            for aid in ids:
                a = s.get(Assignment, aid)
                if a.state == "overdue":
                    assert a.overdue_since == a.due
                # never more than one overdue level per (assignment, due)
                levels = [c for c in covers if c.startswith(f"o:{aid}:")]
                assert len(levels) <= 3
        db.engine.dispose()
    finally:
        shutil.rmtree(directory_, ignore_errors=True)

"""An import writes its new assignments in batches (memory of one batch, whatever the count):
the database ends exactly as with one INSERT, and a refused row leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import fresh_database
from dbsnap import snapshot
from ledgers import YINCHUAN_DIRECTORY, add_directory, build_yinchuan_xlsx
from sqlmodel import select

import workflow.tasks.bulk as bulk
from calendars import ChinaCalendar
from workflow.directory.roles import Caller
from workflow.errors import InvalidInput
from workflow.ledger.importing import import_ledger
from workflow.storage.db import Database
from workflow.storage.models import Assignment, History, Task, Unit
from workflow.tasks.bulk import NewAssignment, insert_assignments

NOW = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)
OFFICE = Caller(role="office", name="办公室")


def _imported(folder: Path, ledger: Path) -> tuple[dict, int]:
    folder.mkdir()
    with fresh_database(folder) as url:
        db = Database(url)
        db.upgrade()
        with db.session() as s:
            add_directory(s, YINCHUAN_DIRECTORY)
        with db.session() as s:
            result = import_ledger(s, OFFICE, ledger, calendar=ChinaCalendar(), now=NOW)
        snap = snapshot(db.engine)
        db.engine.dispose()
    return snap, result.counts["assignments_created"]


def test_batches_write_what_one_insert_wrote(tmp_path, monkeypatch):
    ledger = build_yinchuan_xlsx(tmp_path / "银川2023台账.xlsx")
    whole, count = _imported(tmp_path / "one", ledger)
    monkeypatch.setattr(bulk, "BATCH", 4)
    batched, again = _imported(tmp_path / "batched", ledger)
    assert count == again > 3 * 4  # several batches, the last one short
    assert batched == whole  # every table, ids and history included


def test_a_refused_row_in_a_later_batch_leaves_nothing(db, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH", 2)
    with db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
        task = Task(title="公开预算", created_at=NOW)
        s.add(task)
        s.flush()
        unit = s.exec(select(Unit)).first()
        ids = (task.id, unit.id)
    before = snapshot(db.engine)

    def items():
        for n in range(5):
            role = "lead" if n < 4 else "boss"
            yield NewAssignment(ids[0], ids[1], "x", date(2023, 11, 30), role, period=str(n))

    with pytest.raises(InvalidInput, match="未知的单位角色：boss"), db.session() as s:
        insert_assignments(s, items(), actor=OFFICE, now=NOW)
    assert snapshot(db.engine) == before
    with db.session() as s:
        assert insert_assignments(s, iter(()), actor=OFFICE, now=NOW) == []
        made = insert_assignments(s, list(items())[:4], actor=OFFICE, now=NOW)
        assert made == sorted(made) and len(made) == 4
        assert len(s.exec(select(Assignment)).all()) == 4
        assert len(s.exec(select(History).where(History.action == "create")).all()) == 4

"""Round trip (issue 25): ``duban export ledger`` then ``duban import`` into a new database
recreates the year — states, reports and their dates, verification, extensions, event time
limits and hand-added tasks — and importing the export again (into either database) changes
nothing and duplicates nothing. Real databases (SQLite, or PostgreSQL schemas)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_database, unit_caller
from ledgers import YINCHUAN_DIRECTORY, add_directory, build_yinchuan_xlsx
from openpyxl import load_workbook
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.dates.clock import SHANGHAI
from workflow.ledger.export import export_ledger
from workflow.ledger.importing import import_ledger
from workflow.storage.db import Database
from workflow.storage.models import Assignment, ExtensionRequest, Plan, Report, Task, Unit
from workflow.tasks.assignments import add_task
from workflow.tasks.events import add_event
from workflow.tasks.extensions import request_extension
from workflow.tasks.lifecycle import fire

CALENDAR = ChinaCalendar()
T0 = datetime(2023, 3, 1, 9, 0, tzinfo=SHANGHAI)


def at(month: int, day: int) -> datetime:
    return datetime(2023, month, day, 10, 0, tzinfo=SHANGHAI)


def year_of(db: Database) -> dict[str, Any]:
    """Everything of the year a new database must hold again, without ids."""
    with db.session() as s:
        (plan,) = s.exec(select(Plan)).all()
        names = {u.id: u.name for u in s.exec(select(Unit)).all()}
        reports: dict[int, list] = {}
        for r in s.exec(select(Report).order_by(Report.id)).all():
            reports.setdefault(r.assignment_id, []).append(
                (r.text, r.evidence, r.actor, r.late, r.count, r.created_at)
            )
        extensions: dict[int, list] = {}
        for e in s.exec(select(ExtensionRequest).order_by(ExtensionRequest.id)).all():
            extensions.setdefault(e.assignment_id, []).append(
                (e.requested_due, e.reason, e.requested_by, e.status, e.requested_at)
            )
        by_task: dict[int, list] = {}
        for a in s.exec(select(Assignment)).all():
            by_task.setdefault(a.task_id, []).append(
                (names[a.unit_id], a.role, a.period, a.state, a.due, a.original_due, a.late,
                 a.overdue_since, a.reported_at, a.verified_at, a.returned_count,
                 reports.get(a.id, []), extensions.get(a.id, []))
            )  # fmt: skip
        tasks = sorted(
            (t.kind, t.section_path, t.number or "", t.title, t.content or "", t.metric or "",
             t.event_kind or "", t.event_date, t.event_ref or "", sorted(by_task.get(t.id, []), key=repr))
            for t in s.exec(select(Task)).all()
        )  # fmt: skip
        return {"plan": (plan.year, plan.title, plan.report_dates), "tasks": tasks}


@pytest.fixture
def worked(db, office, tmp_path):
    return work_the_year(db, office, tmp_path)


def work_the_year(db: Database, office, tmp_path: Path) -> int:
    """The Yinchuan ledger imported and worked on for a year: reports (one late, one
    verified, one returned and reported again), an extension, a pending extension request, a
    task added by hand, an event's time limit. Returns the plan's id."""
    with db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
    with db.session() as s:
        result = import_ledger(
            s, office, build_yinchuan_xlsx(tmp_path / "银川2023台账.xlsx"),
            calendar=CALENDAR, now=T0,
        )  # fmt: skip
    plan_id = result.plan["id"]
    with db.session() as s:
        rows = s.exec(select(Assignment, Unit).join(Unit).order_by(Assignment.id)).all()
        (a1, u1), (a2, u2), (a3, u3), (a4, u4) = rows[:4]
        fire(s, a1.id, "report", unit_caller(u1), now=at(7, 20), text="已发布12篇",
             evidence=["https://example.gov.cn/1.html"])  # fmt: skip
        fire(s, a1.id, "verify", office, now=at(7, 21))
        fire(s, a2.id, "report", unit_caller(u2), now=at(7, 25), text="初稿")
        fire(s, a2.id, "return", office, now=at(7, 26), reason="缺少佐证")
        fire(s, a2.id, "report", unit_caller(u2), now=at(7, 28), text="已补充佐证")
        fire(s, a3.id, "extend", office, now=at(6, 1), reason="等待上级文件",
             new_due=date(2023, 12, 15))  # fmt: skip
        request_extension(s, unit_caller(u4), a4.id, date(2023, 12, 20), "人手不足", at(6, 2))
        add_task(s, office, "整理年度公开目录", [u1.name], date(2023, 10, 31), at(5, 1),
                 content="办公室临时交办", plan_id=plan_id)  # fmt: skip
        add_event(s, office, "依申请公开", date(2023, 9, 4), u2.name, "申请〔2023〕1号",
                  calendar=CALENDAR, now=at(9, 4), plan_id=plan_id)  # fmt: skip
    return plan_id


def test_export_recreates_the_year_in_a_new_database(db, office, worked, tmp_path: Path) -> None:
    path = tmp_path / "导出.xlsx"
    with db.session() as s:
        export_ledger(s, office, worked, path, as_of=date(2023, 12, 5))
    before = year_of(db)
    sheet = load_workbook(path)["任务落实台账"]
    cells = {c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)}
    assert "委机关各科室、委属各单位" in cells  # groups as the office wrote them
    assert "五、事件触发的时限任务" in cells  # numbered after the ledger's four: a section
    kinds = {t[0] for t in before["tasks"]}
    assert kinds == {"ledger", "manual", "event"}
    (tmp_path / "new").mkdir()
    with fresh_database(tmp_path / "new", prefix="rt") as url:
        other = Database(url)
        other.upgrade()
        try:
            with other.session() as s:
                add_directory(s, YINCHUAN_DIRECTORY)
            with other.session() as s:
                preview = import_ledger(s, office, path, calendar=CALENDAR, now=T0, dry_run=True)
            assert any(c.startswith("按导出台账的记录恢复") for c in preview.changes)
            with other.session() as s:
                import_ledger(s, office, path, calendar=CALENDAR, now=T0)
            assert year_of(other) == before
            with other.session() as s:  # again: nothing new, nothing twice
                again = import_ledger(s, office, path, calendar=CALENDAR, now=T0)
            assert not again.changed and again.changes == []
            assert year_of(other) == before
        finally:
            other.engine.dispose()
    with db.session() as s:  # into its own database: no duplicate of the hand-added tasks
        back = import_ledger(s, office, path, calendar=CALENDAR, now=T0)
    assert not back.changed and back.changes == []
    assert year_of(db) == before


def test_csv_export_imports_tasks_only(db, office, worked, tmp_path: Path) -> None:
    path = tmp_path / "导出.csv"
    with db.session() as s:
        export_ledger(s, office, worked, path)
    (tmp_path / "new").mkdir()
    with fresh_database(tmp_path / "new", prefix="rt") as url:
        other = Database(url)
        other.upgrade()
        try:
            with other.session() as s:
                add_directory(s, YINCHUAN_DIRECTORY)
            with other.session() as s:
                result = import_ledger(s, office, path, calendar=CALENDAR, now=T0)
            assert not any(c.startswith("按导出台账的记录恢复") for c in result.changes)
            with other.session() as s:
                assert not s.exec(select(Report)).all()
        finally:
            other.engine.dispose()


def test_records_of_another_task_are_not_restored(db, office, worked, tmp_path: Path) -> None:
    """The office edited the exported workbook: a row whose task is not the one exported there
    keeps the file's words, not the records of the task that stood there."""
    path = tmp_path / "导出.xlsx"
    with db.session() as s:
        export_ledger(s, office, worked, path)
    wb = load_workbook(path)
    sheet = wb["任务落实台账"]
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "序号")
    row = next(r for r in range(header + 1, sheet.max_row + 1) if sheet.cell(r, 1).value == "1")
    old_title = sheet.cell(row, 2).value
    sheet.cell(row, 2).value = "改写后的任务名称"
    wb.save(path)
    (tmp_path / "new").mkdir()
    with fresh_database(tmp_path / "new", prefix="rt") as url:
        other = Database(url)
        other.upgrade()
        try:
            with other.session() as s:
                add_directory(s, YINCHUAN_DIRECTORY)
            with other.session() as s:
                result = import_ledger(s, office, path, calendar=CALENDAR, now=T0)
            (warning,) = [w for w in result.warnings if "未恢复" in w]
            assert f"与导出时该行的任务“{old_title}”不同" in warning
            assert f"第{row}行" in warning
            with other.session() as s:
                task = s.exec(select(Task).where(Task.title == "改写后的任务名称")).one()
                states = {
                    a.state for a in s.exec(select(Assignment).where(Assignment.task_id == task.id))
                }
                assert states == {"assigned"} and s.exec(select(Report)).all()  # others restored
        finally:
            other.engine.dispose()


def test_cli_import_of_an_export_restores_the_year(duban, office_db, office, tmp_path):
    """Through the doors (locally and as a client of the server): the hidden sheet travels."""
    (tmp_path / "old").mkdir()
    path = tmp_path / "导出.xlsx"
    with fresh_database(tmp_path / "old", prefix="old") as url:
        source = Database(url)
        source.upgrade()
        try:
            plan_id = work_the_year(source, office, tmp_path)
            with source.session() as s:
                export_ledger(s, office, plan_id, path)
            before = year_of(source)
        finally:
            source.engine.dispose()
    duban.ok("unit", "list")  # the database is set up
    with office_db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)
    data = duban.json("import", path)
    assert any(d.startswith("按导出台账的记录恢复") for d in data["plan"]["changes"]["details"])
    assert year_of(office_db) == before

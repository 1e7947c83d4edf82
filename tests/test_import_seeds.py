"""Importing both seed ledgers, from real files in every format, into a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from ledgers import (
    JIANGMEN,
    JIANGMEN_DIRECTORY,
    YINCHUAN,
    YINCHUAN_DIRECTORY,
    add_directory,
    build_jiangmen_csv,
    build_jiangmen_docx,
    build_jiangmen_xlsx,
    build_yinchuan_csv,
    build_yinchuan_docx,
    build_yinchuan_xlsx,
)
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.ledger.importing import import_ledger
from workflow.storage.models import Assignment, History, Plan, Task, Unit

NOW = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)
CALENDAR = ChinaCalendar()

YINCHUAN_FILES = {
    "xlsx": lambda p: build_yinchuan_xlsx(p / "银川2023台账.xlsx"),
    "docx": lambda p: build_yinchuan_docx(p / "银川2023台账.docx"),
    "csv-bom": lambda p: build_yinchuan_csv(p / "银川2023台账.csv", "utf-8-sig"),
    "csv-gbk": lambda p: build_yinchuan_csv(p / "银川2023台账.csv", "gbk"),
}
JIANGMEN_FILES = {
    "docx": lambda p: build_jiangmen_docx(p / "江门2021分工方案.docx"),
    "xlsx": lambda p: build_jiangmen_xlsx(p / "江门2021分工方案.xlsx"),
    "csv-gbk": lambda p: build_jiangmen_csv(p / "江门2021分工方案.csv", "gbk"),
    "csv-bom": lambda p: build_jiangmen_csv(p / "江门2021分工方案.csv", "utf-8-sig"),
}


def _import(db, office, path: Path, directory, **kw):
    with db.session() as s:
        add_directory(s, directory)
    with db.session() as s:
        return import_ledger(s, office, path, calendar=CALENDAR, now=NOW, **kw)


def _stored(db) -> dict[str, tuple[Task, list[tuple[str, str, str, date]]]]:
    """number → (task, [(unit, role, period, due)])."""
    with db.session() as s:
        units = {u.id: u.name for u in s.exec(select(Unit)).all()}
        out = {}
        for task in s.exec(select(Task).order_by(Task.id)).all():
            rows = s.exec(
                select(Assignment).where(Assignment.task_id == task.id).order_by(Assignment.id)
            ).all()
            out[task.number] = (task, [(units[a.unit_id], a.role, a.period, a.due) for a in rows])
        return out


def _check(stored, expected) -> None:
    assert list(stored) == list(expected)
    for number, (section, title, units, dues, deadline_text) in expected.items():
        task, assignments = stored[number]
        assert task.section_path == [section], number
        assert task.title == title, number
        assert task.deadline_text == deadline_text, number
        # one assignment per (unit, period), all units and roles as expected
        got_units = list(dict.fromkeys((name, role) for name, role, _, _ in assignments))
        assert got_units == units, number
        for name, _role in units:
            assert sorted(d.isoformat() for n, _, _, d in assignments if n == name) == dues, (
                number,
                name,
            )
        assert task.lead_units == [n for n, r in units if r == "lead"]
        assert task.responsible_units == [n for n, r in units if r == "responsible"]
        assert task.cooperating_units == [n for n, r in units if r == "cooperating"]


@pytest.mark.parametrize("fmt", YINCHUAN_FILES)
def test_yinchuan(db, office, tmp_path: Path, fmt: str) -> None:
    result = _import(db, office, YINCHUAN_FILES[fmt](tmp_path), YINCHUAN_DIRECTORY)
    assert result.plan["year"] == 2023 and result.plan["action"] == "create"
    assert result.plan["report_dates"] == ["2023-07-31", "2023-11-30"]
    assert result.counts["tasks_created"] == 14
    assert result.warnings == []
    stored = _stored(db)
    _check(stored, YINCHUAN)
    task13 = stored["13"][1]
    assert {p for _, _, p, _ in task13} == {
        "2023-07-31",
        "2023-11-30",
    }  # 长期坚持: one per report date
    with db.session() as s:
        plan = s.exec(select(Plan)).one()
        assert plan.title == "银川市卫生健康委员会2023年政务公开工作要点任务落实台账"
        assert plan.issuer == "银川市卫生健康委员会"
        assert len(s.exec(select(Assignment)).all()) == 63
        assert all(
            a.state == "assigned" and a.original_due == a.due
            for a in s.exec(select(Assignment)).all()
        )
        creates = s.exec(select(History).where(History.action == "create")).all()
        assert len(creates) == 63 and {h.actor for h in creates} == {"办公室"}


@pytest.mark.parametrize("fmt", JIANGMEN_FILES)
def test_jiangmen(db, office, tmp_path: Path, fmt: str) -> None:
    result = _import(db, office, JIANGMEN_FILES[fmt](tmp_path), JIANGMEN_DIRECTORY)
    assert result.plan["year"] == 2021 and result.plan["report_dates"] == []
    assert result.counts["tasks_created"] == 30
    stored = _stored(db)
    _check(stored, JIANGMEN)
    assert {p for _, _, p, _ in stored["5"][1]} == {f"2021-{m:02d}" for m in range(1, 13)}  # 每月
    expected = sum(len(units) * len(dues) for _, _, units, dues, _ in JIANGMEN.values())
    with db.session() as s:
        assert len(s.exec(select(Assignment)).all()) == expected


def test_json_shape_and_how_units_resolved(db, office, tmp_path: Path) -> None:
    result = _import(
        db, office, build_jiangmen_docx(tmp_path / "j.docx"), JIANGMEN_DIRECTORY, dry_run=True
    )
    data = result.as_json()
    assert set(data) == {"plan", "tasks", "warnings"}
    assert len(data["tasks"]) == 30
    for task in data["tasks"]:
        assert set(task) == {
            "section",
            "number",
            "title",
            "content",
            "metric",
            "deadline_text",
            "due_dates",
            "due_notes",
            "units",
        }
        assert all(
            set(u) == {"name", "role"} and u["role"] in ("lead", "responsible", "cooperating")
            for u in task["units"]
        )
    t20 = data["tasks"][19]
    assert t20["deadline_text"] == "2021年11月20日前" and t20["due_dates"] == ["2021-11-22"]
    assert t20["content"].startswith("2021年11月20日前完成主动公开基层目录编制")
    views = {v.number: v for v in result.tasks}
    assert views["20"].deadline_source == "text"  # found in the requirement text, shown as such
    assert views["1"].units[0] == {
        "name": "政法科",
        "role": "responsible",
        "how": "规范化匹配：局政法科",
        "written": "局政法科",
    }
    assert views["4"].units[0]["how"] == "属于“主办科室”"  # 局主办科室 → normalized group
    assert views["15"].units[1]["how"] == "名称一致"
    assert data["plan"]["id"] is None and data["plan"]["dry_run"] is True
    with db.session() as s:  # a dry run leaves nothing behind
        assert s.exec(select(Task)).all() == [] and s.exec(select(Plan)).all() == []

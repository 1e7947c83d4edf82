"""Re-import: the same file changes nothing; an edited one changes what differs; errors none."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import dbsnap
import pytest
from ledgers import (
    YINCHUAN_DIRECTORY,
    add_directory,
    build_yinchuan_xlsx,
    write_xlsx,
    yinchuan_sections,
)
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.directory.roles import Caller
from workflow.errors import LedgerError, PermissionDenied
from workflow.ledger.importing import import_ledger
from workflow.storage.models import Assignment, History, Task, Unit
from workflow.tasks.lifecycle import fire

NOW = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)
LATER = datetime(2023, 4, 3, 1, 0, tzinfo=UTC)
CALENDAR = ChinaCalendar()


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refused import wrote nothing."""
    return dbsnap.snapshot(db.engine)  # the office's data, not the server's bookkeeping


def run(db, office, path: Path, now: datetime = NOW, **kw):
    with db.session() as s:
        return import_ledger(s, office, path, calendar=CALENDAR, now=now, **kw)


@pytest.fixture
def directory(db):
    with db.session() as s:
        add_directory(s, YINCHUAN_DIRECTORY)


def edited_sections() -> list[dict]:
    """Task 1 retitled, 办公室 dropped from task 3, task 5 due earlier, 14 removed, 15 added."""
    sections = yinchuan_sections()
    tasks = {t["number"]: t for s in sections for t in s["tasks"]}
    tasks["1"]["title"] = "抓好托育服务信息公开。"
    tasks["3"]["units"] = "财务审计科、法规与综合监督科"
    tasks["5"]["deadline"] = "10月底前"
    sections[3]["tasks"] = [t for t in sections[3]["tasks"] if t["number"] != "14"]
    sections[3]["tasks"].append(
        dict(
            tasks["13"], number="15", title="开展政务公开培训。", units="督查督办科", deadline="6月"
        )
    )
    return sections


def test_same_file_twice_changes_nothing(db, office, directory, tmp_path: Path) -> None:
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx")
    run(db, office, path)
    before = snapshot(db)
    again = run(db, office, path, now=LATER)
    assert not again.changed and again.plan["action"] == "unchanged" and again.changes == []
    assert {v.status for v in again.tasks} == {"unchanged"}
    assert snapshot(db) == before
    preview = run(db, office, path, now=LATER, dry_run=True)
    assert not preview.changed


def test_edited_version_dry_run_then_import(db, office, directory, tmp_path: Path) -> None:
    run(db, office, build_yinchuan_xlsx(tmp_path / "y.xlsx"))
    edited = build_yinchuan_xlsx(tmp_path / "y-v2.xlsx", sections=edited_sections())
    before = snapshot(db)

    preview = run(db, office, edited, now=LATER, dry_run=True)
    assert snapshot(db) == before  # the dry run wrote nothing
    expected_counts = {
        "tasks_created": 1,
        "tasks_updated": 3,  # 1 (title), 3 (units), 5 (deadline)
        "tasks_removed": 1,  # 14
        "assignments_created": 1,  # 15 → 督查督办科
        "assignments_updated": 10,  # task 5: ten units due 2023-10-31 instead of 2023-11-30
        "assignments_cancelled": 2,  # task 3 办公室, task 14 办公室
        "assignments_reopened": 0,
    }
    assert preview.counts == expected_counts
    details = "\n".join(preview.changes)
    assert (
        "任务 1“抓好托育服务信息公开”的标题：“抓好重点领域信息公开” → “抓好托育服务信息公开”"
        in details
    )
    assert (
        "任务 3“抓好自身建设信息公开”的责任单位：财务审计科、法规与综合监督科、办公室 → 财务审计科、法规与综合监督科"
        in details
    )
    assert "撤销任务 3“抓好自身建设信息公开”的分派：办公室" in details
    assert (
        "任务 5“抓好民生领域信息公开”的分派 办公室（一次性）：截止日期 2023-11-30 → 2023-10-31"
        in details
    )
    assert "任务 14“汇编任务落实台账”已不在台账中" in details
    assert "新增任务 15“开展政务公开培训”" in details
    assert "工作计划的来源文件：“y.xlsx” → “y-v2.xlsx”" in details
    status = {v.number: v.status for v in preview.tasks}
    assert status["1"] == status["3"] == status["5"] == "updated" and status["15"] == "created"
    assert status["2"] == "unchanged"

    applied = run(db, office, edited, now=LATER)
    assert applied.counts == expected_counts
    with db.session() as s:
        tasks = {t.number: t for t in s.exec(select(Task)).all()}
        assert tasks["1"].title == "抓好托育服务信息公开"
        office_unit = s.exec(select(Unit).where(Unit.name == "办公室")).one()
        a3 = s.exec(
            select(Assignment).where(
                Assignment.task_id == tasks["3"].id, Assignment.unit_id == office_unit.id
            )
        ).one()
        assert a3.state == "cancelled"
        a14 = s.exec(select(Assignment).where(Assignment.task_id == tasks["14"].id)).one()
        assert a14.state == "cancelled"
        cancel = s.exec(
            select(History).where(History.assignment_id == a14.id, History.action == "cancel")
        ).one()
        assert "y-v2.xlsx" in cancel.reason
        dues5 = {
            a.due
            for a in s.exec(select(Assignment).where(Assignment.task_id == tasks["5"].id)).all()
        }
        assert dues5 == {date(2023, 10, 31)}
        assert tasks["15"].deadline_text == "6月"
    after = snapshot(db)
    assert not run(db, office, edited, now=LATER).changed  # and again: nothing
    assert snapshot(db) == after


def test_work_listed_again_is_reopened_unless_the_office_cancelled_it(
    db, office, directory, tmp_path: Path
) -> None:
    run(db, office, build_yinchuan_xlsx(tmp_path / "y.xlsx"))
    run(db, office, build_yinchuan_xlsx(tmp_path / "y-v2.xlsx", sections=edited_sections()))
    with db.session() as s:
        tasks = {t.number: t for t in s.exec(select(Task)).all()}
        by_hand = s.exec(select(Assignment).where(Assignment.task_id == tasks["2"].id)).first()
        fire(s, by_hand.id, "cancel", office, now=LATER, reason="单位职能调整")

    back = run(db, office, build_yinchuan_xlsx(tmp_path / "y-v3.xlsx"), now=LATER)

    assert back.counts["assignments_reopened"] == 2  # task 3 办公室, task 14 办公室
    assert "恢复任务 14“汇编任务落实台账”的分派 办公室" in back.changes
    [warning] = [w for w in back.warnings if "未恢复" in w]
    assert f"duban task reopen {by_hand.id}" in warning and "\n" not in warning
    with db.session() as s:
        office_unit = s.exec(select(Unit).where(Unit.name == "办公室")).one()
        for number in ("3", "14"):
            a = s.exec(
                select(Assignment).where(
                    Assignment.task_id == tasks[number].id, Assignment.unit_id == office_unit.id
                )
            ).one()
            assert a.state == "assigned"
            reopen = s.exec(
                select(History).where(History.assignment_id == a.id, History.action == "reopen")
            ).one()
            assert reopen.from_state == "cancelled" and "y-v3.xlsx" in reopen.reason
        assert s.get(Assignment, by_hand.id).state == "cancelled"
    assert not run(db, office, build_yinchuan_xlsx(tmp_path / "y-v3.xlsx"), now=LATER).changed


def test_extension_survives_a_due_change(db, office, directory, tmp_path: Path) -> None:
    run(db, office, build_yinchuan_xlsx(tmp_path / "y.xlsx"))
    with db.session() as s:
        task = s.exec(select(Task).where(Task.number == "4")).one()
        a = s.exec(select(Assignment).where(Assignment.task_id == task.id)).one()
        fire(s, a.id, "extend", office, now=NOW, reason="需协调", new_due=date(2023, 12, 15))
    sections = yinchuan_sections()
    sections[0]["tasks"][3]["deadline"] = "10月底前"
    result = run(
        db, office, build_yinchuan_xlsx(tmp_path / "y2.xlsx", sections=sections), now=LATER
    )
    assert result.counts["assignments_updated"] == 1
    with db.session() as s:
        a = s.exec(select(Assignment).where(Assignment.task_id == task.id)).one()
        assert a.original_due == date(2023, 10, 31) and a.due == date(2023, 12, 15)


# -- refused imports change nothing ---------------------------------------------------------
def test_unknown_unit(db, office, directory, tmp_path: Path) -> None:
    sections = yinchuan_sections()
    sections[2]["tasks"][0]["units"] = "办公室、宣传科室、督察督办科"
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx", sections=sections)
    before = snapshot(db)
    with pytest.raises(LedgerError) as err:
        run(db, office, path)
    message = err.value.message
    assert message.startswith(
        "y.xlsx：工作表“任务落实台账”第17行E列（责任单位）：单位“宣传科室”不在单位名录中，最接近的是："
    )
    assert "最接近的是：宣传科、宣传与对外交流合作科" in message
    assert "共 2 个未知单位：宣传科室、督察督办科" in message and "--create-units" in message
    assert "\n" not in message
    assert snapshot(db) == before


def test_create_units(db, office, directory, tmp_path: Path) -> None:
    sections = yinchuan_sections()
    sections[2]["tasks"][0]["units"] = "办公室、海域处（审批处）、委派驻纪检组"
    sections[2]["tasks"][1]["units"] = "审批处、各派出机构"
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx", sections=sections)
    preview = run(db, office, path, create_units=True, dry_run=True)
    assert preview.created_units == ["海域处", "委派驻纪检组", "各派出机构"]
    units9 = preview.as_json()["tasks"][8]["units"]
    assert units9 == [
        {"name": "海域处", "role": "responsible"},
        {"name": "各派出机构", "role": "responsible"},
    ]
    with db.session() as s:
        assert s.exec(select(Unit).where(Unit.name == "海域处")).first() is None
    run(db, office, path, create_units=True)
    with db.session() as s:
        sea = s.exec(select(Unit).where(Unit.name == "海域处")).one()
        assert sea.aliases == ["审批处"]


def test_impossible_date(db, office, directory, tmp_path: Path) -> None:
    sections = yinchuan_sections()
    sections[1]["tasks"][1]["deadline"] = "13月"
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx", sections=sections)
    before = snapshot(db)
    with pytest.raises(LedgerError) as err:
        run(db, office, path, create_units=True)
    assert err.value.message == (
        "y.xlsx：工作表“任务落实台账”第14行F列（完成时限）：完成时限「13月」中的月份 13 不存在（应为 1–12 月）"
    )
    assert snapshot(db) == before


def test_impossible_date_in_requirement_text(db, office, directory, tmp_path: Path) -> None:
    rows = [
        ["2023年任务表"],
        ["序号", "工作任务", "具体要求", "责任单位"],
        [1, "做好公开", "2023年2月30日前完成。", "办公室"],
    ]
    path = write_xlsx(tmp_path / "t.xlsx", rows)
    with pytest.raises(LedgerError) as err:
        run(db, office, path)
    assert err.value.message.startswith(
        "t.xlsx：工作表“台账”第3行C列（具体要求）：完成时限「2023年2月30日前」不是有效日期"
    )


def test_plan_year_and_report_dates(db, office, directory, tmp_path: Path) -> None:
    rows = [["序号", "工作任务", "责任单位", "完成时限"], [1, "做好公开", "办公室", "长期坚持"]]
    path = write_xlsx(tmp_path / "tasks.xlsx", rows)
    with pytest.raises(
        LedgerError, match="tasks.xlsx：标题：无法确定计划年度.*请用 --plan-year 指定"
    ):
        run(db, office, path)
    result = run(
        db,
        office,
        path,
        plan_year=2024,
        report_dates=[date(2024, 6, 28), date(2024, 12, 20)],
        dry_run=True,
    )
    assert result.plan["year"] == 2024 and result.plan["report_dates_source"] == "option"
    assert result.as_json()["tasks"][0]["due_dates"] == ["2024-06-28", "2024-12-20"]


def test_unreadable_deadline_is_a_warning(db, office, directory, tmp_path: Path) -> None:
    sections = yinchuan_sections()
    sections[0]["tasks"][0]["deadline"] = "视情况而定"
    result = run(
        db, office, build_yinchuan_xlsx(tmp_path / "y.xlsx", sections=sections), dry_run=True
    )
    assert result.as_json()["tasks"][0]["due_dates"] == ["2023-07-31", "2023-11-30"]
    assert any("第6行F列（完成时限）" in w and "视情况而定" in w for w in result.warnings)


def test_only_the_office_imports(db, directory, tmp_path: Path) -> None:
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx")
    with pytest.raises(PermissionDenied, match="无权导入台账"):
        run(db, Caller(role="unit", name="办公室", unit_id=1), path)

"""A due date outside the working-day calendar (2001-01-01 … 2100-12-31) is refused where it
enters — import, ``task add``, ``task extend``, ``task request-extension``, ``event add`` — with
one line and the database unchanged (issue 12, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import write_xlsx

from calendars import ChinaCalendar
from workflow.dates.due import check_due, due_range, out_of_range
from workflow.errors import InvalidInput

OUTSIDE = ["0001-01-01", "2000-12-31", "2101-01-01"]


def test_the_range_is_the_calendars() -> None:
    from datetime import date

    first, last = due_range(ChinaCalendar())
    assert (first, last) == (date(2001, 1, 1), date(2100, 12, 31))
    assert out_of_range(first) is None and out_of_range(last) is None
    for text in OUTSIDE:
        with pytest.raises(InvalidInput, match="超出工作日历的范围"):
            check_due(date.fromisoformat(text))


def _one_line_refusal(result, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("错误：") and len(result.stderr.strip().splitlines()) == 1
    assert "超出工作日历的范围" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("day", OUTSIDE)
def test_task_add_extend_and_event_add(duban, day: str) -> None:
    duban.ok("unit", "add", "办公室")
    _one_line_refusal(duban("task", "add", "公开预算", "--unit", "办公室", "--due", day))
    _one_line_refusal(
        duban("event", "add", "政策解读", "--date", day, "--unit", "办公室", "--ref", "文1")
    )
    assert duban.json("task", "list") == []
    duban.ok("task", "add", "公开预算", "--unit", "办公室", "--due", "2026-05-29")
    if day > "2026":
        _one_line_refusal(duban("task", "extend", "1", "--to", day, "--reason", "等待文件"))
    assert [t["due"] for t in duban.json("task", "list")] == ["2026-05-29"]


@pytest.mark.parametrize(
    ("deadline", "option"),
    [("2101年1月1日前", None), ("2000年12月31日前", None), ("11月", ["--plan-year", "2000"])],
)
def test_import_refuses_the_cell(duban, tmp_path: Path, deadline: str, option) -> None:
    duban.ok("unit", "add", "办公室")
    rows = [
        ["2026年政务公开工作台账"],
        ["序号", "工作任务", "责任单位", "完成时限"],
        [1, "公开预算", "办公室", deadline],
    ]
    path = write_xlsx(tmp_path / "台账.xlsx", rows)
    result = duban("import", str(path), *(option or []))
    if option:  # the plan year itself is refused before any date is computed
        assert result.exit_code == 8 and "计划年度 2000 超出工作日历的范围" in result.stderr
    else:
        _one_line_refusal(result, 8)
        assert "第3行D列" in result.stderr
    assert duban.json("plan", "list") == []

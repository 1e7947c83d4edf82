"""The review workbook: what an import understood, as a ledger the office can fix and import.

``duban import PLAN.docx --dry-run --to-ledger review.xlsx`` writes the tasks read from a file
(a prose plan above all) in the layout ``duban import`` reads back:

* a title row (the plan's title, so the corrected workbook imports into the same plan) and, when
  the plan has report dates, an intro line announcing them ("…于2017年7月31日、…前报送");
* a row for each section and sub-section when it begins, then a row per task, with the header
  序号 | 工作任务 | 具体要求 | 量化指标 | 牵头单位 | 责任单位 | 配合单位 | 完成时限 | 原文位置 | 备注
  (the last two ignored by the importer) just before the first task — below the first section
  rows, because the importer takes a short row such as "二、主要任务" right under a header for a
  second header line; per task: units by role as
  written in the file (a group stays a group), the deadline phrase the import used, where the
  task stood in the file and, in 备注, what needs a look (no units, unknown units, unreadable
  dates, event time limits);
* notes about the whole file ("注：…") after the tasks.

Importing the workbook unchanged gives the same tasks (same keys, so it updates the plan the
original file created); editing a cell changes just that task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workflow.errors import InvalidInput
from workflow.ledger.parsed import ParsedLedger, ParsedTask
from workflow.ledger.planning import PlannedLedger
from workflow.writing.files import atomic_write, lines_needed, refuse_same_file

REVIEW_COLUMNS: tuple[tuple[str, float], ...] = (  # header, width in Excel character units
    ("序号", 6),
    ("工作任务", 24),
    ("具体要求", 56),
    ("量化指标", 16),
    ("牵头单位", 16),
    ("责任单位", 22),
    ("配合单位", 14),
    ("完成时限", 14),
    ("原文位置", 12),
    ("备注", 36),
)
ROLE_COLUMNS = {"lead": 4, "responsible": 5, "cooperating": 6}
NOTE_PREFIX = "注："


@dataclass(frozen=True)
class ReviewSummary:
    path: str
    tasks: int
    flagged: int  # tasks with something in 备注

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "tasks": self.tasks, "flagged": self.flagged}


@dataclass
class _Row:
    kind: str  # title | intro | header | section | task | note
    values: list[Any]


def _intro(dates: list[date]) -> str:
    """A line the importer reads the report dates from."""
    listed = "、".join(f"{d.year}年{d.month}月{d.day}日" for d in sorted(dates))
    return f"各单位请于{listed}前报送落实情况。"


def _units(task: ParsedTask) -> dict[str, str]:
    cells: dict[str, list[str]] = {"lead": [], "responsible": [], "cooperating": []}
    for mention, _ in task.units:
        name = mention.full
        if name not in cells[mention.role]:
            cells[mention.role].append(name)
    return {role: "、".join(names) for role, names in cells.items()}


def _task_row(
    task: ParsedTask, deadline_text: str | None, notes: list[str], width: int
) -> list[Any]:
    values: list[Any] = [""] * width
    values[0] = task.number or ""
    values[1] = task.title
    values[2] = task.content or ""
    values[3] = task.metric or ""
    for role, text in _units(task).items():
        values[ROLE_COLUMNS[role]] = text
    values[7] = deadline_text or ""
    values[8] = task.row.where()
    values[9] = "\n".join(dict.fromkeys(notes))
    return values


def review_rows(
    ledger: ParsedLedger | PlannedLedger, unknown: dict[str, list[str]] | None = None
) -> list[_Row]:
    """The rows of the review workbook; ``unknown`` maps task keys to unit names not found."""
    planned = ledger if isinstance(ledger, PlannedLedger) else None
    parsed = planned.parsed if planned else ledger
    width = len(REVIEW_COLUMNS)
    rows = [_Row("title", [parsed.title])]
    if planned and planned.report_dates:
        rows.append(_Row("intro", [_intro(planned.report_dates)]))
    current: list[str] = []
    task_notes: set[str] = set()
    for index, task in enumerate(parsed.tasks):
        path = list(task.section_path)
        for depth, heading in enumerate(path):
            if depth >= len(current) or current[depth] != heading:
                rows.append(_Row("section", [heading]))
                current = path[: depth + 1]
        current = path
        notes = list(getattr(task, "notes", []))
        if not task.units and not notes:
            notes.append("没有牵头或责任单位")
        if unknown and unknown.get(task.key):
            notes.append(f"单位不在名录中：{'、'.join(unknown[task.key])}")
        deadline_text = task.deadline_text
        if planned:
            pt = planned.tasks[index]
            deadline_text = pt.deadline_text
            notes.extend(pt.deadline.warnings)
        task_notes.update(notes)
        if index == 0:  # after the first sections: a short section right under the header
            rows.append(_Row("header", [n for n, _ in REVIEW_COLUMNS]))  # reads as a sub-header
        rows.append(_Row("task", _task_row(task, deadline_text, notes, width)))
    warnings = planned.warnings if planned else parsed.warnings
    for warning in warnings:
        if not any(note in warning for note in task_notes):
            rows.append(_Row("note", [NOTE_PREFIX + warning]))
    return rows


def _write(rows: list[_Row], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "复核台账"
    ncol = len(REVIEW_COLUMNS)
    last = get_column_letter(ncol)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    for i, (_, width) in enumerate(REVIEW_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    header_row = 0
    for r, row in enumerate(rows, start=1):
        if row.kind != "task" and row.kind != "header":
            cell = _cell(ws, r, 1, row.values[0])
            ws.merge_cells(f"A{r}:{last}{r}")
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            if row.kind == "title":
                cell.font = Font(bold=True, size=14)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                ws.row_dimensions[r].height = 30
            elif row.kind == "section":
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="F2F2F2")
            else:
                ws.row_dimensions[r].height = 15 * lines_needed(str(row.values[0]), 200) + 3
            continue
        lines = 1
        for c, value in enumerate(row.values, start=1):
            cell = _cell(ws, r, c, value)
            cell.border = border
            cell.alignment = wrap_top
            if row.kind == "header":
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="D9E1F2")
            lines = max(lines, lines_needed(str(value or ""), REVIEW_COLUMNS[c - 1][1]))
            if c == ncol and value:
                cell.font = Font(color="C00000")
        if row.kind == "header":
            header_row = r
        else:
            ws.row_dimensions[r].height = min(409, 15 * lines + 3)
    if header_row:
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    wb.save(path)


def _cell(ws, row: int, column: int, value: Any):
    """Write a cell; text starting with "=" stays text (never a formula)."""
    cell = ws.cell(row=row, column=column, value=None if value == "" else value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def write_review_ledger(
    ledger: ParsedLedger | PlannedLedger,
    path: str | Path,
    *,
    unknown: dict[str, list[str]] | None = None,
) -> ReviewSummary:
    """Write the review workbook (.xlsx) atomically; a failure leaves no half file."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InvalidInput(f"复核台账只能写成 .xlsx 工作簿：{path}")
    rows = review_rows(ledger, unknown)
    atomic_write(path, lambda tmp: _write(rows, tmp))
    tasks = [r for r in rows if r.kind == "task"]
    return ReviewSummary(str(path), len(tasks), sum(1 for r in tasks if r.values[-1]))


def unknown_units(
    session: Any, caller: Any, now: datetime, ledger: PlannedLedger
) -> dict[str, list[str]]:
    """Task key → unit names the directory does not know (read only: nothing is created)."""
    from workflow.ledger.resolve import UnitResolver

    resolver = UnitResolver(session, caller, now, create_units=False)
    found: dict[str, list[str]] = {}
    for pt in ledger.tasks:
        missing: list = []
        resolver.resolve_task(pt.parsed, missing)
        if missing:
            found[pt.parsed.key] = list(dict.fromkeys(u.mention.name for u in missing))
    return found


def export_review(
    session: Any,
    caller: Any,
    source: str | Path,
    target: str | Path,
    *,
    calendar: Any,
    now: datetime,
    plan_year: int | None = None,
    report_dates: list[date] | None = None,
    sheet: str | None = None,
    columns: dict[str, str] | None = None,
    rest_day: str = "next",
) -> ReviewSummary:
    """Read ``source`` as ``duban import`` does and write its review workbook to ``target``."""
    from workflow.directory.roles import require_role
    from workflow.ledger.importing import directory_names, read_ledger

    require_role(caller, "office", "导出复核台账")
    refuse_same_file(source, target, "--to-ledger")
    planned = read_ledger(
        source,
        calendar=calendar,
        plan_year=plan_year,
        report_dates=report_dates,
        sheet=sheet,
        columns=columns,
        known=directory_names(session),
        rest_day=rest_day,
    )
    return write_review_ledger(
        planned, target, unknown=unknown_units(session, caller, now, planned)
    )

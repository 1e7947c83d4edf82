"""Ledger export: the plan's 任务落实台账 filled in, as .xlsx (openpyxl) or .csv (UTF-8 with BOM).

Layout, the office's own (and one the importer reads back):

* a title row (the plan's title), a 填报单位/导出日期 line and, when the plan has report dates,
  the line announcing them ("请于2023年7月31日、2023年11月30日前报送进展落实情况"), so the
  file imports back with its report dates;
* the header: 序号, 工作任务, 具体要求, 量化指标, 牵头单位, 责任单位, 完成时限, 进展落实情况
  — the ledger's columns — then 状态, 截止日期, 是否逾期;
* a row per section (一、…) and sub-section (（一）…) when it begins, then one row per task.
  Event time limits attached to the plan come last, under their own section.

A task is shared by its units, so its row summarises them: 进展落实情况 is each unit's latest
report ("单位：text（日期报送；佐证：…）"), 状态 each unit's state (with "延期至…" for a unit whose
due date was extended), 截止日期 one date: the ledger's due date (for recurring tasks that of the
earliest open period), 是否逾期 "逾期" for a unit whose
due date passed unreported (state overdue, or before ``as_of`` and still open) and "逾期报送" for
a unit that reported late. The marks depend on ``as_of``, passed in, never read from the clock.

The 牵头单位 column is left out when no task of the plan has a lead unit (a ledger written with
责任单位 only), so no column is empty by construction.

The .xlsx opens without cleanup: column widths, wrapped text, top alignment, row heights
estimated generously for CJK text (never clipped), frozen header, the header repeated on every
printed page, landscape fit to width. Text that units typed is always text: a report starting
with "=", "+", "-" or "@" is a string cell in the .xlsx, and is prefixed with "'" in the .csv
(the usual CSV-injection rule; the importer removes that quote again).
Files are written to a temporary name and renamed, so a failure leaves no half file.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from states import OPEN_STATES, STATE_LABELS
from workflow.clock import local_date
from workflow.directory.plans import resolve_plan
from workflow.directory.roles import Caller, require_role
from workflow.errors import InvalidInput, NotFound
from workflow.files import atomic_write, display_width
from workflow.models import Assignment, Plan, Report, Task, Unit

LEDGER_COLUMNS: tuple[tuple[str, float], ...] = (  # header, width in Excel character units
    ("序号", 6),
    ("工作任务", 22),
    ("具体要求", 50),
    ("量化指标", 26),
    ("牵头单位", 14),
    ("责任单位", 20),
    ("完成时限", 12),
    ("进展落实情况", 44),
    ("状态", 16),
    ("截止日期", 13),
    ("是否逾期", 12),
)
HEADERS = [name for name, _ in LEDGER_COLUMNS]
EVENT_SECTION = "事件触发的时限任务"
_OVERDUE, _LATE = "逾期", "逾期报送"


@dataclass
class LedgerRow:
    kind: str  # title | subtitle | intro | header | section | task
    values: list[Any]
    level: int = 0  # section depth (1: 一、 2: （一）)


@dataclass
class LedgerTable:
    plan: Plan
    as_of: date | None
    rows: list[LedgerRow] = field(default_factory=list)
    columns: list[tuple[str, float]] = field(default_factory=lambda: list(LEDGER_COLUMNS))

    @property
    def headers(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def task_count(self) -> int:
        return sum(r.kind == "task" for r in self.rows)


@dataclass(frozen=True)
class ExportSummary:
    plan_id: int
    path: str
    format: str  # xlsx | csv
    tasks: int
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "path": self.path,
            "format": self.format,
            "tasks": self.tasks,
            "rows": self.rows,
        }


# --------------------------------------------------------------------------- the table


def ledger_table(session: Session, plan_id: int, *, as_of: date | None = None) -> LedgerTable:
    """The rows of the filled-in ledger, shared by the .xlsx and .csv writers."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"工作计划 #{plan_id} 不存在（用 duban import 导入台账后再导出）")
    tasks = session.exec(select(Task).where(Task.plan_id == plan_id).order_by(Task.id)).all()
    by_task = _assignments(session, [t.id for t in tasks])
    latest = _latest_reports(session, [a.id for items in by_task.values() for a, _ in items])

    table = LedgerTable(plan=plan, as_of=as_of)
    blank = [""] * len(HEADERS)
    table.rows.append(LedgerRow("title", [plan.title, *blank[1:]]))
    subtitle = f"填报单位：{plan.issuer or ''}"
    if as_of is not None:
        subtitle += f"　　状态截至：{as_of.isoformat()}"
    table.rows.append(LedgerRow("subtitle", [subtitle, *blank[1:]]))
    if plan.report_dates:
        dates = "、".join(_long_date(date.fromisoformat(d)) for d in plan.report_dates)
        table.rows.append(LedgerRow("intro", [f"请于{dates}前报送进展落实情况", *blank[1:]]))
    table.rows.append(LedgerRow("header", list(HEADERS)))

    ledger = [t for t in tasks if t.kind != "event"]
    events = [t for t in tasks if t.kind == "event"]
    current: list[str] = []
    for task in ledger:
        path = list(task.section_path or [])
        for depth, heading in enumerate(path):
            if depth >= len(current) or current[depth] != heading:
                table.rows.append(_section_row(heading, depth + 1))
                current = path[: depth + 1]
        current = path
        table.rows.append(_task_row(task, by_task.get(task.id, []), latest, as_of))
    if events:
        table.rows.append(_section_row(EVENT_SECTION, 1))
        for task in events:
            table.rows.append(_task_row(task, by_task.get(task.id, []), latest, as_of))
    if not any(t.lead_units for t in tasks):
        _drop_column(table, HEADERS.index("牵头单位"))
    return table


def _long_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _drop_column(table: LedgerTable, index: int) -> None:
    del table.columns[index]
    for row in table.rows:
        if row.kind in ("header", "task"):
            del row.values[index]
        else:
            row.values = row.values[: len(table.columns)]


def _section_row(heading: str, level: int) -> LedgerRow:
    return LedgerRow("section", [heading] + [""] * (len(HEADERS) - 1), level=level)


def _assignments(session: Session, task_ids: list[int]) -> dict[int, list[tuple[Assignment, Unit]]]:
    out: dict[int, list[tuple[Assignment, Unit]]] = {}
    if not task_ids:
        return out
    rows = session.exec(
        select(Assignment, Unit)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Assignment.task_id.in_(task_ids))  # type: ignore[attr-defined]
        .order_by(Assignment.task_id, Assignment.id)
    ).all()
    for a, u in rows:
        out.setdefault(a.task_id, []).append((a, u))
    return out


def _latest_reports(session: Session, assignment_ids: list[int]) -> dict[int, Report]:
    """The latest report of each assignment."""
    out: dict[int, Report] = {}
    if not assignment_ids:
        return out
    reports = session.exec(
        select(Report)
        .where(Report.assignment_id.in_(assignment_ids))  # type: ignore[attr-defined]
        .order_by(Report.id)
    ).all()
    for r in reports:
        out[r.assignment_id] = r  # later ids win
    return out


@dataclass
class _UnitSummary:
    unit: Unit
    role: str
    items: list[Assignment]
    report: Report | None

    @property
    def current(self) -> Assignment:
        """The earliest still-open period, else the last one."""
        open_ = [a for a in self.items if a.state in OPEN_STATES]
        if open_:
            return min(open_, key=lambda a: (a.due, a.id))
        return max(self.items, key=lambda a: (a.due, a.id))

    def mark(self, as_of: date | None) -> str:
        if any(_is_overdue(a, as_of) for a in self.items):
            return _OVERDUE
        if any(a.late for a in self.items):
            return _LATE
        return ""

    def state_text(self) -> str:
        a = self.current
        label = STATE_LABELS.get(a.state, a.state)
        extended = f"，延期至 {a.due.isoformat()}" if a.due != a.original_due else ""
        if len(self.items) == 1:
            return f"{label}（{extended[1:]}）" if extended else label
        done = sum(x.state in ("reported", "verified") for x in self.items)
        return f"{label}（{a.period}，已报送 {done}/{len(self.items)}{extended}）"


def _is_overdue(a: Assignment, as_of: date | None) -> bool:
    if a.state == "overdue":
        return True
    return as_of is not None and a.state in OPEN_STATES and a.due < as_of


def _task_row(
    task: Task,
    items: list[tuple[Assignment, Unit]],
    latest: dict[int, Report],
    as_of: date | None,
) -> LedgerRow:
    units: dict[int, _UnitSummary] = {}
    for a, u in items:
        s = units.setdefault(u.id, _UnitSummary(u, a.role, [], None))
        s.items.append(a)
        r = latest.get(a.id)
        if r is not None and (s.report is None or r.id > s.report.id):
            s.report = r
    summaries = list(units.values())
    many = len(summaries) > 1

    def per_unit(text_of) -> str:
        parts = [(s.unit.name, text_of(s)) for s in summaries]
        parts = [(n, t) for n, t in parts if t]
        if not many:
            return parts[0][1] if parts else ""
        return "\n".join(f"{n}：{t}" for n, t in parts)

    # one date per row: the ledger's (original) due date; extensions show in 状态
    due_cell: Any = min(s.current.original_due for s in summaries) if summaries else ""
    values = [
        task.number or "",
        task.title,
        task.content or "",
        task.metric or "",
        "、".join(task.lead_units or []),
        _unit_cell(task),
        task.deadline_text or "",
        per_unit(lambda s: _report_text(s.report)),
        per_unit(lambda s: s.state_text()) if summaries else "未分派",
        due_cell,
        per_unit(lambda s: s.mark(as_of)),
    ]
    return LedgerRow("task", values)


def _unit_cell(task: Task) -> str:
    text = "、".join(task.responsible_units or [])
    if task.cooperating_units:
        coop = "、".join(task.cooperating_units)
        text = f"{text}；协办：{coop}" if text else f"协办：{coop}"
    return text


def _report_text(report: Report | None) -> str:
    if report is None:
        return ""
    notes = []
    if report.created_at is not None:
        notes.append(f"{local_date(report.created_at).isoformat()}报送")
    if report.late:
        notes.append("逾期报送")
    if report.evidence:
        notes.append("佐证：" + "；".join(report.evidence))
    return report.text.strip() + (f"（{'，'.join(notes)}）" if notes else "")


# --------------------------------------------------------------------------- writers


def export_ledger_xlsx(
    session: Session, plan_id: int, path: str | Path, *, as_of: date | None = None
) -> ExportSummary:
    table = ledger_table(session, plan_id, as_of=as_of)
    atomic_write(Path(path), lambda tmp: _write_xlsx(table, tmp))
    return ExportSummary(plan_id, str(path), "xlsx", table.task_count, len(table.rows))


def export_ledger_csv(
    session: Session, plan_id: int, path: str | Path, *, as_of: date | None = None
) -> ExportSummary:
    table = ledger_table(session, plan_id, as_of=as_of)
    atomic_write(Path(path), lambda tmp: _write_csv(table, tmp))
    return ExportSummary(plan_id, str(path), "csv", table.task_count, len(table.rows))


def export_ledger(
    session: Session,
    caller: Caller,
    plan: str | int,
    path: str | Path,
    *,
    as_of: date | None = None,
) -> ExportSummary:
    """``duban export ledger``: the format follows the file's suffix (.xlsx or .csv)."""
    require_role(caller, ("office", "leader"), "导出台账")
    plan_id = resolve_plan(session, plan)
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return export_ledger_xlsx(session, plan_id, path, as_of=as_of)
    if suffix == ".csv":
        return export_ledger_csv(session, plan_id, path, as_of=as_of)
    raise InvalidInput(f"无法导出为“{path}”：文件名应以 .xlsx 或 .csv 结尾")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with "'" (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(table: LedgerTable, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        for row in table.rows:
            values = [v.isoformat() if isinstance(v, date) else csv_safe(v) for v in row.values]
            if row.kind in {"title", "subtitle", "intro", "section"}:
                values = [values[0]]
            writer.writerow(values)


LINE_POINTS = 16  # one wrapped line of 11-pt CJK text (宋体/等线 need ~14.3–15.6)
MAX_ROW_POINTS = 409  # Excel's limit


def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a column ``width`` wide, erring on the side of more: a CJK
    character is counted 2.2 units wide (Excel's fall-back fonts are wider than 2) and a line
    loses 2 units to the cell's padding."""
    usable = max(1.0, width - 2)
    total = 0
    for line in text.split("\n"):
        wide = display_width(line)
        cjk = wide - len(line)  # characters counted twice
        units = wide + 0.2 * cjk
        total += max(1, math.ceil(units / usable))
    return total


def _text_cell(cell, value: Any) -> None:
    """Set a cell to ``value``; a string is always stored as text, never as a formula."""
    cell.value = value if value != "" else None
    if isinstance(value, str) and value:
        cell.data_type = "s"


def _write_xlsx(table: LedgerTable, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "任务落实台账"
    headers = table.headers
    ncol = len(headers)
    last = get_column_letter(ncol)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    centre = Alignment(wrap_text=True, vertical="center", horizontal="center")
    header_fill = PatternFill("solid", fgColor="D9E1F2")
    section_fill = PatternFill("solid", fgColor="F2F2F2")
    overdue_font = Font(color="C00000", bold=True)
    centred = {headers.index(h) + 1 for h in ("序号", "完成时限", "截止日期", "是否逾期")}
    mark_column = headers.index("是否逾期") + 1
    total_width = sum(width for _, width in table.columns)

    for i, (_, width) in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    header_row = 0
    for r, row in enumerate(table.rows, start=1):
        if row.kind in {"title", "subtitle", "intro", "section"}:
            cell = ws.cell(row=r, column=1)
            _text_cell(cell, row.values[0])
            ws.merge_cells(f"A{r}:{last}{r}")
            lines = wrapped_lines(str(row.values[0]), total_width)
            if row.kind == "title":
                cell.font = Font(bold=True, size=16)
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                ws.row_dimensions[r].height = max(30, 24 * lines)
            elif row.kind in ("subtitle", "intro"):
                cell.alignment = Alignment(vertical="center", wrap_text=True)
                ws.row_dimensions[r].height = LINE_POINTS * lines + 4
            else:
                cell.font = Font(bold=True, size=12 if row.level == 1 else 11)
                cell.alignment = Alignment(vertical="center", wrap_text=True)
                for c in range(1, ncol + 1):
                    ws.cell(row=r, column=c).fill = section_fill
                    ws.cell(row=r, column=c).border = border
                ws.row_dimensions[r].height = max(20, (LINE_POINTS + 1) * lines + 4)
            continue
        lines = 1
        for c, value in enumerate(row.values, start=1):
            cell = ws.cell(row=r, column=c)
            _text_cell(cell, value)
            cell.border = border
            if row.kind == "header":
                cell.font = Font(bold=True)
                cell.fill = header_fill
                cell.alignment = centre
                continue
            multi_line = isinstance(value, str) and "\n" in value  # one line per unit
            cell.alignment = centre if c in centred and not multi_line else wrap_top
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            if c == mark_column and value:
                cell.font = overdue_font
            text = value.isoformat() if isinstance(value, date) else str(value or "")
            lines = max(lines, wrapped_lines(text, table.columns[c - 1][1]))
        if row.kind == "header":
            header_row = r
            ws.row_dimensions[r].height = 22
        else:
            ws.row_dimensions[r].height = min(MAX_ROW_POINTS, LINE_POINTS * lines + 6)

    if header_row:
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.save(path)


def iter_values(table: LedgerTable) -> Iterable[list[Any]]:
    """Row values as plain lists (tests and other writers)."""
    return (row.values for row in table.rows)

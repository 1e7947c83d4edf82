"""Ledger export: the plan's 任务落实台账 filled in, as .xlsx (openpyxl) or .csv (UTF-8 with BOM).

Layout, the office's own (and one the importer reads back):

* a title row (the plan's title), a 填报单位/导出日期 line and, when the plan has report dates,
  the line announcing them ("请于2023年7月31日、2023年11月30日前报送进展落实情况"), so the
  file imports back with its report dates;
* the header: 序号, 工作任务, 具体要求, 量化指标, 牵头单位, 责任单位, 完成时限, 进展落实情况
  — the ledger's columns — then 状态, 截止日期, 是否逾期, 签收时间 (each unit's 签收, issue 31);
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

The export streams: the tasks are read as plain rows, their assignments (each with its latest
report) in one Core query taken a task at a time, and the .xlsx is written in openpyxl's
write-only mode (:mod:`workflow.writing.xlsx_stream`), so 93,000 assignments need no more memory than
one task's. :func:`ledger_table` gives the same rows as a list (tests, small plans).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from itertools import chain, groupby
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from states import OPEN_STATES, STATE_LABELS
from workflow.dates.clock import local_date
from workflow.directory.plans import resolve_plan
from workflow.directory.roles import Caller, require_role
from workflow.errors import InvalidInput, NotFound
from workflow.storage.models import Assignment, Plan, Report, Task, Unit
from workflow.writing.files import atomic_write, display_width
from workflow.writing.xlsx_stream import stream_rows, style_id

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
    ("签收时间", 18),
)
HEADERS = [name for name, _ in LEDGER_COLUMNS]
EVENT_SECTION = "事件触发的时限任务"

_OVERDUE, _LATE = "逾期", "逾期报送"


@dataclass
class LedgerRow:
    kind: str  # title | subtitle | intro | header | section | task
    values: list[Any]
    level: int = 0  # section depth (1: 一、 2: （一）)
    task_id: int | None = None  # a task row's task (the hidden records sheet is keyed by row)


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


@dataclass
class _Ledger:
    """The ledger to write: its columns and leading rows known at once, the section and task
    rows streamed (one task's assignments in memory at a time)."""

    plan: Plan
    columns: list[tuple[str, float]]
    head: list[LedgerRow]
    body: Iterator[LedgerRow]

    @property
    def header_row(self) -> int:
        """The header's row number (1-based)."""
        return next(i for i, r in enumerate(self.head, start=1) if r.kind == "header")

    @property
    def headers(self) -> list[str]:
        return [name for name, _ in self.columns]


def ledger_table(session: Session, plan_id: int, *, as_of: date | None = None) -> LedgerTable:
    """The rows of the filled-in ledger, as the .xlsx and .csv writers write them."""
    ledger = _ledger(session, plan_id, as_of)
    rows = [*ledger.head, *ledger.body]
    return LedgerTable(plan=ledger.plan, as_of=as_of, rows=rows, columns=ledger.columns)


_TASK_COLUMNS = (
    "id", "kind", "section_path", "number", "title", "content", "metric", "deadline_text",
    "lead_units", "responsible_units", "cooperating_units", "units_written",
)  # fmt: skip


def _ledger(session: Session, plan_id: int, as_of: date | None) -> _Ledger:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"工作计划 #{plan_id} 不存在（用 duban import 导入台账后再导出）")
    t = Task.__table__.c
    tasks = session.execute(
        sa.select(*(t[name] for name in _TASK_COLUMNS)).where(t.plan_id == plan_id).order_by(t.id)
    ).all()  # plain rows: a few thousand, without their assignments
    columns = list(LEDGER_COLUMNS)
    dropped = None
    if not any(task.lead_units for task in tasks):
        dropped = HEADERS.index("牵头单位")  # no task names a lead: no empty column
        del columns[dropped]
    width = len(columns)
    blank = [""] * (width - 1)
    head = [LedgerRow("title", [plan.title, *blank])]
    subtitle = f"填报单位：{plan.issuer or ''}"
    if as_of is not None:
        subtitle += f"　　状态截至：{as_of.isoformat()}"
    head.append(LedgerRow("subtitle", [subtitle, *blank]))
    if plan.report_dates:
        dates = "、".join(_long_date(date.fromisoformat(d)) for d in plan.report_dates)
        head.append(LedgerRow("intro", [f"请于{dates}前报送进展落实情况", *blank]))
    head.append(LedgerRow("header", [name for name, _ in columns]))
    body = _body(session, plan_id, tasks, as_of, dropped, width)
    return _Ledger(plan=plan, columns=columns, head=head, body=body)


def _body(
    session: Session,
    plan_id: int,
    tasks: list[Any],
    as_of: date | None,
    dropped: int | None,
    width: int,
) -> Iterator[LedgerRow]:
    """Section rows as they begin and one row per task: the ledger's tasks, then the events'."""
    ledger = [t for t in tasks if t.kind != "event"]
    events = [t for t in tasks if t.kind == "event"]
    names = dict(session.execute(sa.select(Unit.__table__.c.id, Unit.__table__.c.name)).all())
    by_task = _assignments_by_task(session, plan_id)
    pending = next(by_task, None)

    def row(task: Any) -> LedgerRow:
        nonlocal pending
        items: list[Any] = []
        if pending is not None and pending[0] == task.id:
            items = pending[1]
            pending = next(by_task, None)
        out = _task_row(task, items, names, as_of)
        if dropped is not None:
            del out.values[dropped]
        return out

    current: list[str] = []
    for task in ledger:
        path = list(task.section_path or [])
        for depth, heading in enumerate(path):
            if depth >= len(current) or current[depth] != heading:
                yield _section_row(heading, depth + 1, width)
                current = path[: depth + 1]
        current = path
        yield row(task)
    if events:
        yield _section_row(EVENT_SECTION, 1, width)
        for task in events:
            yield row(task)


def _assignments_by_task(session: Session, plan_id: int) -> Iterator[tuple[int, list[Any]]]:
    """(task id, its assignments with their latest report) for the plan's tasks that have any,
    in the order the rows are written: the ledger's tasks by id, then the events'. One query,
    streamed: plain rows, never all of them at once."""
    a, t, r = Assignment.__table__.c, Task.__table__.c, Report.__table__
    latest = (
        sa.select(r.c.assignment_id, sa.func.max(r.c.id).label("report_id"))
        .group_by(r.c.assignment_id)
        .subquery()
    )
    query = (
        sa.select(
            a.task_id,
            a.unit_id,
            a.id,
            a.state,
            a.due,
            a.original_due,
            a.period,
            a.late,
            a.acknowledged_at,
            r.c.id.label("report_id"),
            r.c.text.label("report_text"),
            r.c.created_at.label("report_at"),
            r.c.late.label("report_late"),
            r.c.evidence.label("report_evidence"),
        )
        .select_from(Assignment.__table__)
        .join(Task.__table__, t.id == a.task_id)
        .outerjoin(latest, latest.c.assignment_id == a.id)
        .outerjoin(r, r.c.id == latest.c.report_id)
        .where(t.plan_id == plan_id)
        .order_by(sa.case((t.kind == "event", 1), else_=0), a.task_id, a.id)
    )
    rows = session.execute(query, execution_options={"yield_per": 2000})
    for task_id, items in groupby(rows, key=lambda row: row.task_id):
        yield task_id, list(items)


def _long_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _section_row(heading: str, level: int, width: int) -> LedgerRow:
    return LedgerRow("section", [heading] + [""] * (width - 1), level=level)


@dataclass
class _UnitSummary:
    name: str
    items: list[Any]  # the unit's assignments of the task (rows of _assignments_by_task)
    report: Any = None  # the row holding the unit's latest report, if any

    @cached_property
    def current(self) -> Any:
        """The earliest still-open period, else the last one (asked once all items are in)."""
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


def _is_overdue(a: Any, as_of: date | None) -> bool:
    if a.state == "overdue":
        return True
    return as_of is not None and a.state in OPEN_STATES and a.due < as_of


def _task_row(task: Any, items: list[Any], names: dict[int, str], as_of: date | None) -> LedgerRow:
    """A task's row; ``items``: its assignments, each with its latest report (if any)."""
    units: dict[int, _UnitSummary] = {}
    for a in items:
        s = units.get(a.unit_id)
        if s is None:
            s = units[a.unit_id] = _UnitSummary(names.get(a.unit_id, str(a.unit_id)), [])
        s.items.append(a)
        if a.report_id is not None and (s.report is None or a.report_id > s.report.report_id):
            s.report = a
    summaries = list(units.values())
    many = len(summaries) > 1

    def per_unit(text_of) -> str:
        parts = [(s.name, text_of(s)) for s in summaries]
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
        "、".join(_written(task, "lead")),
        _unit_cell(task),
        task.deadline_text or "",
        per_unit(lambda s: _report_text(s.report)),
        per_unit(lambda s: s.state_text()) if summaries else "未分派",
        due_cell,
        per_unit(lambda s: s.mark(as_of)),
        per_unit(_acknowledged),
    ]
    return LedgerRow("task", values, task_id=task.id)


def _written(task: Any, role: str) -> list[str]:
    """The task's units of ``role`` as the office wrote them (a group stays a group), else the
    names resolved at import."""
    written = task.units_written or {}
    if role in written:
        return list(written[role])
    return list(getattr(task, f"{role}_units") or [])


def _acknowledged(s: _UnitSummary) -> str:
    """When the unit signed for the task (its earliest 签收 over the periods), Shanghai time."""
    times = [a.acknowledged_at for a in s.items if a.acknowledged_at is not None]
    if not times:
        return ""
    from workflow.dates.clock import SHANGHAI

    return min(times).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _unit_cell(task: Any) -> str:
    text = "、".join(_written(task, "responsible"))
    cooperating = _written(task, "cooperating")
    if cooperating:
        coop = "、".join(cooperating)
        text = f"{text}；协办：{coop}" if text else f"协办：{coop}"
    return text


def _report_text(row: Any) -> str:
    """A unit's latest report: ``row`` holds it (report_text, report_at, …), or is None."""
    if row is None:
        return ""
    notes = []
    if row.report_at is not None:
        notes.append(f"{local_date(row.report_at).isoformat()}报送")
    if row.report_late:
        notes.append("逾期报送")
    if row.report_evidence:
        notes.append("佐证：" + "；".join(row.report_evidence))
    return row.report_text.strip() + (f"（{'，'.join(notes)}）" if notes else "")


# --------------------------------------------------------------------------- writers


class _Counted:
    """The ledger's rows, counted (rows, task rows) as a writer takes them."""

    def __init__(self, ledger: _Ledger) -> None:
        self.ledger = ledger
        self.rows = self.tasks = 0

    def __iter__(self) -> Iterator[LedgerRow]:
        sections = 0
        for row in chain(self.ledger.head, self.ledger.body):
            self.rows += 1
            self.tasks += row.kind == "task"
            if row.kind == "section" and row.level == 1:
                sections += 1
                if row.values[0] == EVENT_SECTION:  # numbered like the others: it reads back
                    numeral = _NUMERALS[sections - 1] if sections <= len(_NUMERALS) else ""
                    row = LedgerRow("section", [f"{numeral}、{EVENT_SECTION}", *row.values[1:]], 1)
            yield row


_NUMERALS = [*"一二三四五六七八九十", *(f"十{n}" for n in "一二三四五六七八九"), "二十"]


def export_ledger_xlsx(
    session: Session, plan_id: int, path: str | Path, *, as_of: date | None = None
) -> ExportSummary:
    from workflow.ledger.records import record_rows

    ledger = _ledger(session, plan_id, as_of)
    rows = _Counted(ledger)

    def records(task_rows: dict[int, int]) -> Iterator[list[Any]]:
        return record_rows(session, plan_id, task_rows)

    atomic_write(Path(path), lambda tmp: _write_xlsx(ledger, rows, tmp, records))
    return ExportSummary(plan_id, str(path), "xlsx", rows.tasks, rows.rows)


def export_ledger_csv(
    session: Session, plan_id: int, path: str | Path, *, as_of: date | None = None
) -> ExportSummary:
    ledger = _ledger(session, plan_id, as_of)
    rows = _Counted(ledger)
    atomic_write(Path(path), lambda tmp: _write_csv(rows, tmp))
    return ExportSummary(plan_id, str(path), "csv", rows.tasks, rows.rows)


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


def _write_csv(rows: Iterable[LedgerRow], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        for row in rows:
            values = [v.isoformat() if isinstance(v, date) else csv_safe(v) for v in row.values]
            if row.kind in {"title", "subtitle", "intro", "section"}:
                values = [values[0]]
            writer.writerow(values)


LINE_POINTS = 16  # one wrapped line of 11-pt CJK text (宋体/等线 need ~14.3–15.6)
MAX_ROW_POINTS = 409  # Excel's limit
# a task row of this many lines or more is as tall as Excel allows
_TALLEST = math.ceil((MAX_ROW_POINTS - 6) / LINE_POINTS)


def wrapped_lines(text: str, width: float, limit: int | None = None) -> int:
    """Lines ``text`` takes in a column ``width`` wide, erring on the side of more: a CJK
    character is counted 2.2 units wide (Excel's fall-back fonts are wider than 2) and a line
    loses 2 units to the cell's padding. Counting stops once ``limit`` lines are reached."""
    usable = max(1.0, width - 2)
    total = 0
    for line in text.split("\n"):
        wide = display_width(line)
        cjk = wide - len(line)  # characters counted twice
        units = wide + 0.2 * cjk
        total += max(1, math.ceil(units / usable))
        if limit is not None and total >= limit:
            break
    return total


def _task_height(values: list[Any], widths: list[float]) -> float:
    lines = 1
    for value, width in zip(values, widths, strict=True):
        text = value.isoformat() if isinstance(value, date) else str(value or "")
        lines = max(lines, wrapped_lines(text, width, _TALLEST))
        if lines >= _TALLEST:
            break
    return min(MAX_ROW_POINTS, LINE_POINTS * lines + 6)


class _Styles:
    """The style ids of the ledger's kinds of cell, each registered once."""

    def __init__(self, ws) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        thin = Side(style="thin", color="808080")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        centre = Alignment(wrap_text=True, vertical="center", horizontal="center")
        banner = Alignment(vertical="center", wrap_text=True)
        section_fill = PatternFill("solid", fgColor="F2F2F2")
        self.title = style_id(
            ws,
            font=Font(bold=True, size=16),
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
        )
        self.banner = style_id(ws, alignment=banner)
        self.section = {
            level: style_id(
                ws,
                font=Font(bold=True, size=size),
                alignment=banner,
                fill=section_fill,
                border=border,
            )
            for level, size in ((1, 12), (2, 11))
        }
        self.section_rest = style_id(ws, fill=section_fill, border=border)
        self.header = style_id(
            ws,
            font=Font(bold=True),
            fill=PatternFill("solid", fgColor="D9E1F2"),
            alignment=centre,
            border=border,
        )
        wrap_top = Alignment(wrap_text=True, vertical="top")
        overdue = Font(color="C00000", bold=True)
        self.cells: dict[tuple[bool, bool, bool], int] = {}
        for centred in (False, True):
            for is_date in (False, True):
                for red in (False, True):
                    attributes: dict[str, Any] = {
                        "border": border,
                        "alignment": centre if centred else wrap_top,
                    }
                    if is_date:
                        attributes["number_format"] = "yyyy-mm-dd"
                    if red:
                        attributes["font"] = overdue
                    self.cells[(centred, is_date, red)] = style_id(ws, **attributes)


def _write_xlsx(
    ledger: _Ledger, rows: Iterable[LedgerRow], path: Path, records: Any = None
) -> None:
    """Streamed in openpyxl's write-only mode, each row one XML string
    (:mod:`workflow.writing.xlsx_stream`): the file's rows are never all in memory. ``records`` gives
    the hidden sheet's rows (:mod:`workflow.ledger.records`) for the task rows written."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("任务落实台账")
    headers = ledger.headers
    ncol = len(headers)
    last = get_column_letter(ncol)
    widths = [width for _, width in ledger.columns]
    total_width = sum(widths)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    header_row = ledger.header_row
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    styles = _Styles(ws)
    heights = stream_rows(ws)
    centred = {headers.index(h) for h in ("序号", "完成时限", "截止日期", "是否逾期")}
    mark_column = headers.index("是否逾期")

    task_rows: dict[int, int] = {}  # task id → its row
    for r, row in enumerate(rows, start=1):
        if row.kind == "header":
            heights[r] = 22
            ws.append([(value, styles.header) for value in row.values])
            continue
        if row.kind != "task":  # title, subtitle, intro, section: one cell across the table
            text = row.values[0]
            lines = wrapped_lines(str(text), total_width)
            if row.kind == "title":
                cells = [(text, styles.title)]
                heights[r] = max(30, 24 * lines)
            elif row.kind in ("subtitle", "intro"):
                cells = [(text, styles.banner)]
                heights[r] = LINE_POINTS * lines + 4
            else:
                first = styles.section[1 if row.level == 1 else 2]
                cells = [(text, first)] + [(None, styles.section_rest)] * (ncol - 1)
                heights[r] = max(20, (LINE_POINTS + 1) * lines + 4)
            ws.append(cells)
            ws.merged_cells.add(f"A{r}:{last}{r}")
            continue
        cells = []
        for c, value in enumerate(row.values):
            multi_line = isinstance(value, str) and "\n" in value  # one line per unit
            key = (
                c in centred and not multi_line,
                isinstance(value, date),
                c == mark_column and bool(value),
            )
            cells.append((value, styles.cells[key]))
        heights[r] = _task_height(row.values, widths)
        ws.append(cells)
        if row.task_id is not None:
            task_rows[row.task_id] = r
    if records is not None:
        from workflow.ledger.records import SHEET

        hidden = wb.create_sheet(SHEET)
        hidden.sheet_state = "hidden"
        for values in records(task_rows):
            hidden.append(values)
    wb.save(path)


def iter_values(table: LedgerTable) -> Iterable[list[Any]]:
    """Row values as plain lists (tests and other writers)."""
    return (row.values for row in table.rows)

"""The evaluation for the 绩效考核 committee: a workbook (.xlsx) and a self-contained HTML report.

Workbook (openpyxl), three sheets, each with a title row, a line saying as of when (and that
it is a forecast during the year), a bold frozen header row, fixed column widths, wrapped text,
top alignment, estimated row heights, an autofilter, landscape printing fit to width with the
header repeated on every page:

* 考核汇总 — one row per unit in rank order: rank, unit, score, points deducted (after the cap),
  the sum of the rows (before the cap), points waived, rows, tasks due, on time, on-time rate;
* 扣分明细 — one row per deduction with its evidence: row id (for ``duban score waive``),
  unit, 序号, task, period, task id, rule, due date, original due date, report date, working
  days late, points, points counted, waived, waiver reason, explanation; waived rows are shaded;
* 扣分规则 — the rules in force, in words.

HTML: the same two tables and a horizontal bar chart of the points each unit lost (inline SVG:
counted points dark, waived points light), with inline CSS only: no scripts, fonts or images
from outside, so the file can be mailed or archived as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflow.directory.roles import Caller, require_role
from workflow.errors import InvalidInput
from workflow.evaluation.scores import Evaluation, evaluate, fmt_points
from workflow.files import atomic_write, lines_needed

SUMMARY_COLUMNS: tuple[tuple[str, float], ...] = (
    ("排名", 7),
    ("单位", 24),
    ("得分", 10),
    ("扣分", 10),
    ("扣分合计（未封顶）", 12),
    ("免扣分值", 10),
    ("扣分项数", 10),
    ("到期任务数", 11),
    ("按时完成数", 11),
    ("按时完成率", 11),
)
DETAIL_COLUMNS: tuple[tuple[str, float], ...] = (  # narrow enough to print on A4 landscape
    ("行号", 15),
    ("单位", 14),
    ("序号", 5),
    ("任务", 26),
    ("期次", 9),
    ("任务编号", 6),
    ("扣分规则", 10),
    ("截止日期", 11),
    ("原定截止日期", 11),
    ("报送日期", 11),
    ("逾期工作日", 7),
    ("扣分", 6),
    ("计入扣分", 6),
    ("是否免扣", 5),
    ("免扣理由", 20),
    ("依据说明", 32),
)
RULES_COLUMNS: tuple[tuple[str, float], ...] = (("项目", 18), ("规则", 90))
HEADER_ROW = 3
POINTS_FORMAT = "0.00"
DATE_FORMAT = "yyyy-mm-dd"
WAIVED_FILL = "E8F3E8"
TEMPLATE = Path(__file__).with_name("report.html.j2")


@dataclass(frozen=True)
class EvaluationExport:
    """What ``duban export evaluation`` wrote."""

    plan_id: int
    as_of: date
    forecast: bool
    units: int
    rows: int
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "as_of": self.as_of.isoformat(),
            "forecast": self.forecast,
            "units": self.units,
            "deductions": self.rows,
            "files": list(self.files),
        }


def export_evaluation(
    session: Session,
    caller: Caller,
    plan: str | int | None,
    path: str | Path | None,
    *,
    as_of: date,
    config: Any,
    html: str | Path | None = None,
) -> EvaluationExport:
    """Write the evaluation to ``path`` (.xlsx or .html) and/or ``html``; office and leaders."""
    require_role(caller, ("office", "leader"), "导出考核结果")
    targets = _targets(path, html)
    ev = evaluate(session, caller, plan, as_of, config=config)
    for target, kind in targets:
        if kind == "xlsx":
            write_evaluation_xlsx(ev, target)
        else:
            write_evaluation_html(ev, target)
    return EvaluationExport(
        ev.plan_id, ev.as_of, ev.forecast, len(ev.units), len(ev.rows), [str(t) for t, _ in targets]
    )


def _targets(path: str | Path | None, html: str | Path | None) -> list[tuple[Path, str]]:
    """Check every output name before anything is computed or written."""
    out: list[tuple[Path, str]] = []
    for given, allowed in ((path, (".xlsx", ".html", ".htm")), (html, (".html", ".htm"))):
        if given is None or str(given) == "":
            continue
        target = Path(given)
        suffix = target.suffix.lower()
        if suffix not in allowed:
            raise InvalidInput(f"无法导出为“{given}”：文件名应以 {' 或 '.join(allowed)} 结尾")
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise InvalidInput(f"无法写入“{given}”：目录 {folder} 不存在")
        out.append((target, "xlsx" if suffix == ".xlsx" else "html"))
    if not out:
        raise InvalidInput("请给出导出文件名（.xlsx 或 .html），或用 --html 指定网页报告")
    if len({t.resolve() for t, _ in out}) < len(out):
        raise InvalidInput("工作簿和网页报告不能写入同一个文件")
    return out


# -- rows as plain values (shared by the workbook and the HTML report) ----------------------------
def subtitle(ev: Evaluation) -> str:
    text = f"截至 {ev.as_of}；基础分 {fmt_points(ev.rules.base)} 分"
    if ev.forecast:
        text += f"；{ev.plan_year} 年尚未结束，为预测（情况不变时）"
    return text


def summary_rows(ev: Evaluation) -> list[list[Any]]:
    return [
        [
            u.rank,
            u.unit,
            u.score,
            u.deducted,
            u.deductions,
            u.waived,
            u.rows,
            u.due,
            u.on_time,
            "—" if u.on_time_rate is None else u.on_time_rate,
        ]
        for u in ev.units
    ]


def detail_rows(ev: Evaluation) -> list[list[Any]]:
    return [
        [
            r.row_id,
            r.unit,
            r.task_number or "",
            r.task,
            r.period,
            r.assignment_id,
            r.rule_label + ("（预测）" if r.forecast else ""),
            r.due,
            r.original_due,
            r.report_date if r.report_date else "未报送",
            r.days_late,
            r.points,
            r.counted,
            "是" if r.waived else "否",
            r.waiver_reason or "",
            r.note,
        ]
        for r in ev.rows
    ]


def rules_rows(ev: Evaluation) -> list[list[Any]]:
    labels = {
        "base": "基础分",
        "late_task": "逾期完成",
        "late_day": "逾期工作日",
        "never_reported": "年底未报送",
        "returned": "报送被退回",
        "unit_cap": "单位扣分上限",
        "roles": "计分范围",
    }
    rows = [[labels[key], text] for key, text in ev.rules.describe()]
    rows += [
        [
            "截止日期",
            "以批准延期后的截止日期为准；申请延期被驳回的，仍按原截止日期；已撤销的任务不计",
        ],
        ["报送日期", "以截至考核日仍有效（未被退回）的最后一次报送的日期（北京时间）为准"],
        [
            "逾期工作日",
            "截止日期次日至报送日期之间的法定工作日数（节假日、周末不计，调休上班日计入）",
        ],
        [
            "年内预测",
            "考核日在计划年度 12 月 31 日之前时，已过截止日期仍未报送的任务按截至考核日的逾期预计",
        ],
        ["免扣", "办公室经申诉核实后可免扣某一行，该行保留并注明理由，不计入扣分"],
    ]
    return rows


# -- workbook -------------------------------------------------------------------------------------
def write_evaluation_xlsx(ev: Evaluation, path: str | Path) -> Path:
    """The committee's workbook (see the module docstring)."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    summary = wb.active
    summary.title = "考核汇总"
    _sheet(
        summary,
        f"{ev.plan_title} 政务公开绩效考核扣分汇总",
        subtitle(ev),
        SUMMARY_COLUMNS,
        summary_rows(ev),
        freeze="C4",
        formats={
            3: POINTS_FORMAT,
            4: POINTS_FORMAT,
            5: POINTS_FORMAT,
            6: POINTS_FORMAT,
            10: "0.0%",
        },
    )
    detail = wb.create_sheet("扣分明细")
    _sheet(
        detail,
        f"{ev.plan_title} 政务公开绩效考核扣分明细",
        subtitle(ev),
        _detail_columns(ev),
        detail_rows(ev),
        freeze="C4",
        formats={12: POINTS_FORMAT, 13: POINTS_FORMAT},
        shaded={i for i, r in enumerate(ev.rows) if r.waived},
    )
    if ev.rows:
        _detail_total(detail, ev)
    _sheet(
        wb.create_sheet("扣分规则"),
        "扣分规则",
        f"duban.toml 的 [scoring]；{subtitle(ev)}",
        RULES_COLUMNS,
        rules_rows(ev),
        freeze="A4",
    )
    atomic_write(path, lambda tmp: wb.save(tmp))
    return path


def _detail_columns(ev: Evaluation) -> Sequence[tuple[str, float]]:
    """The detail columns; 期次 shrinks to its header when no row has a period."""
    if any(r.period for r in ev.rows):
        return DETAIL_COLUMNS
    return [(name, 4 if name == "期次" else width) for name, width in DETAIL_COLUMNS]


def _detail_total(ws, ev: Evaluation) -> None:
    """A 合计 row under the detail (outside the autofilter): points, points counted, waived.

    Values, not formulas, so a viewer that does not recalculate still shows them. The per-unit
    sums are the summary's 扣分合计（未封顶）; the unit cap is applied there, not here.
    """
    from openpyxl.styles import Alignment, Border, Font, Side

    number = HEADER_ROW + len(ev.rows) + 1
    waived = sum(1 for r in ev.rows if r.waived)
    label = f"合计（{len(ev.rows)} 条" + (f"，其中免扣 {waived} 条）" if waived else "）")
    ws.cell(number, 1, label)
    ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=11)
    ws.cell(number, 12, sum((r.points for r in ev.rows), Decimal(0)))
    ws.cell(number, 13, sum((r.counted for r in ev.rows), Decimal(0)))
    thin = Side(style="thin", color="999999")
    for col in range(1, 17):
        cell = ws.cell(number, col)
        cell.font = Font(bold=True)
        cell.border = Border(left=thin, right=thin, top=Side(style="medium"), bottom=thin)
        if col in (12, 13):
            cell.number_format = POINTS_FORMAT
    ws.cell(number, 1).alignment = Alignment(horizontal="right")
    ws.row_dimensions[number].height = 18


def _sheet(
    ws,
    title: str,
    note: str,
    columns: Sequence[tuple[str, float]],
    rows: list[list[Any]],
    *,
    freeze: str,
    formats: dict[int, str] | None = None,
    shaded: set[int] | None = None,
) -> None:
    """Title, note, bold header, bordered top-aligned wrapped body, widths, freeze, print setup.

    ``formats``: column (1-based) → number format; ``shaded``: body row indexes to shade.
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    last = get_column_letter(len(columns))
    ws.append([title])
    ws.append([note])
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 28
    ws.append([name for name, _ in columns])
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col in range(1, len(columns) + 1):
        cell = ws.cell(HEADER_ROW, col)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    widths = [w for _, w in columns]
    ws.row_dimensions[HEADER_ROW].height = _height([n for n, _ in columns], widths)
    formats, shaded = formats or {}, shaded or set()
    shade = PatternFill("solid", fgColor=WAIVED_FILL)
    styles: dict[tuple, Any] = {}  # setting styles cell by cell is slow: reuse a style per kind
    for index, values in enumerate(rows):
        number = HEADER_ROW + 1 + index  # (ws.max_row would cost O(cells) per row)
        for col, value in enumerate(values, start=1):
            cell = ws.cell(number, col, value)
            is_date = isinstance(value, date)
            key = (is_date, DATE_FORMAT if is_date else formats.get(col), index in shaded)
            if key in styles:
                cell._style = copy(styles[key])
                continue
            cell.border = border
            cell.alignment = Alignment(
                vertical="top", horizontal="center" if is_date else None, wrap_text=not is_date
            )
            if key[1]:
                cell.number_format = key[1]
            if key[2]:
                cell.fill = shade
            styles[key] = copy(cell._style)
        ws.row_dimensions[number].height = _height(values, widths)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = freeze
    if rows:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + len(rows)}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _height(values: Sequence[Any], widths: Sequence[float]) -> float:
    """Row height in points for wrapped text (Excel does not grow rows written by openpyxl)."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if value is None:
            continue
        text = _cell_text(value)
        lines = max(lines, lines_needed(text, width))
    return 15.0 * lines + 3


def _cell_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return fmt_points(value)
    return str(value)


# -- HTML -----------------------------------------------------------------------------------------
def write_evaluation_html(ev: Evaluation, path: str | Path) -> Path:
    path = Path(path)
    text = evaluation_html(ev)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def evaluation_html(ev: Evaluation) -> str:
    """One self-contained page: summary, chart of deductions by unit, detail, rules."""
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["pts"] = fmt_points
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(
        ev=ev,
        subtitle=subtitle(ev),
        chart=deduction_chart(ev),
        rules=rules_rows(ev),
        totals=detail_totals(ev),
    )


def detail_totals(ev: Evaluation) -> dict[str, Any]:
    """The detail's 合计: rows, points counted, points waived (before any unit cap)."""
    counted = sum((r.counted for r in ev.rows), Decimal(0))
    points = sum((r.points for r in ev.rows), Decimal(0))
    return {
        "rows": len(ev.rows),
        "waived_rows": sum(1 for r in ev.rows if r.waived),
        "counted": counted,
        "waived": points - counted,
    }


def deduction_chart(ev: Evaluation) -> dict[str, Any]:
    """Geometry of the SVG bar chart: one bar per unit, counted points then waived points."""
    label_w, bar_w, row_h, top = 190, 440, 28, 10
    peak = max([u.deducted + u.waived for u in ev.units] + [Decimal(0)])
    scale = (bar_w / float(peak)) if peak > 0 else 0.0
    bars = []
    for i, u in enumerate(ev.units):
        y = top + i * row_h
        counted = float(u.deducted) * scale
        waived = float(u.waived) * scale
        value = fmt_points(u.deducted) + (f"（免扣 {fmt_points(u.waived)}）" if u.waived else "")
        bars.append(
            {
                "unit": u.unit,
                "y": y,
                "counted": round(counted, 1),
                "waived_x": round(label_w + counted, 1),
                "waived": round(waived, 1),
                "value_x": round(label_w + counted + waived + 6, 1),
                "value": value,
            }
        )
    return {
        "width": label_w + bar_w + 150,
        "height": top * 2 + row_h * len(ev.units),
        "label_x": label_w - 8,
        "bar_x": label_w,
        "bar_h": row_h - 10,
        "bars": bars,
    }

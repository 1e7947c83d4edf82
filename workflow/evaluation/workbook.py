"""The evaluation for the 绩效考核 committee: a workbook (.xlsx) and a self-contained HTML report.

Workbook (openpyxl write-only mode: rows stream to the file, so 60,000 assignments take seconds
and little memory), three sheets, each with a title line, a line with 制表单位, the date it is
as of and 制表日期 (and that it is a forecast during the year), a bold frozen header row that
repeats on every printed page, fixed column widths, wrapped top-aligned text, row heights
estimated so that no text is clipped, A4 landscape fit to width, "第 N 页，共 M 页" in the footer
and, under the table, the lines the committee signs (制表 / 审核):

* 考核汇总 — one row per unit in rank order: rank, unit, score, points deducted (after the cap),
  the sum of the rows (before the cap), points waived, rows, tasks due, on time, on-time rate;
* 扣分明细 — one row per task (one unit's assignment) with its deduction parts side by side
  (逾期完成 | 逾期工作日 | 年底未报送 | 报送被退回 | 未达量化指标), points waived and counted,
  where the work came from (工作台账 / 手工新增 / 事件时限) and the evidence; a 小计 row per
  unit, a 合计 row at the end; rows with a waived part are shaded;
* 扣分规则 — the rules in force, in words.

Text people typed (task titles, waiver reasons) is written as text, never as a formula, even
when it starts with "=". The HTML report is in :mod:`workflow.evaluation.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflow.directory.roles import Caller, require_role
from workflow.errors import InvalidInput
from workflow.evaluation.layout import (
    APPEAL_HEADERS,
    EXTRA_HEADERS,
    PART_HEADERS,
    appeal_values,
    extra_values,
    frozen_line,
    rules_values,
    scope_line,
    sign_lines,
    subtitle,
    summary_values,
    unit_blocks,
    used_rules,
)
from workflow.evaluation.scores import evaluate
from workflow.evaluation.sheet import Evaluation
from workflow.evaluation.stable import save_stable
from workflow.evaluation.xlsx import (  # noqa: F401  (LINE_HEIGHT, lines_for: for the tests)
    HEADER_ROW,
    LINE_HEIGHT,
    SheetWriter,
    head,
    lines_for,
    row_height,
    start_sheet,
)
from workflow.tasks.evidence import EVIDENCE_HEADERS, flagged_for_plans
from workflow.writing.collector import collector_paused
from workflow.writing.files import atomic_write

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
LEFT_COLUMNS: tuple[tuple[str, float], ...] = (  # narrow enough to print on A4 landscape
    ("序号", 5),
    ("单位", 13),
    ("任务编号", 6),
    ("来源", 9),
    ("任务", 24),
    ("截止日期", 11),
    ("报送日期", 11),
    ("逾期工作日", 6),
)
PART_WIDTH = 7
RIGHT_COLUMNS: tuple[tuple[str, float], ...] = (("免扣", 6), ("计入扣分", 7), ("依据说明", 36))
RULES_COLUMNS: tuple[tuple[str, float], ...] = (("项目", 18), ("规则", 90))


@dataclass(frozen=True)
class EvaluationExport:
    """What ``duban export evaluation`` wrote."""

    plan_id: int | None
    year: int
    as_of: date
    forecast: bool
    units: int
    rows: int
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "year": self.year,
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
    year: int | None = None,
    made_on: date | None = None,
) -> EvaluationExport:
    """Write the evaluation to ``path`` (.xlsx or .html) and/or ``html``; office and leaders.

    ``made_on`` is the 制表日期 (default: ``as_of``); 制表单位 is ``[office] name``.
    """
    from workflow.evaluation.report import write_evaluation_html

    require_role(caller, ("office", "leader"), "导出考核结果")
    targets = _targets(path, html)
    ev = evaluate(session, caller, plan, as_of, config=config, year=year)
    office = office_name(config)
    evidence = flagged_for_plans(session, ev.plan_ids)  # links that no longer open (issue 31)
    for target, kind in targets:
        if kind == "xlsx":
            write_evaluation_xlsx(ev, target, office=office, made_on=made_on, evidence=evidence)
        else:
            write_evaluation_html(ev, target, office=office, made_on=made_on, evidence=evidence)
    return EvaluationExport(
        ev.plan_id,
        ev.plan_year,
        ev.as_of,
        ev.forecast,
        len(ev.units),
        len(ev.rows),
        [str(t) for t, _ in targets],
    )


def office_name(config: Any) -> str:
    name = (config.section("office") or {}).get("name") if config is not None else None
    return name.strip() if isinstance(name, str) and name.strip() else "办公室"


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


def detail_columns(ev: Evaluation) -> list[tuple[str, float]]:
    parts = [(PART_HEADERS[rule], PART_WIDTH) for rule in used_rules(ev)]
    return [*LEFT_COLUMNS, *parts, *RIGHT_COLUMNS]


def write_evaluation_xlsx(
    ev: Evaluation,
    path: str | Path,
    *,
    office: str = "办公室",
    made_on: date | None = None,
    evidence: list[list[Any]] | None = None,
) -> Path:
    """The committee's workbook (see the module docstring)."""
    from openpyxl import Workbook

    path = Path(path)
    made_on = made_on or ev.as_of
    wb = Workbook(write_only=True)
    lines = [subtitle(ev, office, made_on), scope_line(ev)]
    frozen = frozen_line(ev)
    if frozen:
        lines.append(frozen)
    with collector_paused():  # 70,000 rows of cells: ~0.4 s of collector passes
        _summary(wb, ev, lines, office, made_on)
        _detail(wb, ev, lines, office, made_on)
        if ev.adjustments or ev.appeals:
            _extras(wb, ev, lines)
        if evidence:
            _evidence(wb, ev, lines, evidence)
        _rules(wb, ev, lines)
        atomic_write(path, lambda tmp: save_stable(wb, tmp, ev.as_of))
    return path


def _summary(wb, ev: Evaluation, lines: list[str], office: str, made_on: date) -> None:
    ws = start_sheet(wb, "考核汇总", SUMMARY_COLUMNS, "C5")
    w = SheetWriter(ws, SUMMARY_COLUMNS)
    head(w, f"{ev.plan_title} 政务公开绩效考核扣分汇总表", lines, SUMMARY_COLUMNS)
    kinds = ("num", "text", "points", "points", "points", "points", "num", "num", "num", "pct")
    for values in summary_values(ev):
        cells = [
            w.styles.cell(v, "text" if v == "—" else kind)
            for v, kind in zip(values, kinds, strict=True)
        ]
        w.append(cells, row_height(values, w.widths))
    if ev.units:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{w.last}{w.row}"
    w.append([])
    for line in sign_lines(office, made_on):
        w.banner(line, height=24)


def _detail(wb, ev: Evaluation, lines: list[str], office: str, made_on: date) -> None:
    columns = detail_columns(ev)
    rules = used_rules(ev)
    ws = start_sheet(wb, "扣分明细", columns, "F5")
    w = SheetWriter(ws, columns)
    head(w, f"{ev.plan_title} 政务公开绩效考核扣分明细表", lines, columns)
    cell = w.styles.cell
    number = 0
    totals = dict.fromkeys(rules, Decimal(0))
    waived_total = counted_total = Decimal(0)
    for block in unit_blocks(ev):
        for line in block.lines:
            number += 1
            fill = "waived" if line.waived else None
            values: list[Any] = [
                number,
                line.unit,
                line.assignment_id,
                line.source,
                line.task,
                line.due,
                line.report + ("（预测）" if line.forecast and line.report == "未报送" else ""),
                line.days_late,
                *(line.parts.get(rule) for rule in rules),
                line.waived or None,
                line.counted,
                line.note,
            ]
            kinds = [
                "num", "text", "num", "text", "text", "date", "text", "num",
                *(["points"] * len(rules)), "points", "points", "text",
            ]  # fmt: skip
            cells = [cell(v, k, fill) for v, k in zip(values, kinds, strict=True)]
            w.append(cells, row_height(values, w.widths))
        _total_row(w, block.label, [block.parts[r] for r in rules], block.waived, block.counted)
        for r in rules:
            totals[r] += block.parts[r]
        waived_total += block.waived
        counted_total += block.counted
    if ev.rows:
        label = f"合计（{number} 项任务，{len(ev.rows)} 项扣分）"
        _total_row(w, label, [totals[r] for r in rules], waived_total, counted_total, grand=True)
    else:
        w.banner("没有扣分。")
    w.append([])
    for line in sign_lines(office, made_on):
        w.banner(line, height=24)


def _total_row(
    w: SheetWriter,
    label: str,
    parts: list[Decimal],
    waived: Decimal,
    counted: Decimal,
    grand: bool = False,
) -> None:
    """A 小计 / 合计 row: the label across the left columns, the sums under their parts."""
    cell = w.styles.cell
    left = len(LEFT_COLUMNS)
    cells = [cell(label, "text", "subtotal", True)]
    cells += [cell(None, "text", "subtotal", True) for _ in range(left - 1)]
    cells += [cell(p or None, "points", "subtotal", True) for p in parts]
    cells += [
        cell(waived or None, "points", "subtotal", True),
        cell(counted, "points", "subtotal", True),
        cell("（封顶与得分见考核汇总）" if grand else "", "text", "subtotal", True),
    ]
    row = w.append(cells, row_height([label], [sum(w.widths[:left])]))
    w.ws.merged_cells.add(f"A{row}:{chr(ord('A') + left - 1)}{row}")


EXTRA_COLUMNS: tuple[tuple[str, float], ...] = tuple(
    zip(EXTRA_HEADERS, (16, 14, 10, 80), strict=True)
)
APPEAL_COLUMNS: tuple[tuple[str, float], ...] = tuple(
    zip(APPEAL_HEADERS, (7, 14, 14, 40, 18, 12, 40), strict=True)
)


def _extras(wb, ev: Evaluation, lines: list[str]) -> None:
    """加减分与申诉: indicator caps, cards and bonus per unit, then the appeals and outcomes."""
    ws = start_sheet(wb, "加减分与申诉", APPEAL_COLUMNS, "A5")
    w = SheetWriter(ws, APPEAL_COLUMNS)
    w.banner(f"{ev.plan_title} 加减分与申诉", "title", 30)
    for line in lines:
        w.banner(line)
    w.banner("加分、黄红牌与指标封顶（单位：分，对得分的影响）", "title", 24)
    if ev.adjustments:
        w.append([w.styles.cell(h, "head") for h in EXTRA_HEADERS], 20)
        for values in extra_values(ev):
            w.append([w.styles.cell(v) for v in values], row_height(values, [16, 14, 10, 80]))
    else:
        w.banner("无。")
    w.append([])
    w.banner("申诉及处理结果", "title", 24)
    if ev.appeals:
        w.header(APPEAL_HEADERS)
        for values in appeal_values(ev):
            w.append([w.styles.cell(v) for v in values], row_height(values, w.widths))
    else:
        w.banner("没有申诉。")


EVIDENCE_COLUMNS: tuple[tuple[str, float], ...] = tuple(
    zip(EVIDENCE_HEADERS, (9, 14, 30, 46, 17, 30, 17), strict=True)
)


def _evidence(wb, ev: Evaluation, lines: list[str], rows: list[list[Any]]) -> None:
    """佐证链接异常: evidence links that no longer open or whose page changed since reported."""
    ws = start_sheet(wb, "佐证链接异常", EVIDENCE_COLUMNS, "A5")
    w = SheetWriter(ws, EVIDENCE_COLUMNS)
    w.banner(f"{ev.plan_title} 佐证链接异常（打不开或页面已变化）", "title", 30)
    for line in lines:
        w.banner(line)
    w.header(EVIDENCE_HEADERS)
    for values in rows:
        w.append([w.styles.cell(v) for v in values], row_height(values, w.widths))


def _rules(wb, ev: Evaluation, lines: list[str]) -> None:
    ws = start_sheet(wb, "扣分规则", RULES_COLUMNS, "A5")
    w = SheetWriter(ws, RULES_COLUMNS)
    head(w, "扣分规则（duban.toml 的 [scoring]）", lines, RULES_COLUMNS)
    for values in rules_values(ev):
        w.append([w.styles.cell(v) for v in values], row_height(values, w.widths))

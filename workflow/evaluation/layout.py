"""The evaluation laid out for people who sign it: one line per task, parts side by side.

Shared by the workbook and the HTML report. A *task line* is one unit's assignment with every
deduction it carries in its own column (逾期完成 | 逾期工作日 | 年底未报送 | 报送被退回 |
未达量化指标), the points waived and the points counted; a *unit block* is a unit's lines and
their subtotal (小计). Units without deductions appear in the summary only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from workflow.evaluation.rules import RULE_LABELS, RULE_ORDER, fmt_points
from workflow.evaluation.sheet import Deduction, Evaluation, UnitScore

PART_HEADERS = {
    "late": "逾期完成",
    "late_days": "逾期工作日扣分",
    "never_reported": "年底未报送",
    "returned": "报送被退回",
    "target": "未达量化指标",
}


@dataclass
class TaskLine:
    unit: str
    assignment_id: int
    task: str  # 序号, title and period in one cell
    source: str
    due: date
    original_due: date
    report: str  # the report date, or 未报送
    days_late: int | None
    parts: dict[str, Decimal] = field(default_factory=dict)  # rule → points (waived included)
    waived: Decimal = Decimal(0)
    counted: Decimal = Decimal(0)
    notes: list[str] = field(default_factory=list)
    forecast: bool = False

    @property
    def note(self) -> str:
        return "；".join(self.notes)


@dataclass
class UnitBlock:
    score: UnitScore
    lines: list[TaskLine]
    parts: dict[str, Decimal]
    waived: Decimal
    counted: Decimal

    @property
    def label(self) -> str:
        text = f"{self.score.unit} 小计（{len(self.lines)} 项任务）"
        if self.score.capped:
            text += f"，封顶后扣 {fmt_points(self.score.deducted)} 分"
        return text


def task_title(r: Deduction) -> str:
    text = f"{r.task_number} {r.task}" if r.task_number else r.task
    return text + (f"（{r.period}）" if r.period else "")


def task_lines(rows: list[Deduction]) -> list[TaskLine]:
    """Consecutive rows of one assignment (the evaluation's order) merged into one line."""
    lines: list[TaskLine] = []
    current: TaskLine | None = None
    for r in rows:
        if current is None or current.assignment_id != r.assignment_id:
            report = str(r.report_date) if r.report_date else "未报送"
            current = TaskLine(
                unit=r.unit,
                assignment_id=r.assignment_id,
                task=task_title(r),
                source=r.source_label,
                due=r.due,
                original_due=r.original_due,
                report=report,
                days_late=None,
            )
            lines.append(current)
        current.parts[r.rule] = current.parts.get(r.rule, Decimal(0)) + r.points
        current.counted += r.counted
        current.forecast = current.forecast or r.forecast
        if r.days_late is not None:
            current.days_late = r.days_late
        note = r.note if not r.forecast else f"（预测）{r.note}"
        if note not in current.notes:
            current.notes.append(note)
        if r.waived:
            current.waived += r.points
            current.notes.append(
                f"已免扣{RULE_LABELS[r.rule]} {fmt_points(r.points)} 分：{r.waiver_reason or ''}"
            )
    return lines


def unit_blocks(ev: Evaluation) -> list[UnitBlock]:
    """Each unit with deductions, in rank order: its task lines and subtotal."""
    by_unit: dict[str, list[TaskLine]] = {}
    for line in task_lines(ev.rows):
        by_unit.setdefault(line.unit, []).append(line)
    blocks = []
    for u in ev.units:
        lines = by_unit.get(u.unit)
        if not lines:
            continue
        parts = {
            rule: sum((ln.parts.get(rule, Decimal(0)) for ln in lines), Decimal(0))
            for rule in RULE_ORDER
        }
        blocks.append(
            UnitBlock(
                u,
                lines,
                parts,
                sum((ln.waived for ln in lines), Decimal(0)),
                sum((ln.counted for ln in lines), Decimal(0)),
            )
        )
    return blocks


def used_rules(ev: Evaluation) -> list[str]:
    """The rule columns the detail shows: the usual four, plus 未达量化指标 when charged."""
    used = {r.rule for r in ev.rows}
    return [rule for rule in RULE_ORDER if rule != "target" or "target" in used]


def summary_values(ev: Evaluation) -> list[list[Any]]:
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


def subtitle(ev: Evaluation, office: str, made_on: date) -> str:
    text = f"制表单位：{office}　　考核截至：{ev.as_of}　　制表日期：{made_on}"
    text += f"　　基础分 {fmt_points(ev.rules.base)} 分"
    if ev.forecast:
        text += f"；{ev.plan_year} 年尚未结束，为预测（情况不变时）"
    return text


def scope_line(ev: Evaluation) -> str:
    """Which work the sheet covers, by source."""
    labels = {"ledger": "工作台账任务", "manual": "手工新增任务", "event": "事件时限任务"}
    counted = "、".join(f"{labels.get(k, k)} {n} 项" for k, n in ev.sources.items())
    where = f"工作计划 #{ev.plan_id}" if ev.plan_id is not None else f"{ev.plan_year} 年度全部工作"
    return f"考核范围：{where}" + (f"（{counted}）" if counted else "")


def sign_lines(office: str, made_on: date) -> list[str]:
    return [
        f"制表单位（盖章）：{office}　　　　制表人：＿＿＿＿＿＿　　　　制表日期：{made_on}",
        "审核人：＿＿＿＿＿＿　　　　审核日期：＿＿＿＿年＿＿月＿＿日　　　　"
        "考核委员会意见：＿＿＿＿＿＿＿＿＿＿",
    ]


def rules_values(ev: Evaluation) -> list[list[str]]:
    labels = {
        "base": "基础分",
        "late_task": "逾期完成",
        "late_day": "逾期工作日",
        "never_reported": "年底未报送",
        "returned": "报送被退回",
        "target": "未达量化指标",
        "event": "事件时限任务",
        "unit_cap": "单位扣分上限",
        "roles": "计分范围",
        "yellow_card": "黄牌",
        "red_card": "红牌",
        "indicator_cap": "指标封顶",
        "bonus": "加分",
        "appeal_until": "申诉截止",
    }
    rows = [[labels.get(key, key), text] for key, text in ev.rules.describe()]
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
            "量化指标",
            "要求中写明数量的（如“每月至少更新2条”），每期报送时填写数量（--count），"
            "期满后报送数量不足的按未达量化指标扣分；未报送的按逾期或年底未报送扣分，不重复扣",
        ],
        [
            "年内预测",
            "考核日在计划年度 12 月 31 日之前时，已过截止日期仍未报送的任务按截至考核日的逾期预计",
        ],
        ["免扣", "办公室经申诉核实后可免扣某一项，该项保留并注明理由，不计入扣分"],
        ["考核范围", "该年度全部任务：导入的工作台账、办公室手工新增的任务和事件触发的时限任务"],
    ]
    return rows


EXTRA_HEADERS = ("单位", "项目", "对得分", "依据说明")
APPEAL_HEADERS = ("编号", "单位", "扣分行", "申诉理由与依据", "提出", "结果", "处理意见")


def frozen_line(ev: Evaluation) -> str | None:
    """The line saying the sheet is the frozen (封存) one, if it is."""
    if not ev.frozen:
        return None
    f = ev.frozen
    return f"本表为 {f['year']} 年度封存的考核结果：{f['on']} 由{f['by']}封存，截至 {f['as_of']}"


def extra_values(ev: Evaluation) -> list[list[Any]]:
    """Unit-level items (indicator caps, cards, bonus): their effect on the score, signed."""
    return [
        [x.unit, x.rule_label, ("+" if x.effect < 0 else "−") + fmt_points(abs(x.effect)), x.note]
        for x in ev.adjustments
    ]


def appeal_values(ev: Evaluation) -> list[list[Any]]:
    return [
        [
            a["id"],
            a["unit"],
            f"{a['assignment_id']}" + (f":{a['rule']}" if a["rule"] else "（全部扣分）"),
            a["reason"] + (f"（依据：{a['evidence']}）" if a["evidence"] else ""),
            f"{a['on']} {a['by']}",
            a["state_label"],
            (f"{a['decided_on']} {a['decided_by']}：{a['decision']}" if a["decision"] else ""),
        ]
        for a in ev.appeals
    ]

"""The evaluation as one self-contained HTML page (``duban export evaluation … --html``).

The same content as the workbook (:mod:`workflow.evaluation.workbook`): title, 制表单位 /
制表日期, a bar chart of the points each unit lost (counted dark, waived light), the summary,
the detail with one row per task and its parts side by side, a 小计 per unit and a 合计, the
rules, and the 制表 / 审核 lines. Inline CSS only: no scripts, fonts or images from outside, so
the file can be mailed or archived as is. Readable on a phone (390 px): the chart is made of
plain boxes that shrink with the page, and below 700 px every table row becomes a card of
label–value lines. Printed: A4 landscape, the header repeated, page numbers in the margin.
Everything people typed is escaped (jinja2 autoescape).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

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
    unit_blocks,
    used_rules,
)
from workflow.evaluation.rules import fmt_points
from workflow.evaluation.sheet import Evaluation
from workflow.writing.files import atomic_write

TEMPLATE = Path(__file__).with_name("report.html.j2")


def write_evaluation_html(
    ev: Evaluation,
    path: str | Path,
    *,
    office: str = "办公室",
    made_on: date | None = None,
    evidence: list[list[Any]] | None = None,
) -> Path:
    path = Path(path)
    text = evaluation_html(ev, office=office, made_on=made_on, evidence=evidence)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def evaluation_html(
    ev: Evaluation,
    *,
    office: str = "办公室",
    made_on: date | None = None,
    evidence: list[list[Any]] | None = None,
) -> str:
    """One self-contained page (see the module docstring); ``evidence``: the flagged evidence
    links as rows under :data:`workflow.tasks.evidence.EVIDENCE_HEADERS` (issue 31)."""
    from jinja2 import Environment

    from workflow.tasks.evidence import EVIDENCE_HEADERS

    made_on = made_on or ev.as_of
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["pts"] = lambda p: "" if p is None or p == 0 else fmt_points(p)
    env.filters["pts0"] = fmt_points
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    rules = used_rules(ev)
    blocks = unit_blocks(ev)
    return template.render(
        ev=ev,
        subtitle=subtitle(ev, office, made_on),
        scope=scope_line(ev),
        chart=deduction_chart(ev),
        rules=rules_values(ev),
        part_rules=rules,
        part_headers=[PART_HEADERS[r] for r in rules],
        blocks=blocks,
        totals=detail_totals(ev, blocks, rules),
        signs=sign_lines(office, made_on),
        frozen=frozen_line(ev),
        extra_headers=EXTRA_HEADERS,
        extras=extra_values(ev),
        appeal_headers=APPEAL_HEADERS,
        appeals=appeal_values(ev),
        evidence_headers=EVIDENCE_HEADERS,
        evidence=evidence or [],
    )


def detail_totals(ev: Evaluation, blocks: list, rules: list[str]) -> dict[str, Any]:
    """The detail's 合计: task lines, rows, each part, points waived and counted."""
    return {
        "lines": sum(len(b.lines) for b in blocks),
        "rows": len(ev.rows),
        "parts": [sum((b.parts[r] for b in blocks), Decimal(0)) for r in rules],
        "waived": sum((b.waived for b in blocks), Decimal(0)),
        "counted": sum((b.counted for b in blocks), Decimal(0)),
    }


def deduction_chart(ev: Evaluation) -> list[dict[str, Any]]:
    """One bar per unit: counted and waived points as percentages of the largest bar."""
    peak = max([u.deducted + u.waived for u in ev.units] + [Decimal(0)])
    bars = []
    for u in ev.units:
        scale = float(peak) or 1.0
        value = fmt_points(u.deducted) + (f"（免扣 {fmt_points(u.waived)}）" if u.waived else "")
        bars.append(
            {
                "unit": u.unit,
                "counted": round(float(u.deducted) / scale * 100, 2),
                "waived": round(float(u.waived) / scale * 100, 2),
                "value": value,
            }
        )
    return bars

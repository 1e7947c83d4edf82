"""``duban export evaluation``: the year-end evaluation as a workbook and/or an HTML report.

Attached to the ``export`` group (owned by ``cli/export.py``) with one ``add_command`` line.
"""

from __future__ import annotations

import click

from cli.common import as_of_option, call
from cli.output import emit_json, info, json_option, warn


@click.command("evaluation")
@click.option("--plan", "plan", default=None, help="工作计划编号或年份（只有一个计划时可省略）")
@click.option(
    "--year", type=int, default=None, help="考核年度：该年全部任务（各计划、手工新增、事件时限）"
)
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--html",
    "html",
    default=None,
    type=click.Path(dir_okay=False),
    help="另存一份网页报告（含各单位扣分图）",
)
@as_of_option
@json_option
def evaluation(plan, year, path, html, as_of, as_json) -> None:
    """导出年终考核结果：PATH 为 .xlsx（汇总表 + 扣分明细 + 扣分规则）或 .html（含扣分图）。"""
    result = call("export.evaluation", plan=plan, year=year, path=path, html=html, as_of=as_of)
    if as_json:
        emit_json(result)
        return
    info(
        f"已导出{_scope(result)}的考核结果（{result['units']} 个单位，"
        f"{result['deductions']} 条扣分，截至 {result['as_of']}）：" + "、".join(result["files"])
    )
    if result["forecast"]:
        warn("计划年度尚未结束，导出的是预测结果（情况不变时）")


def _scope(result) -> str:
    if result["plan_id"] is not None:
        return f"工作计划 #{result['plan_id']} "
    return f" {result['year']} 年度"

"""``duban export …``: the filled-in ledger (and, later, the evaluation) as files."""

from __future__ import annotations

import click

from cli.common import as_of_option, call
from cli.output import emit_json, info, json_option


@click.group()
def export() -> None:
    """导出台账或考核结果。"""


@export.command("ledger")
@click.option("--plan", "plan", required=True, help="工作计划编号或年份")
@click.argument("path", type=click.Path(dir_okay=False))
@as_of_option
@json_option
def ledger(plan, path, as_of, as_json) -> None:
    """按办公室的台账格式导出（.xlsx 或 .csv）：板块、原有各列、最新进展、状态、截止日期、逾期标记。"""
    summary = call("export.ledger", plan=plan, path=path, as_of=as_of)
    if as_json:
        emit_json(summary)
        return
    info(
        f"已导出工作计划 #{summary['plan_id']} 的台账（{summary['tasks']} 项任务，"
        f"状态截至 {summary['as_of']}）：{summary['path']}"
    )


from cli.export_evaluation import evaluation  # noqa: E402  (duban export evaluation)

export.add_command(evaluation)

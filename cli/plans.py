"""``duban plan list|show``: the imported work plans and where their assignments stand."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


@click.group()
def plan() -> None:
    """工作计划。"""


@plan.command("list")
@json_option
def list_(as_json) -> None:
    """列出已导入的工作计划（编号用于 --plan）。"""
    rows = call("plan.list")
    if as_json:
        emit_json(rows)
        return
    if not rows:
        info("（还没有工作计划）")
        info(
            "提示：用 duban import 导入任务分解表；duban task add / duban event add 会自动建立当年的计划"
        )
        return
    table(
        ["编号", "年度", "名称", "报送日期", "任务", "分派", "已逾期", "已核验"],
        [
            (
                r["id"],
                r["year"],
                r["title"],
                "、".join(d[5:] for d in r["report_dates"]),
                r["tasks"],
                r["assignments"],
                r["states"]["overdue"],
                r["states"]["verified"],
            )
            for r in rows
        ],
    )


@plan.command("show")
@click.argument("plan_ref", metavar="PLAN", required=False)
@json_option
def show(plan_ref, as_json) -> None:
    """查看一个工作计划：PLAN 为编号或年份（只有一个计划时可省略）。"""
    view = call("plan.show", plan=plan_ref)
    if as_json:
        emit_json(view)
        return
    labels = view["state_labels"]
    table(
        ["项目", "内容"],
        [
            ("编号", view["id"]),
            ("年度", view["year"]),
            ("名称", view["title"]),
            ("发文单位", view["issuer"] or ""),
            ("报送日期", "、".join(view["report_dates"])),
            ("来源文件", view["source_file"] or ""),
            ("任务", view["tasks"]),
            ("分派", view["assignments"]),
            *((labels[state], n) for state, n in view["states"].items()),
        ],
    )

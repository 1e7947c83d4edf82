"""``duban task request-extension`` and ``duban task extension approve|refuse|list``."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


@click.command("request-extension")
@click.argument("assignment_id", type=int)
@click.option("--to", "new_due", required=True, help="申请的新截止日期 YYYY-MM-DD")
@click.option("--reason", required=True, help="申请理由")
@json_option
def request_extension(assignment_id, new_due, reason, as_json) -> None:
    """申请延期（单位，须在截止日期前提出；批准前仍按原日期督办）。"""
    view = call("extension.request", assignment_id=assignment_id, new_due=new_due, reason=reason)
    if as_json:
        emit_json(view)
        return
    info(
        f"已提交延期申请 #{view['id']}（任务 #{assignment_id} 申请延至 {view['requested_due']}），等待办公室审批"
    )


@click.group("extension")
def extension() -> None:
    """延期申请：列出、批准、驳回（办公室）。"""


@extension.command("list")
@click.option("--status", help="pending / approved / refused")
@json_option
def list_(status, as_json) -> None:
    """列出延期申请。"""
    rows = call("extension.list", status=status)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        info("没有延期申请")
        return
    table(
        ["申请", "任务", "单位", "标题", "当前截止", "申请延至", "理由", "状态"],
        [
            (
                r["id"],
                r["assignment_id"],
                r["unit"],
                r["title"],
                r["due"],
                r["requested_due"],
                r["reason"],
                r["status_label"],
            )
            for r in rows
        ],
    )


@extension.command("approve")
@click.argument("request_id", type=int)
@click.option("--reason", help="审批意见")
@json_option
def approve(request_id, reason, as_json) -> None:
    """批准延期申请：任务截止日期改为申请的日期。"""
    view = call("extension.approve", request_id=request_id, reason=reason)
    due, assignment_id = view["requested_due"], view["assignment_id"]
    if as_json:
        emit_json(view)
        return
    info(f"已批准延期申请 #{request_id}：任务 #{assignment_id} 截止日期改为 {due}")


@extension.command("refuse")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="驳回理由")
@json_option
def refuse(request_id, reason, as_json) -> None:
    """驳回延期申请：仍按原截止日期督办。"""
    view = call("extension.refuse", request_id=request_id, reason=reason)
    assignment_id = view["assignment_id"]
    if as_json:
        emit_json(view)
        return
    info(f"已驳回延期申请 #{request_id}，任务 #{assignment_id} 仍按原截止日期督办")

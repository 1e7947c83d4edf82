"""``duban token issue|list|revoke``."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


@click.group()
def token() -> None:
    """令牌管理（仅办公室）。"""


@token.command("issue")
@click.argument("holder")
@click.option(
    "--role",
    type=click.Choice(["unit", "leader", "office"]),
    default="unit",
    show_default=True,
    help="令牌角色",
)
@json_option
def issue(holder: str, role: str, as_json: bool) -> None:
    """为单位（默认）、领导或办公室人员签发令牌，如 duban token issue 法规处。"""
    value = call("token.issue", holder=holder, role=role)["token"]
    if as_json:
        emit_json({"token": value})
    else:
        info(f"已为“{holder}”签发令牌（只显示这一次）：{value}")


@token.command("list")
@json_option
def list_(as_json: bool) -> None:
    """列出令牌（只显示前缀）。"""
    rows = call("token.list")
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "前缀", "角色", "持有者", "签发时间", "状态"],
        [
            (
                r["id"],
                r["prefix"] + "…",
                r["role"],
                r["holder"],
                r["created_at"][:10],
                "已吊销" if r["revoked"] else "有效",
            )
            for r in rows
        ],
    )


@token.command("revoke")
@click.argument("token_id", type=int)
@json_option
def revoke(token_id: int, as_json: bool) -> None:
    """吊销令牌（按编号）。"""
    view = call("token.revoke", token_id=token_id)
    if as_json:
        emit_json(view)
        return
    info(f"已吊销令牌 #{view['id']}（{view['holder']}）")

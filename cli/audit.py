"""``duban audit list|export|verify|prune``: the security audit log (仅办公室)."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


@click.group()
def audit() -> None:
    """安全审计日志：查询、导出、校验、清理（仅办公室）。"""


def _filters(func):
    for option in reversed(
        [
            click.option("--since", metavar="YYYY-MM-DD", help="起始日期（含）"),
            click.option("--until", metavar="YYYY-MM-DD", help="截止日期（含）"),
            click.option("--action", help="操作，如 signin、token、export（前缀匹配）"),
            click.option("--actor", help="操作人（包含匹配）"),
            click.option(
                "--outcome",
                type=click.Choice(["ok", "failed", "denied", "throttled"]),
                help="结果",
            ),
            click.option("--address", help="来源地址（包含匹配）"),
        ]
    ):
        func = option(func)
    return func


@audit.command("list")
@_filters
@click.option(
    "--limit", type=int, default=200, show_default=True, help="最多显示条数（最新的在前）"
)
@json_option
def list_(as_json: bool, **filters) -> None:
    """列出审计记录，如 duban audit list --action signin --outcome failed。"""
    rows = call("audit.list", **{k: v for k, v in filters.items() if v is not None})
    if as_json:
        emit_json(rows)
        return
    table(
        ["序号", "时间", "操作人", "途径", "来源", "操作", "对象", "结果"],
        [
            (
                r["id"],
                r["at"][:19].replace("T", " "),
                r["actor"],
                r["door_label"],
                r["address"] or "",
                r["action_label"],
                r["target"] or "",
                r["outcome_label"],
            )
            for r in rows
        ],
    )


@audit.command("export")
@click.argument("path", type=click.Path(dir_okay=False))
@_filters
@json_option
def export(path: str, as_json: bool, **filters) -> None:
    """导出审计记录到 .csv（Excel 可打开）或 .jsonl 文件。"""
    result = call("audit.export", path=path, **{k: v for k, v in filters.items() if v is not None})
    if as_json:
        emit_json(result)
    else:
        info(f"已导出 {result['rows']} 条审计记录：{result['path']}")


@audit.command("verify")
@json_option
def verify(as_json: bool) -> None:
    """校验审计日志链：发现被删除或被修改的记录，并指出是哪一条。"""
    result = call("audit.verify")
    if as_json:
        emit_json(result)
    elif result["ok"]:
        span = f"第 {result['first_id']}–{result['last_id']} 条" if result["checked"] else "无记录"
        info(f"审计日志完整：已校验 {result['checked']} 条（{span}），未发现删除或修改")
    else:
        for problem in result["problems"]:
            click.echo(f"发现问题：{problem}", err=True)
    if not result["ok"]:
        raise SystemExit(12)


@audit.command("prune")
@json_option
def prune(as_json: bool) -> None:
    """把超过保存期限（[audit] keep_days，至少 180 天）的记录导出到归档文件后删除。"""
    result = call("audit.prune")
    if as_json:
        emit_json(result)
    elif result["pruned"]:
        info(f"已归档并清理 {result['pruned']} 条审计记录：{result['file']}")
    else:
        info(f"没有早于 {result['cutoff']} 的审计记录，无需清理")

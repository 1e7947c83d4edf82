"""``duban evidence …``: are the reports' evidence links still open, and unchanged (issue 31)."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import count_line, emit_json, info, json_option, table


@click.group()
def evidence() -> None:
    """佐证链接检查：报送时、核验前、年终各检查一次（守护进程自动运行）。"""


def _rows(results):
    return [
        [
            r["assignment_id"],
            r["stage_label"],
            r["status"] if r["status"] is not None else "—",
            r["url"],
            r["title"] or "",
            r["pub_date"] or "",
            r["flag"] or "正常",
        ]
        for r in results
    ]


_HEADERS = ["任务", "检查时点", "状态码", "链接", "页面标题", "发布日期", "结果"]


@evidence.command("check")
@click.option("--as-of", default=None, help="按该日期判断哪些链接到期检查（默认今天）")
@json_option
def check(as_of, as_json) -> None:
    """检查到期的佐证链接（每次有数量和频率上限，其余下次检查）。"""
    result = call("evidence.check", as_of=as_of)
    if as_json:
        emit_json(result)
        return
    if result["results"]:
        table(_HEADERS, _rows(result["results"]))
    info(
        f"{result['as_of']}：检查 {result['checked']} 个链接，其中 {result['flagged']} 个有问题"
        + (f"；{result['deferred']} 个留待下次检查" if result["deferred"] else "")
    )


@evidence.command("flags")
@json_option
def flags(as_json) -> None:
    """列出打不开或页面已变化的佐证链接。"""
    rows = call("evidence.flags")
    if as_json:
        emit_json(rows)
        return
    table(_HEADERS, _rows(rows))
    info(count_line(len(rows), "个链接"))

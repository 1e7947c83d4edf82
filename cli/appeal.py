"""``duban appeal``: a unit appeals a deduction (申诉); the office upholds or rejects it."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


@click.group("appeal")
def appeal() -> None:
    """申诉：单位对扣分提出申诉，办公室处理（成立则免扣）。"""


@appeal.command("add")
@click.argument("assignment")
@click.option("--reason", required=True, help="申诉理由")
@click.option("--evidence", default=None, help="依据（文件、网页地址、截图说明等）")
@json_option
def add_command(assignment, reason, evidence, as_json) -> None:
    """对任务 ASSIGNMENT 的扣分提出申诉：任务编号（如 12，申诉其全部扣分）或扣分行号（如 12:late_days）。"""
    out = call("appeal.add", assignment=assignment, reason=reason, evidence=evidence)
    if as_json:
        emit_json(out)
        return
    info(
        f"已提交申诉 #{out['id']}（任务 #{out['assignment_id']}，{out['rule_label']}），等待办公室处理。"
    )


@appeal.command("list")
@click.option(
    "--state",
    type=click.Choice(["pending", "upheld", "rejected"]),
    default=None,
    help="只看某种状态：pending 待处理 / upheld 成立 / rejected 不成立",
)
@click.option("--year", type=int, default=None, help="考核年度")
@json_option
def list_command(state, year, as_json) -> None:
    """列出申诉及处理结果（单位只看到本单位的）。"""
    out = call("appeal.list", state=state, year=year)
    if as_json:
        emit_json(out["appeals"])
        return
    if not out["appeals"]:
        info("没有申诉。")
        return
    table(
        ["编号", "单位", "扣分行", "申诉理由", "依据", "提出", "状态", "处理意见"],
        [
            [
                a["id"],
                a["unit"],
                f"{a['assignment_id']}" + (f":{a['rule']}" if a["rule"] else "（全部）"),
                a["reason"],
                a["evidence"] or "",
                f"{a['on']} {a['by']}",
                a["state_label"],
                (f"{a['decided_on']} {a['decided_by']}：{a['decision']}" if a["decision"] else ""),
            ]
            for a in out["appeals"]
        ],
        title="申诉",
    )


@appeal.command("decide")
@click.argument("appeal_id", type=int)
@click.option("--uphold", "outcome", flag_value="uphold", help="申诉成立：免扣相应扣分")
@click.option("--reject", "outcome", flag_value="reject", help="申诉不成立：维持扣分")
@click.option("--reason", required=True, help="处理意见")
@json_option
def decide_command(appeal_id, outcome, reason, as_json) -> None:
    """处理申诉 APPEAL_ID（仅办公室）：--uphold 成立（免扣）或 --reject 不成立。"""
    if outcome is None:
        raise click.UsageError("请用 --uphold（成立）或 --reject（不成立）给出处理结果")
    out = call("appeal.decide", appeal_id=appeal_id, uphold=outcome == "uphold", reason=reason)
    if as_json:
        emit_json(out)
        return
    info(f"申诉 #{out['id']}：{out['state_label']}。处理意见：{out['decision']}")

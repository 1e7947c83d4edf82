"""``duban score``: the year-end evaluation (ranked units, evidence rows) and appeals (免扣).

``score`` is a group that also runs on its own (``invoke_without_command``), so both
``duban score --plan 1 --detail`` and ``duban score waive 12:late_days --reason …`` work.
A deduction row is named ``<task id>:<rule>`` as shown in the 行号 column of ``--detail``.
"""

from __future__ import annotations

import click

from cli.common import as_of_option, call
from cli.output import emit_json, info, json_option, table, warn


@click.group("score", invoke_without_command=True)
@click.option("--plan", "plan", default=None, help="工作计划编号或年份（只有一个计划时可省略）")
@click.option(
    "--year", type=int, default=None, help="考核年度：该年全部任务（各计划、手工新增、事件时限）"
)
@as_of_option
@click.option("--unit", default=None, help="只看某个单位")
@click.option("--detail", is_flag=True, help="列出每一条扣分及其依据（行号用于 duban score waive）")
@json_option
@click.pass_context
def score(ctx, plan, year, as_of, unit, detail, as_json) -> None:
    """年终考核：各单位得分、扣分、按时完成率与排名；年内为“情况不变”时的预测。"""
    if ctx.invoked_subcommand is not None:
        return
    out = call("score", plan=plan, as_of=as_of, unit=unit, year=year)
    if out["display"].get("empty"):
        if as_json:
            emit_json([])
        else:
            info(f"{out['display']['title']}：还没有可考核的任务。")
            info(f"提示：{EMPTY_HINT}")
        return
    if as_json:
        emit_json(out["result"])
        return
    _render(out["display"], detail)


EMPTY_HINT = "用 duban import 导入任务分解表，或用 duban task add / duban event add 登记任务"


def _render(ev: dict, detail: bool) -> None:
    if ev.get("frozen"):
        f = ev["frozen"]
        info(
            f"{f['year']} 年度考核已于 {f['on']} 由{f['by']}封存（截至 {f['as_of']}），以下为封存的结果，之后的变化不再影响得分。"
        )
    table(
        ["排名", "单位", "得分", "扣分", "免扣", "扣分项", "按时完成率"],
        ev["units"],
        title=ev["title"],
    )
    if not ev["units"]:
        info("该计划下没有计分的任务。")
    if ev["forecast"]:
        warn(
            f"{ev['plan_year']} 年尚未结束，以上为预测：已过截止日期仍未报送的任务按截至 {ev['as_of']} 的逾期计算"
        )
    if ev.get("adjustments"):
        table(["单位", "项目", "对得分", "依据"], ev["adjustments"], title="加分、黄红牌与指标封顶")
    if detail:
        _render_rows(ev)
        if ev.get("basis"):
            table(
                ["规则", "名称", "规则内容（duban.toml 的 [scoring]）"],
                ev["basis"],
                title="扣分依据的规则",
            )
    elif ev["rows"]:
        info("用 --detail 查看每一条扣分的依据。")
    if ev.get("appeals"):
        table(
            ["编号", "单位", "扣分行", "申诉理由", "状态", "处理意见"], ev["appeals"], title="申诉"
        )


def _render_rows(ev: dict) -> None:
    if not ev["rows"]:
        info("没有扣分。")
        return
    table(
        [
            "行号",
            "单位",
            "任务",
            "规则",
            "截止日期",
            "报送日期",
            "逾期工作日",
            "扣分",
            "依据 / 免扣",
        ],
        ev["rows"],
        title="扣分明细",
    )


@score.command("waive")
@click.argument("row")
@click.option("--reason", required=True, help="免扣理由（申诉核实情况）")
@json_option
def waive_command(row, reason, as_json) -> None:
    """免扣一条扣分（申诉）：ROW 为 --detail 中的行号，如 12:late_days。仅办公室。"""
    result = call("score.waive", row=row, reason=reason)
    if as_json:
        emit_json(result)
        return
    info(
        f"已免扣任务 #{result['assignment_id']} 的“{result['rule_label']}”扣分，理由：{result['reason']}"
    )


@score.command("rules")
@json_option
def rules_command(as_json) -> None:
    """显示当前生效的扣分规则（duban.toml 的 [scoring]，未设置的取默认值）。"""
    out = call("score.rules")
    if as_json:
        emit_json(out["result"])
        return
    info("扣分规则（duban.toml 的 [scoring]）：")
    for key, text in out["describe"]:
        info(f"  {key:<15} {text}")


@score.command("freeze")
@click.option("--year", type=int, required=True, help="考核年度")
@as_of_option
@json_option
def freeze_command(year, as_of, as_json) -> None:
    """封存某年度的考核结果（仅办公室）：此后查询与导出都返回封存时的结果。封存不可撤销。"""
    out = call("score.freeze", year=year, as_of=as_of)
    if as_json:
        emit_json(out)
        return
    info(
        f"已封存 {out['year']} 年度考核（截至 {out['as_of']}，{out['units']} 个单位，{out['rows']} 条扣分）；"
        "此后 duban score / duban export evaluation 返回封存的结果。"
    )


@score.group("bonus")
def bonus() -> None:
    """加分：办公室凭依据为单位登记加分（如经验做法被上级采用、入选优秀案例）。"""


@bonus.command("add")
@click.argument("unit")
@click.option("--year", type=int, required=True, help="考核年度")
@click.option("--points", required=True, help="加分分值，如 1 或 0.5")
@click.option("--reason", required=True, help="加分理由，如“经验做法被省政府办公厅采用”")
@click.option("--evidence", required=True, help="依据：文件文号、网页地址等")
@json_option
def bonus_add_command(unit, year, points, reason, evidence, as_json) -> None:
    """为单位 UNIT 登记加分（仅办公室）。"""
    out = call(
        "score.bonus.add", unit=unit, year=year, points=points, reason=reason, evidence=evidence
    )
    if as_json:
        emit_json(out)
        return
    info(f"已为{out['unit']}登记 {out['year']} 年度加分 {out['points_text']} 分（#{out['id']}）。")


@bonus.command("list")
@click.option("--year", type=int, default=None, help="考核年度")
@json_option
def bonus_list_command(year, as_json) -> None:
    """列出加分登记。"""
    out = call("score.bonus.list", year=year)
    if as_json:
        emit_json(out)
        return
    if not out:
        info("没有加分登记。")
        return
    table(
        ["编号", "单位", "年度", "加分", "理由", "依据", "登记"],
        [
            [
                b["id"],
                b["unit"],
                b["year"],
                b["points_text"],
                b["reason"],
                b["evidence"],
                f"{b['on']} {b['by']}",
            ]
            for b in out
        ],
        title="加分登记",
    )

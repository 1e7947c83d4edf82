"""``duban demo``: a year of an office in a throwaway database."""

from __future__ import annotations

from pathlib import Path

import click

from cli.output import emit_json, info, json_option, table

WEEKDAYS = "一二三四五六日"


@click.command("demo")
@click.option("--year", type=int, default=2026, show_default=True, help="模拟的年份")
@click.option("--quiet", is_flag=True, help="只显示年终结果")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="把演示数据库保存在此目录（默认用完即弃）",
)
@json_option
def demo(year, quiet, keep, as_json) -> None:
    """演示：在临时数据库中导入示例台账，逐日模拟一整年的督办，最后给出年终考核结果。"""
    import shutil

    from cli.common import local_only

    local_only("duban demo")
    from workflow.demo.story import BEHAVIOURS, mail_line, run_demo

    def on_day(day) -> None:
        if quiet or as_json or not (day.mails or day.expired):
            return
        head = f"{day.day} 周{WEEKDAYS[day.day.weekday()]}"
        if day.expired:
            head += f"  标记逾期 {day.expired} 项"
        info(head)
        for mail in day.mails:
            info(f"    {mail_line(mail)}")

    if not (quiet or as_json):
        info(f"督办演示：{year} 年，示例台账（银川市卫健委），模拟时钟逐日运行每日检查。")
        info("各单位表现设定：" + "、".join(BEHAVIOURS.values()) + "\n")
    result = run_demo(year, keep=keep, on_day=on_day)
    try:
        if as_json:
            emit_json(result.to_dict())
            return
        totals = result.totals()
        from workflow.chasing.check import KIND_LABELS

        info(
            f"\n全年共发出 {sum(totals.values())} 封通知："
            + "，".join(f"{KIND_LABELS[k]} {v}" for k, v in sorted(totals.items()))
        )
        table(
            ["名次", "单位", "表现", "任务", "按时", "扣分", "得分"],
            [
                (
                    u["rank"],
                    u["unit"],
                    u["behaviour"],
                    u["assignments"],
                    u["on_time"],
                    f"{u['deducted']:g}",
                    f"{u['score']:g}",
                )
                for u in result.year_end
            ],
            title=f"{year} 年终考核（截至 {year}-12-31）",
        )
        if result.kept:
            info(f"\n演示数据库保存在 {result.database_url}，用以下环境变量即可用各命令查看：")
            info(f"  export DUBAN_DATABASE_URL={result.database_url} DUBAN_TOKEN={result.token}")
            info(f"  duban score --plan {year} --as-of {year}-12-31 --detail")
    finally:
        if not result.kept:
            shutil.rmtree(result.directory, ignore_errors=True)

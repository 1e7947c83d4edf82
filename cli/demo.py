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
@click.option(
    "--sample",
    type=click.Path(dir_okay=False, path_type=Path),
    help="只把示例台账（.xlsx）写到此文件，供 duban import 试用（见 README 的上手示例）",
)
@json_option
def demo(year, quiet, keep, sample, as_json) -> None:
    """演示：在临时数据库中导入示例台账，逐日模拟一整年的督办，最后给出年终考核结果。"""
    import shutil

    from workflow.demo.story import BEHAVIOURS, mail_line, run_demo, write_sample

    if sample is not None:
        path = write_sample(sample)
        if as_json:
            emit_json({"sample": str(path)})
        else:
            info(
                f"示例台账已写入 {path}（2023 年银川市卫健委任务落实台账，14 项任务，截止时间分布全年）"
            )
            info("它需要的单位和分组见 README 的上手示例；导入前可先 duban import 文件 --dry-run")
        return

    from cli.common import local_only

    local_only("duban demo")

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
            token_file = Path(result.directory) / "token"
            token_file.write_text(result.token + "\n", encoding="utf-8")
            token_file.chmod(0o600)
            info(
                f"\n演示数据库保存在 {result.database_url}；办公室令牌在 {token_file}（仅本人可读）。"
            )
            info("用以下环境变量即可用各命令查看：")
            info(f"  export DUBAN_DATABASE_URL={result.database_url}")
            info(f'  export DUBAN_TOKEN="$(cat {token_file})"')
        info("\n接下来可以试试：")
        for line in _next_steps(year, result.kept):
            info(f"  {line}")
    finally:
        if not result.kept:
            shutil.rmtree(result.directory, ignore_errors=True)


def _next_steps(year: int, kept: bool) -> list[str]:
    steps = [] if kept else ["duban demo --keep 演示        # 保留演示数据库，用各命令查看"]
    if kept:
        steps += [
            f"duban task list --overdue --plan {year}        # 年底仍逾期的任务（按今天计算）",
            "duban task show 1                         # 一项任务的全部办理记录",
            f"duban score --plan {year} --as-of {year}-12-31 --detail   # 每一项扣分及原因",
            f"duban export evaluation --plan {year} 考核.xlsx --html 考核.html",
            "duban notify preview reminder --task 1    # 看看提醒邮件的样子",
        ]
    steps += [
        "duban demo --sample 台账.xlsx              # 取出示例台账，按 README 的上手示例走一遍",
        "duban calendar show 2026-10               # 国庆调休后的工作日",
    ]
    return steps

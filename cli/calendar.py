"""``duban calendar …``: the working-day calendar (month grid, arithmetic, year status, import)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from cli.common import call
from cli.output import console, emit_json, info, json_option, table, warn


def _warn_provisional(message: str | None) -> None:
    if message:
        warn(message)


def _md(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.month}月{d.day}日"


@click.group()
def calendar() -> None:
    """工作日日历（国务院办公厅节假日安排，含调休）。"""


@calendar.command("show")
@click.argument("month", metavar="YYYY-MM")
@json_option
def show(month: str, as_json: bool) -> None:
    """显示某月月历：休 = 放假，班 = 调休上班。"""
    out = call("calendar.show", month=month)
    view = out["month"]
    if as_json:
        emit_json(view)
        return
    first = date.fromisoformat(view["days"][0]["date"])
    _render_month(view, first.year, first.month)
    _warn_provisional(out["warning"])


def _cell(day: dict[str, Any]) -> str:
    number = f"{int(day['date'][8:]):>2}"
    if day["mark"] == "班":
        return f"[bold blue]{number} 班[/]"
    if day["mark"] == "休":
        return f"[bold red]{number} 休[/]"
    if not day["working"]:
        return f"[dim]{number}[/]"
    return number


def _render_month(view: dict[str, Any], year: int, month: int) -> None:
    from rich.table import Table

    status = "暂定" if view["provisional"] else "已确认"
    grid = Table(title=f"{year}年{month}月（{status}，工作日 {view['working_days']} 天）")
    for name in "一二三四五六日":
        grid.add_column(name, justify="center", min_width=5)  # "28 班": equal columns
    week: list[str] = [""] * date(year, month, 1).weekday()
    for day in view["days"]:
        week.append(_cell(day))
        if len(week) == 7:
            grid.add_row(*week)
            week = []
    if week:
        grid.add_row(*week, *[""] * (7 - len(week)))
    out = console()
    out.print(grid)
    for block in view["holidays"]:
        out.print(
            f"休 {block['name']}：{_md(block['from'])}—{_md(block['to'])}，共 {block['days']} 天"
            + "".join(f"（依据：{source}）" for source in block.get("sources", []))
        )
    for day in view["adjusted_workdays"]:
        out.print(f"班 {_md(day['date'])}（周{day['weekday']}）上班：{day['name']}")


@calendar.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("start", metavar="DATE")
@click.argument("n", type=int)
@json_option
def add(start: str, n: int, as_json: bool) -> None:
    """DATE 加 N 个工作日（N 可为负；0 = 当天或顺延到下一个工作日）。"""
    out = call("calendar.add", start=start, n=n)
    view = out["result"]
    if as_json:
        emit_json(view)
    else:
        note = f"（{view['name']}）" if view["name"] else ""
        info(f"{view['result']}（周{view['weekday']}）{note}")
        info(f"即 {view['meaning']}")
    _warn_provisional(out["warning"])


@calendar.command("between")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@json_option
def between(a: str, b: str, as_json: bool) -> None:
    """A 到 B 之间的工作日数（不含 A、含 B；B 早于 A 时为负数）。"""
    out = call("calendar.between", a=a, b=b)
    view = out["result"]
    if as_json:
        emit_json(view)
    else:
        info(
            f"{view['from']} 至 {view['to']}：{view['working_days']} 个工作日（{view['meaning']}）"
        )
    _warn_provisional(out["warning"])


@calendar.command("status")
@json_option
def status(as_json: bool) -> None:
    """各年度节假日安排的来源与状态（已确认 / 暂定）。"""
    rows = call("calendar.status")
    if as_json:
        emit_json(rows)
        return
    table(
        ["年份", "来源", "状态"],
        [(r["year"], r["source"], r["status_zh"]) for r in rows],
        title="工作日日历",
    )


@calendar.command("import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@json_option
def import_override(path: str, as_json: bool) -> None:
    """导入国务院办公厅节假日安排（TOML 文件，格式见文档），校验通过后安装。"""
    result = call("calendar.import", path=path)
    if as_json:
        emit_json(result)
        return
    scope = "整年安排" if result["scope"] == "year" else "个别日期修正"
    if result.get("region"):
        scope = f"{result['region']}放假通知"
    info(
        f"已导入 {result['year']} 年{scope}：{result['source']}"
        f"（{result['holidays']} 个假期，{result['workdays']} 个调休上班日）"
    )
    info(f"文件：{result['installed']}")
    for old in result["replaced"]:
        info(f"已替换：{old}")
    info(f"{result['year']} 年状态：{'已确认' if result['confirmed'] else '暂定'}")
    for c in result["recomputed"]:
        info(f"任务 #{c['assignment_id']} 截止日期按新日历重算：{c['old_due']} → {c['new_due']}")


@calendar.command("recompute")
@json_option
def recompute(as_json: bool) -> None:
    """按当前日历（含 [office] region 的地区假日）重算未办结任务的截止日期（仅办公室）。"""
    result = call("calendar.recompute")
    if as_json:
        emit_json(result)
        return
    where = f"（地区：{result['region']}）" if result["region"] else "（未设置地区）"
    for c in result["recomputed"]:
        info(f"任务 #{c['assignment_id']} 截止日期按新日历重算：{c['old_due']} → {c['new_due']}")
    info(f"已按当前日历{where}重算，{len(result['recomputed'])} 个任务的截止日期有变化")

"""``duban import FILE``: bring a ledger (.xlsx / .docx / .csv) into the database, or preview it."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import console, emit_json, info, json_option, warn

PROGRESS_THRESHOLD = 50  # tasks: below this a progress bar would only flicker


class _Bar:
    """A rich progress bar on stderr, started only for large files."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < PROGRESS_THRESHOLD:
            return
        if self.progress is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("导入任务"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console(stderr=True),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("import", total=total)
        self.progress.update(self.task, completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--plan-year", "plan_year", metavar="YYYY", help="计划年度（默认取标题中的“20XX年”）")
@click.option(
    "--report-dates",
    "report_dates",
    metavar="日期,日期",
    help="报送日期，如 2023-07-31,2023-11-30（默认取开头说明中的“…前报送”）",
)
@click.option("--sheet", help="只导入 .xlsx 中的这一个工作表")
@click.option(
    "--issued",
    metavar="YYYY-MM-DD",
    help="计划印发日期：此前已截止的按月、按季等期次不分派、不考核（默认取文件中的“…印发”）",
)
@click.option("--dry-run", is_flag=True, help="只预览将要创建或修改的内容，不写入数据库")
@click.option("--create-units", is_flag=True, help="名录中没有的单位自动新建（默认报错）")
@click.option(
    "--to-ledger",
    "to_ledger",
    metavar="FILE.xlsx",
    help="把读到的任务写成台账工作簿，供在 Excel/WPS 中核对修改后再导入（如 --dry-run --to-ledger 复核.xlsx）",
)
@click.option(
    "--columns",
    metavar="列名=用途,…",
    help="指定列的用途，如 细化分工=content,责任处室=lead（用途：section number title content "
    "metric lead responsible cooperating deadline progress ignore；列名也可写列号，如 E=content）",
)
@json_option
def import_ledger(
    file,
    plan_year,
    report_dates,
    sheet,
    issued,
    dry_run,
    create_units,
    to_ledger,
    columns,
    as_json,
) -> None:
    """导入任务分解表 / 台账（.xlsx / .docx / .csv），仅办公室可用。

    同一文件再次导入不做任何改动；导入修改后的版本只更新有变化的部分，可先用 --dry-run 查看差异。
    """
    bar = _Bar(enabled=not as_json)
    try:
        out = call(
            "import",
            _local={"progress": bar},
            file=file,
            plan_year=plan_year,
            report_dates=report_dates,
            sheet=sheet,
            create_units=create_units,
            dry_run=dry_run,
            to_ledger=to_ledger,
            columns=columns,
            **({"issued": issued} if issued else {}),
        )
    finally:
        bar.close()
    if as_json:
        emit_json(out["result"])
        return
    view, review = out["display"], out["review"]
    if dry_run:
        render_preview(view)
    else:
        render_summary(view)
    if review is not None:
        info(
            f"已写出复核台账 {review['path']}（{review['tasks']} 项任务，{review['flagged']} 项有备注）："
            "在 Excel/WPS 中核对修改后，用 duban import 导入该工作簿"
        )


_STATUS = {"created": "新增", "updated": "修改", "unchanged": "不变"}
_ACTION = {"create": "新建", "update": "更新", "unchanged": "无变化"}


def _plan_line(result: dict) -> str:
    plan = result["plan"]
    dates = "、".join(plan["report_dates"]) or "无"
    origin = {"option": "（--report-dates）", "intro": "（取自开头说明）", "none": ""}[
        plan["report_dates_source"]
    ]
    year_origin = "（--plan-year）" if plan["year_source"] == "option" else ""
    return (
        f"工作计划：{plan['title']}  年度：{plan['year']}{year_origin}  "
        f"报送日期：{dates}{origin}  计划：{_ACTION[plan['action']]}"
    )


def render_preview(result: dict) -> None:
    from rich.table import Table

    out = console()
    out.print("[bold]预览（未写入数据库）[/bold]")
    out.print(_plan_line(result))
    t = Table(show_lines=True)
    for col in (
        "序号",
        "章节",
        "任务 / 具体要求",
        "单位（角色，匹配方式）",
        "截止日期 ← 依据",
        "变化",
    ):
        t.add_column(col, overflow="fold")
    for view in result["tasks"]:
        t.add_row(
            view["number"],
            view["section"],
            _task_cell(view),
            view["units"],
            view["dues"],
            _STATUS[view["status"]],
        )
    out.print(t)
    _render_columns(result, out)
    _render_changes(result, out)
    _render_warnings(result)


def _task_cell(view: dict):
    """The title, and the requirement text under it (plain text: never read as markup)."""
    from rich.text import Text

    cell = Text(view["title"])
    if view.get("content"):
        cell.append("\n" + view["content"], style="dim")
    return cell


def _render_columns(result: dict, out) -> None:
    """The column mapping duban chose (and how), so the office can correct it with --columns."""
    columns = result.get("columns") or []
    if not columns:
        return
    how = {"header": "表头", "content": "按内容判断", "option": "--columns 指定"}
    parts = [
        f"{c['column']}「{c['header'] or '无表头'}」→ {c['role_label']}（{c['role']}，{how[c['how']]}）"
        for c in columns
    ]
    out.print("列的用途：" + "；".join(parts), markup=False)
    out.print("[dim]如需更正：duban import 文件 --columns 列名=用途,…（如 细化分工=content）[/dim]")


def _counts_line(result: dict) -> str:
    c = result["counts"]
    parts = [
        f"新增任务 {c['tasks_created']}",
        f"修改任务 {c['tasks_updated']}",
        f"移除任务 {c['tasks_removed']}",
        f"新增分派 {c['assignments_created']}",
        f"修改分派 {c['assignments_updated']}",
        f"撤销分派 {c['assignments_cancelled']}",
    ]
    if c["assignments_reopened"]:
        parts.append(f"恢复分派 {c['assignments_reopened']}")
    if result["created_units"]:
        parts.append(f"新建单位 {len(result['created_units'])}")
    return "，".join(parts)


def _render_changes(result: dict, out) -> None:
    verb = "将会" if result["dry_run"] else "已"
    if not result["changed"]:
        out.print(f"与数据库中的计划相比没有变化（共 {len(result['tasks'])} 项任务）")
        return
    out.print(f"{verb}：{_counts_line(result)}")
    if result["plan"]["action"] != "create":
        for line in result["changes"]:
            out.print(f"  · {line}")
    elif result["created_units"]:
        out.print(f"  · 新建单位：{'、'.join(result['created_units'])}")


def _render_warnings(result: dict) -> None:
    for line in result["warnings"]:
        warn(line)


def render_summary(result: dict) -> None:
    plan = result["plan"]
    if not result["changed"]:
        info(f"“{plan['title']}”已是最新，没有任何改动（共 {len(result['tasks'])} 项任务）")
    else:
        info(
            f"已导入“{plan['title']}”（计划 #{plan['id']}，{plan['year']} 年）：{_counts_line(result)}"
        )
        if plan["action"] != "create":
            for line in result["changes"]:
                info(f"  · {line}")
        elif result["created_units"]:
            info(f"  · 新建单位：{'、'.join(result['created_units'])}")
    _render_warnings(result)

"""``duban notice …``: the numbered 督办单 and 催办通知书 the daily check issues."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import count_line, emit_json, info, json_option, table


@click.group()
def notice() -> None:
    """督办单、催办通知书：列出、查看、导出 Word 文件。"""


@notice.command("list")
@click.option("--year", type=int, default=None, help="只列出该年度的文号")
@click.option("--unit", default=None, help="只列出该单位的（单位令牌只能看本单位）")
@json_option
def list_(year, unit, as_json) -> None:
    """按文号列出督办单（分管领导、主要领导级）和催办通知书（单位级）。"""
    rows = call("notice.list", year=year, unit=unit)
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "文号", "等级", "单位", "任务", "截止日期", "逾期工作日", "印发日期"],
        [
            [
                r["id"],
                r["number"],
                f"{r['grade_label']}（{r['level_label']}）",
                r["unit"],
                r["title"],
                r["due"],
                r["days_overdue"],
                r["issued_on"],
            ]
            for r in rows
        ],
    )
    info(count_line(len(rows), "份"))


@notice.command("show")
@click.argument("ref")
@json_option
def show(ref, as_json) -> None:
    """查看一份督办单或催办通知书（REF：编号，或文号如 督办〔2026〕12号）。"""
    n = call("notice.show", ref=ref)
    if as_json:
        emit_json(n)
        return
    lines = [
        f"{n['number']}　{n['kind_label']}（{n['grade_label']}，{n['level_label']}）",
        f"印发单位：{n['office']}　印发日期：{n['issued_on']}",
        f"责任单位：{n['unit']}",
        f"任务 #{n['assignment_id']}：{n['title']}",
        f"具体要求：{n['requirement'] or '（台账未列明）'}",
        f"完成时限：{n['due']}　已逾期 {n['days_overdue']} 个工作日",
    ]
    for line in lines:
        click.echo(line)


@notice.command("export")
@click.argument("ref")
@click.argument("path", type=click.Path(dir_okay=False))
@json_option
def export(ref, path, as_json) -> None:
    """把督办单或催办通知书导出为 Word 文件（.docx，A4，含回执）。"""
    n = call("notice.export", ref=ref, path=path)
    if as_json:
        emit_json(n)
        return
    info(f"已导出 {n['number']}（{n['kind_label']}，{n['unit']}）：{n['path']}")

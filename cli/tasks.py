"""``duban task …``: one unit's share of a task (an assignment) is a row with its own ID."""

from __future__ import annotations

import click

from cli.common import call, date_arg
from cli.output import Col, count_line, emit_json, info, json_option, local_time, table, warn


@click.group()
def task() -> None:
    """任务（每个单位的一份任务为一行，有自己的编号）。"""


@task.command("add")
@click.argument("title")
@click.option("--unit", "units", multiple=True, help="责任单位，可重复")
@click.option("--lead", multiple=True, help="牵头单位，可重复")
@click.option("--due", required=True, help="截止日期 YYYY-MM-DD")
@click.option("--content", help="具体要求")
@click.option(
    "--plan",
    "plan_id",
    type=int,
    help="所属工作计划编号（默认：截止日期所在年度的计划，没有则自动建立）",
)
@click.option("--past", is_flag=True, help="截止日期已过也新增（补录已过期的任务，新增即逾期）")
@json_option
def add(title, units, lead, due, content, plan_id, past, as_json) -> None:
    """手工新增一项任务，为每个单位各分派一份。"""
    added = call(
        "task.add",
        title=title,
        units=list(units),
        lead=list(lead),
        due=due,
        content=content,
        plan_id=plan_id,
        **({"past": True} if past else {}),
    )
    rows = added["assignments"]
    for text in added.get("warnings", []):
        warn(text)
    if as_json:
        emit_json(rows)
        return
    info(f"已新增任务“{added['title']}”，分派 {len(rows)} 个单位：")
    _render(rows)


@task.command("list")
@click.option("--unit", help="单位")
@click.option(
    "--state",
    help="状态：assigned 已分派 / in_progress 办理中 / reported 已报送 / verified 已核验 / "
    "overdue 已逾期 / cancelled 已撤销（英文或中文均可）",
)
@click.option("--overdue", is_flag=True, help="只看已逾期（按今天计算，不必等每日检查）")
@click.option("--due-before", help="截止日期不晚于 YYYY-MM-DD")
@click.option("--due-after", help="截止日期不早于 YYYY-MM-DD")
@click.option("--plan", "plan_id", type=int, help="工作计划编号")
@click.option("--limit", type=int, default=None, help="每页条数（默认 200，最多 5000）")
@click.option("--cursor", default=None, help="从上一页末尾提示的位置继续")
@click.option("--all", "show_all", is_flag=True, help="列出全部（逐页读取）")
@json_option
def list_(
    unit, state, overdue, due_before, due_after, plan_id, limit, cursor, show_all, as_json
) -> None:
    """列出任务（单位令牌只看到本单位的任务）。默认显示第一页（200 条），--all 显示全部。"""
    from cli import client

    filters = dict(
        unit=unit,
        state=state,
        overdue=overdue,
        due_before=due_before,
        due_after=due_after,
        plan_id=plan_id,
    )
    remote = client.settings()
    if remote is None:  # local: plain SQL (no ORM; on SQLite no SQLAlchemy either)
        pages = _local_pages(filters, limit, cursor, show_all)
    else:
        pages = _remote_pages(remote, filters, limit, cursor, show_all)
    if as_json and show_all:
        from cli.output import emit_json_pages

        emit_json_pages(rows for rows, _ in pages)
        return
    rows, more = [], None
    for page, after in pages:
        rows.extend(page)
        more = after
    if as_json:
        emit_json(rows)
    elif rows:
        _render(rows)
    else:
        info("（没有符合条件的任务）")
        if not any(filters.values()) and not cursor:
            info("提示：用 duban import 导入任务分解表，或用 duban task add 新增任务")
    if more:
        from cli.output import more_line

        more_line(len(rows), more)


def _local_pages(filters: dict, limit, cursor, show_all):
    """(rows, next cursor) pages read from the local database: one query for ``--all``."""
    from cli.common import reading
    from workflow.calls.inputs import check_params
    from workflow.dates.clock import today
    from workflow.storage.reading import page_limit
    from workflow.tasks.listing import (
        TaskFilter,
        list_assignment_rows,
        page_assignment_rows,
        parse_cursor,
    )

    check_params(
        {"unit": filters["unit"], "state": filters["state"], "plan_id": filters["plan_id"]},
        "task.list",
    )
    flt = TaskFilter(
        unit=filters["unit"],
        state=filters["state"],
        overdue=filters["overdue"],
        due_before=date_arg(filters["due_before"], "--due-before 日期"),
        due_after=date_arg(filters["due_after"], "--due-after 日期"),
        plan_id=filters["plan_id"],
    )
    if show_all:
        page_limit(limit)  # checked alike, though every row is listed
        after = parse_cursor(cursor) if cursor else None
        with reading() as (reader, caller):
            return [(list_assignment_rows(reader, caller, flt, today(), after=after), None)]
    with reading() as (reader, caller):
        page = page_assignment_rows(reader, caller, flt, today(), limit, cursor)
    return [(list(page), page.next)]


def _remote_pages(remote, filters: dict, limit, cursor, show_all):
    """(rows, next cursor) pages from the server; with ``--all`` one after another, each as
    large as the server gives (5000 rows)."""
    from workflow.storage.reading import MAX_PAGE

    params = {k: v for k, v in filters.items() if v not in (None, False)}
    if not show_all:
        yield remote.page("task.list", {**params, "limit": limit, "cursor": cursor})
        return
    while True:
        rows, cursor = remote.page(
            "task.list", {**params, "limit": limit or MAX_PAGE, "cursor": cursor}
        )
        yield rows, None
        if not cursor:
            return


def _render(rows: list[dict]) -> None:
    if not rows:
        info("（没有符合条件的任务）")
        return
    overdue = [r["state"] == "overdue" for r in rows]
    table(
        [Col("编号", align="right"), "单位", Col("任务", wrap=True), "状态", "截止", "逾期报送"],
        [
            (
                r["id"],
                r["unit"],
                r["title"],
                r["state_label"],
                r["due"] + ("（暂定）" if r["provisional"] else ""),
                "是" if r["late"] else "",
            )
            for r in rows
        ],
        marked=overdue,
        footer=[
            count_line(
                len(rows),
                extra=[
                    ("已逾期", sum(overdue)),
                    ("已报送", sum(r["state"] == "reported" for r in rows)),
                    ("已核验", sum(r["state"] == "verified" for r in rows)),
                ],
            )
        ],
    )


@task.command("show")
@click.argument("assignment_id", type=int)
@json_option
def show(assignment_id, as_json) -> None:
    """查看任务详情和全部办理记录。"""
    view = call("task.show", assignment_id=assignment_id)
    if as_json:
        emit_json(view)
        return
    from states import STATE_LABELS

    info(f"任务 #{view['id']}（任务 {view['task_id']}）{view['title']}")
    if view["section"]:
        info(f"板块：{view['section']}")
    info(
        f"单位：{view['unit']}　状态：{view['state_label']}　截止：{view['due']}"
        + ("　（逾期报送）" if view["late"] else "")
    )
    if view["content"]:
        info(f"要求：{view['content']}")
    if view.get("acknowledged_at"):
        info(f"签收：{local_time(view['acknowledged_at'])} {view['acknowledged_by']}")
    elif view["state"] == "assigned":
        info("签收：未签收")
    for r in view["reports"]:
        info(
            f"进展（{local_time(r['at'])} {r['actor']}）：{r['text']}"
            + (f"　计 {r['count']} 条（次）" if r.get("count", 1) != 1 else "")
            + (f"　佐证：{'；'.join(r['evidence'])}" if r["evidence"] else "")
        )
    table(
        ["时间", "操作", "从", "到", "操作人", "理由"],
        [
            (
                local_time(h["at"]),
                h["action_label"],
                STATE_LABELS.get(h["from"], ""),
                STATE_LABELS.get(h["to"], ""),
                h["actor"],
                h["reason"] or "",
            )
            for h in view["history"]
        ],
        title="办理记录",
    )


def _fire(assignment_id: int, trigger: str, as_json: bool = False, **kwargs) -> None:
    view = call(f"task.{trigger}", assignment_id=assignment_id, **kwargs)
    if as_json:
        emit_json(view)
    else:
        info(f"任务 #{assignment_id} 现为“{view['state_label']}”")


@task.command("ack")
@click.argument("assignment_id", type=int)
@json_option
def ack(assignment_id, as_json) -> None:
    """签收新分派的任务（单位）。"""
    view = call("task.ack", assignment_id=assignment_id)
    if as_json:
        emit_json(view)
        return
    when = local_time(view["acknowledged_at"])
    if view["already"]:
        info(f"任务 #{assignment_id} 已于 {when} 由{view['acknowledged_by']}签收，无需重复签收")
    else:
        info(f"已签收任务 #{assignment_id}（{when}）")


@task.command("start")
@click.argument("assignment_id", type=int)
@json_option
def start(assignment_id, as_json) -> None:
    """开始办理（单位）。"""
    _fire(assignment_id, "start", as_json)


@task.command("report")
@click.argument("assignment_id", type=int)
@click.option("--text", help="进展落实情况")
@click.option("--evidence", multiple=True, help="佐证：链接或文号，可重复")
@click.option("--count", type=int, help="本次报送计入量化指标的数量（如更新了 3 条），默认 1")
@json_option
def report(assignment_id, text, evidence, count, as_json) -> None:
    """报送进展（单位）。"""
    _fire(assignment_id, "report", as_json, text=text, evidence=list(evidence), count=count)


@task.command("verify")
@click.argument("assignment_id", type=int)
@click.option("--reason", help="备注")
@json_option
def verify(assignment_id, reason, as_json) -> None:
    """核验通过（办公室）。"""
    _fire(assignment_id, "verify", as_json, reason=reason)


@task.command("return")
@click.argument("assignment_id", type=int)
@click.option("--reason", help="退回理由（必填）")
@json_option
def return_(assignment_id, reason, as_json) -> None:
    """退回报送，要求补充（办公室）。"""
    _fire(assignment_id, "return", as_json, reason=reason)


@task.command("extend")
@click.argument("assignment_id", type=int)
@click.option("--to", "new_due", help="新的截止日期 YYYY-MM-DD")
@click.option("--reason", help="延期理由（必填）")
@json_option
def extend(assignment_id, new_due, reason, as_json) -> None:
    """延期（办公室）。"""
    _fire(
        assignment_id,
        "extend",
        as_json,
        new_due=new_due,
        reason=reason,
    )


@task.command("cancel")
@click.argument("assignment_id", type=int)
@click.option("--reason", help="撤销理由（必填）")
@json_option
def cancel(assignment_id, reason, as_json) -> None:
    """撤销（办公室）。"""
    _fire(assignment_id, "cancel", as_json, reason=reason)


@task.command("reopen")
@click.argument("assignment_id", type=int)
@click.option("--reason", help="恢复理由（必填）")
@json_option
def reopen(assignment_id, reason, as_json) -> None:
    """恢复已撤销的任务（办公室）。"""
    _fire(assignment_id, "reopen", as_json, reason=reason)


from cli.extensions import extension, request_extension  # noqa: E402

task.add_command(request_extension)
task.add_command(extension)

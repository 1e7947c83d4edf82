"""``duban task …``: one unit's share of a task (an assignment) is a row with its own ID."""

from __future__ import annotations

import click

from cli.common import acting, date_arg
from cli.output import emit_json, info, json_option, table


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
@json_option
def add(title, units, lead, due, content, plan_id, as_json) -> None:
    """手工新增一项任务，为每个单位各分派一份。"""
    from workflow.clock import now
    from workflow.tasks.assignments import TaskFilter, add_task, list_assignments

    due_date = date_arg(due, "截止日期")
    with acting() as ctx:
        t, assignments = add_task(
            ctx.session,
            ctx.caller,
            title,
            list(units),
            due_date,
            now(),
            content=content,
            lead=list(lead),
            plan_id=plan_id,
        )
        ids = {a.id for a in assignments}
        rows = [
            r for r in list_assignments(ctx.session, ctx.caller, TaskFilter()) if r["id"] in ids
        ]
    if as_json:
        emit_json(rows)
        return
    info(f"已新增任务“{t.title}”，分派 {len(rows)} 个单位：")
    _render(rows)


@task.command("list")
@click.option("--unit", help="单位")
@click.option(
    "--state", help="状态：assigned / in_progress / reported / verified / overdue / cancelled"
)
@click.option("--overdue", is_flag=True, help="只看已逾期")
@click.option("--due-before", help="截止日期不晚于 YYYY-MM-DD")
@click.option("--due-after", help="截止日期不早于 YYYY-MM-DD")
@click.option("--plan", "plan_id", type=int, help="工作计划编号")
@json_option
def list_(unit, state, overdue, due_before, due_after, plan_id, as_json) -> None:
    """列出任务（单位令牌只看到本单位的任务）。"""
    from workflow.tasks.assignments import TaskFilter, list_assignments

    flt = TaskFilter(
        unit=unit,
        state=state,
        overdue=overdue,
        due_before=date_arg(due_before, "--due-before 日期"),
        due_after=date_arg(due_after, "--due-after 日期"),
        plan_id=plan_id,
    )
    with acting() as ctx:
        rows = list_assignments(ctx.session, ctx.caller, flt)
    if as_json:
        emit_json(rows)
    elif rows:
        _render(rows)
    else:
        info("（没有符合条件的任务）")
        if not any((unit, state, overdue, due_before, due_after, plan_id)):
            info("提示：用 duban import 导入任务分解表，或用 duban task add 新增任务")


def _render(rows: list[dict]) -> None:
    table(
        ["编号", "单位", "任务", "状态", "截止", "逾期"],
        [
            (
                r["id"],
                r["unit"],
                r["title"],
                r["state_label"],
                r["due"] + ("（暂定）" if r["provisional"] else ""),
                "是" if r["late"] or r["state"] == "overdue" else "",
            )
            for r in rows
        ],
    )
    if not rows:
        info("（没有符合条件的任务）")


@task.command("show")
@click.argument("assignment_id", type=int)
@json_option
def show(assignment_id, as_json) -> None:
    """查看任务详情和全部办理记录。"""
    from workflow.tasks.assignments import show_assignment

    with acting() as ctx:
        view = show_assignment(ctx.session, ctx.caller, assignment_id)
    if as_json:
        emit_json(view)
        return
    from states import STATE_LABELS
    from workflow.clock import SHANGHAI

    info(f"任务 #{view['id']}（任务 {view['task_id']}）{view['title']}")
    if view["section"]:
        info(f"板块：{view['section']}")
    info(
        f"单位：{view['unit']}　状态：{view['state_label']}　截止：{view['due']}"
        + ("　（逾期报送）" if view["late"] else "")
    )
    if view["content"]:
        info(f"要求：{view['content']}")
    for r in view["reports"]:
        info(
            f"进展（{r['at'].astimezone(SHANGHAI):%Y-%m-%d %H:%M} {r['actor']}）：{r['text']}"
            + (f"　计 {r['count']} 条（次）" if r["count"] != 1 else "")
            + (f"　佐证：{'；'.join(r['evidence'])}" if r["evidence"] else "")
        )
    table(
        ["时间", "操作", "从", "到", "操作人", "理由"],
        [
            (
                h["at"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
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
    from states import STATE_LABELS
    from workflow.clock import now
    from workflow.tasks.assignments import view_of
    from workflow.tasks.lifecycle import fire

    with acting() as ctx:
        a = fire(ctx.session, assignment_id, trigger, ctx.caller, now=now(), **kwargs)
        view = view_of(ctx.session, a)
    if as_json:
        emit_json(view)
    else:
        info(f"任务 #{assignment_id} 现为“{STATE_LABELS[view['state']]}”")


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
        new_due=date_arg(new_due, "新的截止日期") if new_due else None,
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

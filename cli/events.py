"""``duban event …``: working-day time limits that start when something happens."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table, warn


@click.group()
def event() -> None:
    """事件触发的工作日时限（政策解读、依申请公开等）。"""


@event.command("add")
@click.argument("kind")
@click.option(
    "--date", "event_date", required=True, help="事件发生日期 YYYY-MM-DD（如文件签发、收到申请）"
)
@click.option("--unit", required=True, help="承办单位")
@click.option("--ref", required=True, help="依据：文号或标题")
@click.option(
    "--plan",
    "plan_id",
    type=int,
    help="所属工作计划编号（默认：截止日期所在年度的计划，没有则自动建立）",
)
@json_option
def add(kind, event_date, unit, ref, plan_id, as_json) -> None:
    """登记一个事件，按工作日计算截止日期。KIND 可用中文名或英文键（见 duban event kinds）。"""
    added = call("event.add", kind=kind, event_date=event_date, unit=unit, ref=ref, plan_id=plan_id)
    view = added["event"]
    if added["warning"]:
        warn(added["warning"])
    if as_json:
        emit_json(view)
        return
    info(
        f"已登记{view['kind_name']}“{view['ref']}”（{view['event_date']}），"
        f"{view['unit']}应在 {view['working_days']} 个工作日内、即 {view['due']} 前办结"
        + ("（日历暂定）" if view["provisional"] else "")
        + f"，任务编号 #{view['id']}"
    )


@event.command("list")
@click.option("--kind", help="事件类型（中文名或英文键）")
@click.option("--unit", help="单位")
@json_option
def list_(kind, unit, as_json) -> None:
    """列出事件时限任务（单位令牌只看到本单位的）。"""
    rows = call("event.list", kind=kind, unit=unit)
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "类型", "事件日期", "依据", "单位", "时限", "截止", "状态"],
        [
            (
                r["id"],
                r["kind_name"],
                r["event_date"],
                r["ref"],
                r["unit"],
                f"{r['working_days']}个工作日",
                (f"自 {r['paused_on']} 起暂停计时" if r.get("paused_on") else r["due"])
                + ("（已延期）" if r["extended"] else "")
                + ("（暂定）" if r["provisional"] else ""),
                r["state_label"]
                + ("（逾期报送）" if r["late"] and r["state"] != "overdue" else ""),
            )
            for r in rows
        ],
    )
    if not rows:
        info("（没有事件时限任务）")


@event.command("kinds")
@json_option
def kinds_(as_json) -> None:
    """列出事件类型及其工作日时限（含 duban.toml [events] 的设置）。"""
    rows = call("event.kinds")
    if as_json:
        emit_json(rows)
        return
    table(
        ["英文键", "名称", "时限（工作日）", "可延长"],
        [
            (
                r["key"],
                r["name"],
                r["working_days"],
                f"一次，最多 {r['extension_days']} 个工作日" if r["extension_days"] else "",
            )
            for r in rows
        ],
    )


@event.command("extend")
@click.argument("assignment_id", type=int)
@click.option("--days", type=int, required=True, help="延长的工作日数（依申请公开最多 20）")
@click.option("--reason", required=True, help="延期理由（经办公室批准）")
@click.option("--approved-by", help="批准延期的负责人（依申请公开必填，条例第三十三条）")
@json_option
def extend(assignment_id, days, reason, approved_by, as_json) -> None:
    """延长事件时限（仅办公室，仅一次，例如依申请公开延长不超过 20 个工作日）。"""
    view = call(
        "event.extend",
        assignment_id=assignment_id,
        days=days,
        reason=reason,
        approved_by=approved_by,
    )
    if as_json:
        emit_json(view)
        return
    info(
        f"任务 #{view['id']} 已延长 {days} 个工作日：截止日期由 {view['original_due']} 改为 {view['due']}"
    )


def _clock_line(view) -> str:
    clock = view["clock"]
    if clock["paused"]:
        return f"自 {clock['paused_on']} 起暂停计时（{_REASONS.get(clock['paused_reason'], '')}）"
    skipped = "".join(f"，{p['from']} 后至 {p['to']} 不计" for p in clock["pauses"])
    return (
        f"自 {clock['start']} 起 {clock['working_days']} 个工作日{skipped}，"
        f"答复期限 {view['due']}" + ("（暂定）" if view["provisional"] else "")
    )


_REASONS = {"correction": "补正", "third_party": "征求第三方意见"}


@event.command("show")
@click.argument("assignment_id", type=int)
@json_option
def show(assignment_id, as_json) -> None:
    """显示一个事件：时限的计算（暂停、恢复、延长）与全部记录。"""
    view = call("event.show", assignment_id=assignment_id)
    if as_json:
        emit_json(view)
        return
    info(
        f"#{view['id']} {view['kind_name']}“{view['ref']}”（{view['event_date']}），"
        f"{view['unit']}，{view['state_label']}"
    )
    info(_clock_line(view))
    table(
        ["时间", "操作", "操作人", "说明"],
        [(h["at"], h["label"], h["actor"], h["reason"] or "") for h in view["history"]],
    )


@event.command("pause")
@click.argument("assignment_id", type=int)
@click.option(
    "--reason", required=True, help="补正（条例第三十条）或 征求第三方意见（条例第三十二条）"
)
@click.option("--on", "on", required=True, help="暂停日期 YYYY-MM-DD（发出补正告知或征求意见之日）")
@click.option("--note", help="说明（可选）")
@json_option
def pause(assignment_id, reason, on, note, as_json) -> None:
    """暂停依申请公开的答复计时（补正、征求第三方意见）。"""
    view = call("event.pause", assignment_id=assignment_id, reason=reason, on=on, note=note)
    if as_json:
        emit_json(view)
        return
    info(f"任务 #{view['id']}：{_clock_line(view)}")


@event.command("resume")
@click.argument("assignment_id", type=int)
@click.option(
    "--on", "on", required=True, help="恢复日期 YYYY-MM-DD（收到补正申请或第三方意见之日）"
)
@click.option("--note", help="说明（可选）")
@json_option
def resume(assignment_id, on, note, as_json) -> None:
    """恢复答复计时：补正后从收到补正申请之日重新计算；征求意见期间不计入。"""
    view = call("event.resume", assignment_id=assignment_id, on=on, note=note)
    if view.get("warning"):
        warn(view["warning"])
    if as_json:
        emit_json(view)
        return
    info(f"任务 #{view['id']}：{_clock_line(view)}")

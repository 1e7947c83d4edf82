"""``duban unit add|list|show|edit`` and ``duban leader add|list``."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


def _split(values: tuple[str, ...]) -> list[str]:
    """Repeated options may also hold comma/、-separated lists."""
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in v.replace("、", ",").replace("，", ",").split(",") if p.strip()]
    return out


@click.group()
def unit() -> None:
    """单位名录。"""


@unit.command("add")
@click.argument("name")
@click.option("--alias", multiple=True, help="别名，可重复")
@click.option("--group", multiple=True, help="所属分组，如 委机关各科室，可重复")
@click.option("--email", multiple=True, help="联系人邮箱，可重复")
@click.option("--leader", help="分管领导姓名（须先 duban leader add）")
@json_option
def add(name, alias, group, email, leader, as_json) -> None:
    """新增单位。名称可带括号别名，如“海域处（审批处）”。"""
    view = call(
        "unit.add",
        name=name,
        aliases=_split(alias),
        groups=_split(group),
        emails=_split(email),
        leader=leader,
    )
    emit_json(view) if as_json else info(f"已新增单位 #{view['id']}：{view['name']}")


@unit.command("list")
@json_option
def list_(as_json) -> None:
    """列出全部单位。"""
    rows = call("unit.list")
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "名称", "别名", "分组", "邮箱", "分管领导", "状态"],
        [
            (
                r["id"],
                r["name"],
                "、".join(r["aliases"]),
                "、".join(r["groups"]),
                "、".join(r["emails"]),
                r["leader"] or "",
                "" if r["active"] else "停用",
            )
            for r in rows
        ],
    )


@unit.command("show")
@click.argument("name")
@json_option
def show(name, as_json) -> None:
    """查看一个单位（名称或别名）。"""
    view = call("unit.show", name=name)
    if as_json:
        emit_json(view)
        return
    for label, key in [
        ("编号", "id"),
        ("名称", "name"),
        ("别名", "aliases"),
        ("分组", "groups"),
        ("邮箱", "emails"),
        ("分管领导", "leader"),
    ]:
        value = view[key]
        info(f"{label}：{'、'.join(value) if isinstance(value, list) else (value or '')}")


@unit.command("edit")
@click.argument("name")
@click.option("--add-alias", multiple=True)
@click.option("--remove-alias", multiple=True)
@click.option("--add-group", multiple=True)
@click.option("--remove-group", multiple=True)
@click.option("--add-email", multiple=True)
@click.option("--remove-email", multiple=True)
@click.option("--leader", help="分管领导姓名；空字符串表示清除")
@click.option("--rename", help="新名称")
@click.option("--deactivate", is_flag=True, help="停用（不再分派新任务）")
@json_option
def edit(
    name,
    add_alias,
    remove_alias,
    add_group,
    remove_group,
    add_email,
    remove_email,
    leader,
    rename,
    deactivate,
    as_json,
) -> None:
    """修改单位：别名、分组、邮箱、分管领导、名称。"""
    view = call(
        "unit.edit",
        name=name,
        add_aliases=_split(add_alias),
        remove_aliases=_split(remove_alias),
        add_groups=_split(add_group),
        remove_groups=_split(remove_group),
        add_emails=_split(add_email),
        remove_emails=_split(remove_email),
        leader=leader,
        rename=rename,
        deactivate=deactivate,
    )
    emit_json(view) if as_json else info(f"已更新单位：{view['name']}")


@click.group()
def leader() -> None:
    """领导名录（接收升级提醒与汇总）。"""


@leader.command("add")
@click.argument("name")
@click.option("--email", help="邮箱")
@click.option("--title", help="职务，如 分管副主任")
@click.option("--principal", is_flag=True, help="主要领导（最高一级升级对象）")
@json_option
def leader_add(name, email, title, principal, as_json) -> None:
    """新增领导。"""
    view = call("leader.add", name=name, email=email, title=title, principal=principal)
    emit_json(view) if as_json else info(f"已新增领导 #{view['id']}：{view['name']}")


@leader.command("list")
@json_option
def leader_list(as_json) -> None:
    """列出领导。"""
    rows = call("leader.list")
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "姓名", "职务", "邮箱", "主要领导"],
        [
            (r["id"], r["name"], r["title"] or "", r["email"] or "", "是" if r["principal"] else "")
            for r in rows
        ],
    )

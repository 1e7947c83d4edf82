"""``duban unit add|list|show|edit`` and ``duban leader add|list|edit``.

Robot keys and signing secrets are never options (a command line ends up in shell history and
``ps``): ``--robot wecom`` asks for the key without echo, or reads it from standard input when
that is not a terminal (first line the key or the whole webhook address, second line the
signing secret when ``--robot-secret`` is given)."""

from __future__ import annotations

import sys

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table


def _split(values: tuple[str, ...]) -> list[str]:
    """Repeated options may also hold comma/、-separated lists."""
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in v.replace("、", ",").replace("，", ",").split(",") if p.strip()]
    return out


ROBOT_CHOICES = ("wecom", "dingtalk", "feishu", "none")


def robot_options(func):
    func = click.option(
        "--robot-mention",
        multiple=True,
        help="钉钉群消息中 @提醒的联系人手机号，可重复；none 表示清除",
    )(func)
    func = click.option(
        "--remove-robot",
        multiple=True,
        type=click.Choice(ROBOT_CHOICES[:3]),
        help="删除这一种群机器人",
    )(func)
    func = click.option(
        "--robot-secret",
        is_flag=True,
        help="同时设置签名密钥（钉钉加签 / 飞书签名校验），同样不回显输入或从标准输入第二行读取",
    )(func)
    return click.option(
        "--robot",
        type=click.Choice(ROBOT_CHOICES),
        help="设置群机器人（key 不在命令行中给出：会提示输入，或从标准输入读取）；none 删除全部",
    )(func)


def _read_secrets(prompts: list[str]) -> list[str]:
    """One value per prompt: asked without echo on a terminal, else one line each from stdin."""
    from workflow.errors import InvalidInput

    stdin = sys.stdin
    if stdin.isatty():
        return [click.prompt(p, hide_input=True, err=True) for p in prompts]
    lines = stdin.read().splitlines()
    values = []
    for i, prompt in enumerate(prompts):
        value = lines[i].strip() if i < len(lines) else ""
        if not value:
            raise InvalidInput(f"没有从标准输入读到{prompt}（标准输入不是终端时，每行一项）")
        values.append(value)
    return values


def robot_params(robot, robot_secret, remove_robot, robot_mention) -> dict:
    """The robot parameters of ``unit.edit`` / ``leader.edit`` the options ask for, the key and
    secret read without a command line (they travel in the request body, never in a URL)."""
    from workflow.errors import InvalidInput

    params: dict = {"robot": robot, "remove_robots": list(remove_robot) or None}
    if robot_mention:
        values = _split(robot_mention)
        params["robot_mentions"] = [] if values == ["none"] else values
    if robot_secret and robot in (None, "none", "wecom"):
        raise InvalidInput("--robot-secret 只能与 --robot dingtalk 或 --robot feishu 一起使用")
    if robot is None or robot == "none":
        return params
    label = {"wecom": "企业微信机器人 key", "dingtalk": "钉钉机器人 access_token",
             "feishu": "飞书机器人 webhook"}[robot]  # fmt: skip
    prompts = [f"{label}（或整个 webhook 地址）"] + (["签名密钥"] if robot_secret else [])
    token, *rest = _read_secrets(prompts)
    params["robot_token"] = token
    if rest:
        params["robot_secret"] = rest[0]
    return params


def robots_text(views: list[dict]) -> str:
    """``企业微信（已设置）、钉钉（已设置，已加签，@13800138000）``."""
    parts = []
    for v in views:
        extra = "，已加签" if v["secret"] else ""
        if v["mention_mobiles"]:
            extra += "，@" + "、".join(v["mention_mobiles"])
        parts.append(f"{v['label']}（{v['key']}{extra}）")
    return "、".join(parts)


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
        ["编号", "名称", "别名", "分组", "邮箱", "群机器人", "分管领导", "状态"],
        [
            (
                r["id"],
                r["name"],
                "、".join(r["aliases"]),
                "、".join(r["groups"]),
                "、".join(r["emails"]),
                "、".join(v["label"] for v in r["robots"]),
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
    info(f"群机器人：{robots_text(view['robots'])}")


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
@robot_options
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
    robot,
    robot_secret,
    remove_robot,
    robot_mention,
    as_json,
) -> None:
    """修改单位：别名、分组、邮箱、分管领导、名称、群机器人。"""
    robots = robot_params(robot, robot_secret, remove_robot, robot_mention)
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
        **robots,
    )
    if as_json:
        emit_json(view)
        return
    info(f"已更新单位：{view['name']}")
    if robot or remove_robot or robot_mention:
        info(f"群机器人：{robots_text(view['robots']) or '（无）'}")


IMPORT_ACTIONS = {"add": "新增", "update": "补充", "same": "无变化", "error": "有误"}


@unit.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只预览，不写入")
@json_option
def import_(file, dry_run, as_json) -> None:
    """导入单位名录表（.xlsx / .csv；表头含 单位名称，可选 别名、分组、邮箱、分管领导）。

    已有单位只补充别名、分组和邮箱，不删除；任何一行有误时不写入。"""
    out = call("unit.import", file=file, dry_run=dry_run)
    if as_json:
        emit_json(out)
        return
    table(
        ["行", "单位", "处理", "内容"],
        [
            (
                r["line"],
                r["name"],
                IMPORT_ACTIONS[r["action"]],
                r["error"] or "；".join(r["changes"]),
            )
            for r in out["rows"]
            if r["action"] != "same"
        ],
    )
    head = "（预览，未写入）" if not out["written"] else "已导入："
    info(
        f"{head}新增 {out['added']} 个单位，补充 {out['updated']} 个，无变化 {out['same']} 个"
        + (f"，有误 {out['errors']} 行" if out["errors"] else "")
    )


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
        ["编号", "姓名", "职务", "邮箱", "群机器人", "主要领导"],
        [
            (
                r["id"],
                r["name"],
                r["title"] or "",
                r["email"] or "",
                "、".join(v["label"] for v in r["robots"]),
                "是" if r["principal"] else "",
            )
            for r in rows
        ],
    )


@leader.command("edit")
@click.argument("name")
@click.option("--email", help="邮箱；空字符串表示清除")
@click.option("--title", help="职务")
@robot_options
@json_option
def leader_edit(
    name, email, title, robot, robot_secret, remove_robot, robot_mention, as_json
) -> None:
    """修改领导：邮箱、职务、群机器人。"""
    robots = robot_params(robot, robot_secret, remove_robot, robot_mention)
    view = call("leader.edit", name=name, email=email, title=title, **robots)
    if as_json:
        emit_json(view)
        return
    info(f"已更新领导：{view['name']}")
    if view["robots"]:
        info(f"群机器人：{robots_text(view['robots'])}")

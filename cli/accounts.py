"""``duban account add|list|show|edit|lock|unlock|reset-password|remove``."""

from __future__ import annotations

import click

from cli.common import call
from cli.output import emit_json, info, json_option, table

ROLE_HELP = (
    "角色：office / unit / leader / security / auditor，多个用逗号分隔（如 office,security）"
)
ROLE_NAMES = {
    "office": "办公室",
    "unit": "单位",
    "leader": "领导",
    "security": "安全管理员",
    "auditor": "审计员",
}


def _roles(roles: list[str]) -> str:
    return "、".join(ROLE_NAMES.get(r, r) for r in roles)


def _state(view: dict) -> str:
    if view["locked"]:
        until = view.get("locked_until")
        return f"已锁定至 {str(until)[:16].replace('T', ' ')}" if until else "已锁定"
    return "须改密码" if view["must_change_password"] else "正常"


@click.group()
def account() -> None:
    """个人账号管理（安全管理员；未设安全管理员时由办公室管理）。"""


@account.command("add")
@click.argument("name")
@click.option("--role", required=True, metavar="ROLE[,ROLE]", help=ROLE_HELP)
@click.option("--unit", metavar="UNIT", help="所属单位（单位账号必填）")
@click.option("--email", metavar="E", help="电子邮箱")
@click.option("--mobile", metavar="M", help="手机号")
@json_option
def add(
    name: str, role: str, unit: str | None, email: str | None, mobile: str | None, as_json: bool
) -> None:
    """新增账号并生成初始密码（只显示这一次；首次登录须修改）。"""
    view = call("account.add", name=name, role=role, unit=unit, email=email, mobile=mobile)
    if as_json:
        emit_json({"id": view["id"], "name": view["name"], "password": view["password"]})
        return
    info(f"已新增账号 #{view['id']} {view['name']}（{_roles(view['roles'])}）")
    info(f"初始密码（只显示这一次，首次登录须修改）：{view['password']}")


@account.command("list")
@json_option
def list_(as_json: bool) -> None:
    """列出账号。"""
    rows = call("account.list")
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "账号", "角色", "单位", "邮箱", "手机", "状态"],
        [
            (
                r["id"],
                r["name"],
                _roles(r["roles"]),
                r["unit"] or "",
                r["email"] or "",
                r["mobile"] or "",
                _state(r),
            )
            for r in rows
        ],
    )


@account.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """查看一个账号（含其令牌：到期时间、最近使用时间）。"""
    view = call("account.show", name=name)
    if as_json:
        emit_json(view)
        return
    info(f"账号 #{view['id']} {view['name']}")
    info(f"角色：{_roles(view['roles'])}")
    if view["unit"]:
        info(f"单位：{view['unit']}")
    info(f"邮箱：{view['email'] or '—'}　手机：{view['mobile'] or '—'}")
    info(f"状态：{_state(view)}")
    for t in view.get("tokens", []):
        state = "已吊销" if t["revoked"] else f"有效至 {str(t['expires_at'])[:10]}"
        used = str(t["last_used_at"])[:16].replace("T", " ") if t["last_used_at"] else "未使用"
        info(f"令牌 #{t['id']} {t['prefix']}…　{state}　最近使用：{used}")


@account.command("edit")
@click.argument("name")
@click.option("--role", metavar="ROLE[,ROLE]", help=ROLE_HELP)
@click.option("--unit", metavar="UNIT", help="所属单位（空字符串清除）")
@click.option("--email", metavar="E", help="电子邮箱（空字符串清除）")
@click.option("--mobile", metavar="M", help="手机号（空字符串清除）")
@click.option("--rename", metavar="NEW", help="新账号名")
@json_option
def edit(
    name: str,
    role: str | None,
    unit: str | None,
    email: str | None,
    mobile: str | None,
    rename: str | None,
    as_json: bool,
) -> None:
    """修改账号（只改给出的项）。"""
    view = call(
        "account.edit",
        name=name,
        role=role,
        unit=unit,
        email=email,
        mobile=mobile,
        rename=rename,
    )
    if as_json:
        emit_json(view)
        return
    info(f"已修改账号 #{view['id']} {view['name']}（{_roles(view['roles'])}）")


def _simple(verb: str, done: str, doc: str) -> None:
    @account.command(verb, help=doc)
    @click.argument("name")
    @json_option
    def command(name: str, as_json: bool) -> None:
        view = call(f"account.{verb}", name=name)
        if as_json:
            emit_json(view)
            return
        info(f"{done}：#{view['id']} {view['name']}")


_simple("lock", "已锁定账号（已在各处退出登录）", "锁定账号，直至解锁。")
_simple("unlock", "已解锁账号", "解锁账号（含因密码错误被锁定的）。")
_simple("remove", "已删除账号（其令牌已吊销）", "删除账号：吊销其令牌，结束其登录。")


@account.command("reset-password")
@click.argument("name")
@json_option
def reset_password(name: str, as_json: bool) -> None:
    """重置密码：生成新的初始密码（只显示这一次；下次登录须修改）。"""
    view = call("account.reset-password", name=name)
    if as_json:
        emit_json(view)
        return
    info(f"已重置账号 #{view['id']} {view['name']} 的密码（已在各处退出登录）")
    info(f"新的初始密码（只显示这一次，登录后须修改）：{view['password']}")

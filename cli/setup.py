"""``duban init``, ``login``, ``whoami``, ``db upgrade``."""

from __future__ import annotations

import click

from cli.output import emit_json, info, json_option


@click.command()
@json_option
def init(as_json: bool) -> None:
    """创建数据库（或升级已有数据库）并生成办公室令牌（只显示一次）。"""
    from workflow.directory.setup import initialize

    result = initialize()
    if as_json:
        emit_json({"token": result.token, "database": result.database})
        return
    info(f"数据库：{result.database}")
    info(f"办公室令牌（只显示这一次，请妥善保存）：{result.token}")
    info("下一步：export DUBAN_TOKEN=<令牌> 或 duban login <令牌>")


@click.command()
@click.argument("token", required=False)
def login(token: str | None) -> None:
    """保存令牌到用户配置目录，后续命令自动使用。

    不带参数时从终端提示输入（不回显），或从标准输入读取，例如
    duban token issue 财务审计科 | duban login（令牌不出现在命令行上）。
    """
    from workflow.directory.setup import login as do_login

    if token is None:
        token = _token_from_stdin() if not _stdin_is_tty() else None
    if token is None:
        token = click.prompt("令牌", hide_input=True)
    caller, path = do_login(token)
    info(f"已登录：{caller.name}（{caller.role}），令牌保存在 {path}")


@click.command()
@json_option
def whoami(as_json: bool) -> None:
    """显示当前身份。"""
    from cli.common import acting

    with acting() as ctx:
        data = {"role": ctx.caller.role, "name": ctx.caller.name, "database": ctx.db.safe_url}
    if as_json:
        emit_json(data)
    else:
        info(f"{data['name']}（{data['role']}） @ {data['database']}")


@click.group()
def db() -> None:
    """数据库维护。"""


@db.command()
@json_option
def upgrade(as_json: bool) -> None:
    """把已有数据库升级到当前版本（保留数据）。"""
    from workflow.directory.setup import upgrade_database

    before, after, url = upgrade_database()
    if as_json:
        emit_json({"database": url, "from": before, "to": after})
    elif before == after:
        info(f"数据库已是最新版本（{after}）：{url}")
    else:
        info(f"数据库已升级：{before or '空'} → {after}：{url}")


def _stdin_is_tty() -> bool:
    import sys

    return sys.stdin is not None and sys.stdin.isatty()


def _token_from_stdin() -> str | None:
    """The first ``dbn_…`` token in what was piped in (e.g. the output of ``duban init``)."""
    import re
    import sys

    from workflow.errors import InvalidInput

    text = sys.stdin.read()
    found = re.search(r"dbn_[A-Za-z0-9_-]+", text)
    if found is None:
        raise InvalidInput(
            "标准输入中没有令牌（应形如 dbn_…）：请把 duban init 或 duban token issue 的输出接到 duban login"
        )
    return found.group(0)

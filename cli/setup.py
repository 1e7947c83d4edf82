"""``duban init``, ``login``, ``logout``, ``whoami``, ``db upgrade``."""

from __future__ import annotations

import click

from cli.output import emit_json, info, json_option


@click.command()
@json_option
def init(as_json: bool) -> None:
    """创建数据库（或升级已有数据库）并生成办公室令牌（只显示一次）。"""
    from cli.common import local_only

    local_only("duban init")
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
@click.option(
    "--server",
    metavar="URL",
    help="督办服务地址（如 https://duban.example.gov.cn）：此后各命令都通过该服务办理",
)
@click.option(
    "--account",
    metavar="NAME",
    help="用个人账号和密码登录：密码从环境变量 DUBAN_PASSWORD、终端（不回显）或标准输入读取",
)
def login(token: str | None, server: str | None, account: str | None) -> None:
    """保存令牌（和服务地址）到用户配置目录，后续命令自动使用。

    不给出 TOKEN 时从终端读取（不回显），或从标准输入读取一行，如
    echo "$TOKEN" | duban login --server https://duban.example.gov.cn
    用个人账号：duban login --server https://duban.example.gov.cn --account 张三
    """
    from cli import client

    if account is not None:
        if token is not None:
            from workflow.errors import InvalidInput

            raise InvalidInput("--account 与令牌只能给出一个（密码不要写在命令行上）")
        _login_account(account, server)
        return
    if token is None:
        token = _read_token()
    token = token.strip()
    remote = client.settings()
    url = client.normalize_url(server) if server else (remote.url if remote else None)
    if url is None:
        from workflow.directory.setup import login as do_login

        caller, path = do_login(token)
        info(f"已登录：{caller.name}（{caller.role}），令牌保存在 {path}")
        return
    me = client.Remote(url=url, token=token).call("whoami", {})
    path = client.save_login(url, token, server_given=server is not None)
    info(f"已登录：{me['name']}（{me['role']}） @ {url}，令牌保存在 {path}")


def _login_account(account: str, server: str | None) -> None:
    """Sign in with a person's password; the personal token the server issues is saved."""
    from cli import client

    password = _read_password()
    remote = client.settings()
    url = client.normalize_url(server) if server else (remote.url if remote else None)
    if url is None:
        from workflow.accounts.signin import login_local

        name, path = login_local(account, password)
        info(f"已登录：{name}，令牌保存在 {path}")
        return
    result = client.Remote(url=url, token=None).sign_in(account, password)
    path = client.save_login(url, result["token"], server_given=server is not None)
    info(f"已登录：{result['name']}（{result['role']}） @ {url}，令牌保存在 {path}")


def _read_password() -> str:
    import os
    import sys

    from workflow.errors import InvalidInput

    given = os.environ.get("DUBAN_PASSWORD")
    if given:
        return given
    if sys.stdin is None or sys.stdin.isatty():
        return click.prompt("密码", hide_input=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput("标准输入中没有密码：请在终端输入，或设置环境变量 DUBAN_PASSWORD")
    return line


def _read_token() -> str:
    import sys

    if sys.stdin is None or sys.stdin.isatty():
        return click.prompt("令牌", hide_input=True)
    return _token_from_stdin()  # e.g. duban init | duban login


@click.command()
def logout() -> None:
    """删除保存的令牌和服务地址（此后在本机数据库上工作，或重新 duban login）。"""
    from cli import client

    removed = client.forget_login()
    info(
        "已退出登录"
        + (f"，已删除 {'、'.join(map(str, removed))}" if removed else "（没有保存的令牌）")
    )


@click.command()
@json_option
def whoami(as_json: bool) -> None:
    """显示当前身份（和所连接的服务器或数据库）。"""
    from cli import client
    from cli.common import call

    remote = client.settings()
    data = call("whoami")
    if remote is not None:
        data["server"] = remote.url
    else:
        from workflow.config import load_config
        from workflow.storage.db import Database

        data["database"] = Database(load_config().database_url).safe_url
    if as_json:
        emit_json(data)
    else:
        info(f"{data['name']}（{data['role']}） @ {data.get('server') or data['database']}")


@click.group()
def db() -> None:
    """数据库维护。"""


@db.command()
@click.option("--dry-run", is_flag=True, help="只列出将要执行的升级步骤，不改动数据库")
@click.option("--no-backup", is_flag=True, help="升级前不备份（不建议）")
@click.option(
    "--backup-to", metavar="FILE", help="升级前备份到此文件（默认数据目录下带时间的文件）"
)
@json_option
def upgrade(dry_run: bool, no_backup: bool, backup_to: str | None, as_json: bool) -> None:
    """把已有数据库升级到当前版本（保留数据）：先说明将执行的步骤，默认先备份。"""
    from cli.common import local_only

    local_only("duban db upgrade")
    from workflow.operations.desk import upgrade as run_upgrade

    result = run_upgrade(backup_to=backup_to, no_backup=no_backup, dry_run=dry_run)
    if as_json:
        emit_json(result)
        return
    url, before, after = result["database"], result["from"], result["to"]
    if not result["pending"]:
        info(f"数据库已是最新版本（{after}）：{url}")
        return
    info(f"{'将' if dry_run else ''}执行 {len(result['pending'])} 个升级步骤：")
    for step in result["pending"]:
        info(f"  {step['revision']}  {step['what']}")
    if dry_run:
        return
    if result["backup"]:
        info(f"升级前已备份：{result['backup']}")
    info(f"数据库已升级：{before or '空'} → {after}：{url}")


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

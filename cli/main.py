"""The root ``duban`` command.

Each command group lives in its own module and is imported only when it runs, so
``duban --help`` stays fast (see ``bench/bench_startup.py``). Every
:class:`workflow.errors.DubanError` is caught here, once, and turned into a one-line Chinese
message on stderr and the error's exit code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from cli.usage import ChineseHelpFormatter

click.Context.formatter_class = ChineseHelpFormatter  # 用法 / 选项 / 命令 in every --help
_parse_args = click.Command.parse_args


def _parse_args_in_context(self: click.Command, ctx: click.Context, args: list[str]):
    """click's option parser raises some usage errors ("--due requires an argument") without
    the command's context: attach it, so the message names ``duban task add --help``."""
    try:
        return _parse_args(self, ctx, args)
    except click.UsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx
        raise


click.Command.parse_args = _parse_args_in_context  # type: ignore[method-assign]

# name -> ("module", "attribute", short help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("cli.setup", "init", "创建数据库和办公室账号（首次使用）"),
    "login": ("cli.setup", "login", "保存令牌，供后续命令使用"),
    "logout": ("cli.setup", "logout", "删除保存的令牌和服务地址"),
    "whoami": ("cli.setup", "whoami", "显示当前令牌对应的身份"),
    "db": ("cli.setup", "db", "数据库维护（升级，先备份）"),
    "token": ("cli.tokens", "token", "签发、列出、吊销令牌"),
    "account": ("cli.accounts", "account", "个人账号：新增、列出、查看、修改、锁定、重置密码"),
    "unit": ("cli.units", "unit", "单位名录：新增、列出、查看、修改、导入名录表"),
    "leader": ("cli.units", "leader", "领导名录：新增、列出、修改（含群机器人）"),
    "plan": ("cli.plans", "plan", "工作计划：列出、查看"),
    "task": ("cli.tasks", "task", "任务：新增、列出、查看、推进状态"),
    "calendar": ("cli.calendar", "calendar", "工作日日历：月历、加减工作日、年度状态、导入调休"),
    "import": ("cli.ledger", "import_ledger", "导入任务分解表 / 台账（.xlsx / .docx / .csv）"),
    "export": ("cli.export", "export", "导出台账或考核结果"),
    "event": ("cli.events", "event", "事件触发的工作日时限（政策解读、依申请公开等）"),
    "notify": ("cli.notify", "notify", "通知：预览、发送、列出、重试、群机器人测试"),
    "mail": ("cli.notify", "mail", "邮件设置检查"),
    "check": ("cli.check", "check", "按日检查：逾期、提醒、升级（守护进程每天运行）"),
    "notice": ("cli.notices", "notice", "督办单、催办通知书：列出、查看、导出 Word"),
    "daemon": ("cli.check", "daemon", "运行守护进程（定时检查与发送）"),
    "demo": ("cli.demo", "demo", "演示：临时数据库中模拟一整年"),
    "score": ("cli.score", "score", "年终考核扣分与得分"),
    "appeal": ("cli.appeal", "appeal", "申诉：单位对扣分提出申诉，办公室处理"),
    "serve": ("cli.serve", "serve", "运行督办服务（HTTP API 与网页）"),
    "audit": ("cli.audit", "audit", "安全审计日志：查询、导出、校验、清理"),
    "backup": ("cli.operations", "backup", "在线备份数据库"),
    "restore": ("cli.operations", "restore", "从备份恢复数据库"),
    "status": ("cli.operations", "status", "运行状态（数据库、守护进程心跳、待发通知）"),
    "evidence": ("cli.evidence", "evidence", "佐证链接检查：能否打开、页面是否变化"),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None or not _available(cmd_name):
            return None
        module_name, attr, _ = spec
        return getattr(importlib.import_module(module_name), attr)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # suggest the closest command
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("命令"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        from workflow.errors import DubanError

        try:
            return super().invoke(ctx)
        except DubanError as exc:
            from cli.fields import error_line

            click.echo(f"错误：{error_line(exc, exc.__traceback__)}", err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            _usage_error(exc)
        except Exception as exc:
            if not _database_down(exc):
                raise
            click.echo(f"错误：数据库不可用，本次操作未完成：{_first_line(exc)}", err=True)
            ctx.exit(11)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            _usage_error(exc)


def _usage_error(exc: click.UsageError):
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # `duban`, `duban task`: the help
        click.echo(exc.ctx.get_help())
        sys.exit(0)
    from cli.usage import usage_message

    click.echo(f"错误：{usage_message(exc)}", err=True)
    sys.exit(exc.exit_code)


def _database_down(exc: Exception) -> bool:
    """The database went away mid-command (server stopped, network gone): not a bug to trace."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


def _first_line(exc: Exception) -> str:
    """Why the database failed: Chinese first, the driver's first line kept labelled."""
    from workflow.storage.db import database_reason

    return database_reason(exc)


def _available(name: str) -> bool:
    """A command whose module is not written yet is simply not listed."""
    module_name = COMMANDS[name][0]
    return importlib.util.find_spec(module_name) is not None


@click.group(name="duban", cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="duban", prog_name="duban", message="%(prog)s 版本 %(version)s")
def cli() -> None:
    """督办 duban：政务公开工作要点任务督办。"""


def main() -> None:
    cli(prog_name="duban")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``duban check`` (the daily check, by hand) and ``duban daemon`` (the scheduler)."""

from __future__ import annotations

import click

from cli.common import as_of_option, call
from cli.output import emit_json, info, json_option, table, warn


@click.command("check")
@as_of_option
@click.option("--dry-run", is_flag=True, help="只显示将要做什么，不写入数据库")
@json_option
def check(as_of, dry_run, as_json) -> None:
    """按日检查：标记逾期，排队提醒、逾期通知、升级、进展报送与领导汇总（办公室）。"""
    out = call("check", as_of=as_of, dry_run=dry_run)
    if as_json:
        emit_json(out["result"])
        return
    view = out["display"]
    info(view["headline"])
    if view["queued"]:
        table(["类型", "收件人", "单位", "事项", "地址"], view["queued"])
    for text in view["warnings"]:
        warn(text)


@click.command("daemon")
@click.option("--standby", is_flag=True, help="已有守护进程运行时不退出，热备等待其停止后接管")
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志")
def daemon(standby, verbose) -> None:
    """运行守护进程：每天定时检查，定期投递通知；SIGTERM 时安全停止。"""
    import logging

    from cli.common import local_only

    local_only("duban daemon")
    from workflow.config import load_config
    from workflow.daemon.runner import Daemon, configure_logging
    from workflow.storage.db import Database

    configure_logging(logging.DEBUG if verbose else logging.INFO)
    config = load_config()
    db = Database(config.database_url)
    db.ensure_ready()
    if not Daemon(db=db, config=config).serve_forever(standby=standby):
        import os
        import sys

        sys.stderr.flush()
        os._exit(0)  # a job overran [notify] stop_timeout: do not wait for its thread

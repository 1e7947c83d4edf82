"""``duban backup``, ``restore``, ``status``: run on the server machine."""

from __future__ import annotations

import click

from cli.common import local_only
from cli.output import emit_json, info, json_option, warn


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
def backup(file: str, as_json: bool) -> None:
    """在线备份数据库到 FILE（服务和守护进程可照常运行）。"""
    local_only("duban backup")
    from workflow.operations.desk import take_backup

    result = take_backup(file)
    if as_json:
        emit_json(result)
    else:
        info(
            f"已备份 {result['database']} → {result['file']}（{result['size']} 字节，结构版本 {result['schema_version']}）"
        )


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--force", is_flag=True, help="目标数据库已有数据时仍然覆盖（请先停止服务和守护进程）"
)
@json_option
def restore(file: str, force: bool, as_json: bool) -> None:
    """从备份文件 FILE 恢复数据库（先检查文件和结构版本）。"""
    local_only("duban restore")
    from workflow.operations.desk import restore_backup

    result = restore_backup(file, force=force)
    if as_json:
        emit_json(result)
        return
    info(
        f"已从 {result['file']} 恢复到 {result['database']}（结构版本 {result['schema_version']}）"
    )
    if result["upgrade_needed"]:
        warn("备份来自较早版本，请运行 duban db upgrade")


@click.command()
@json_option
def status(as_json: bool) -> None:
    """运行状态：数据库、结构版本、守护进程心跳、待发通知（与 /readyz 相同）。"""
    local_only("duban status")
    from workflow.operations.desk import status as read_status

    report = read_status()
    if as_json:
        emit_json(report)
    else:
        checks = report["checks"]
        info(
            f"数据库：{report['database']}（{'可用' if checks['database']['ok'] else '不可用：' + checks['database'].get('reason', '')}）"
        )
        if "schema" in checks:
            s = checks["schema"]
            info(
                f"结构版本：{s['current']}"
                + ("（最新）" if s["ok"] else f"（应为 {s['expected']}，请运行 duban db upgrade）")
            )
        if "daemon" in checks:
            d = checks["daemon"]
            info(
                "守护进程："
                + (
                    f"心跳 {d['last_beat']}（{d['age_minutes']} 分钟前）"
                    if d["last_beat"]
                    else "从未运行"
                )
                + ("" if d["ok"] else f"——异常：{d['reason']}")
            )
        if "outbox" in checks:
            o = checks["outbox"]
            info(
                f"待发通知：{o['pending']} 条（重试中 {o['retrying']}），发送失败：{o['failed']} 条"
                + (f"，最早失败于 {o['oldest_failure']}" if o["oldest_failure"] else "")
            )
        info("状态：" + ("就绪" if report["ready"] else "未就绪"))
    if not report["ready"]:
        raise SystemExit(13)

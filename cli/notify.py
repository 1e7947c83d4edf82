"""``duban notify …`` (the outbox) and ``duban mail …`` (SMTP settings). Office only."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import acting, as_of_option, resolve_as_of
from cli.output import console, emit_json, info, json_option, table, warn

KIND_CHOICES = ("reminder", "due_today", "overdue", "escalation", "digest", "progress_request")


@click.group()
def notify() -> None:
    """通知（发件箱）：预览、发送、列出、重试。"""


@notify.command("preview")
@click.argument("kind", type=click.Choice(KIND_CHOICES))
@click.option(
    "--task", "assignment_id", type=int, required=True, help="任务编号（duban task list 中的编号）"
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="把 HTML 正文写入此文件，可用浏览器打开",
)
@as_of_option
@json_option
def preview(kind, assignment_id, html_file, as_of, as_json) -> None:
    """按模板生成一封通知邮件并显示（不发送）。"""
    from workflow.errors import InvalidInput
    from workflow.outbox.preview import preview_notification

    day = resolve_as_of(as_of)
    with acting() as ctx:
        view = preview_notification(ctx.session, ctx.caller, ctx.config, kind, assignment_id, day)
        ctx.session.rollback()  # a preview writes nothing
    if html_file is not None:
        try:
            html_file.write_text(view["html"], encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"无法写入 HTML 文件 {html_file}：{exc.strerror}") from None
    if as_json:
        emit_json(view)
        return
    to = "、".join(view["recipients"]) or "（没有登记邮箱，实际不会发送）"
    info(f"收件人：{view['recipient']} <{to}>")
    info(f"主题：{view['subject']}")
    info("")
    info(view["text"].rstrip("\n"))
    if html_file is not None:
        info("")
        info(f"HTML 正文已写入 {html_file}，可用浏览器打开查看")


@notify.command("send")
@click.option("--limit", type=click.IntRange(min=1), help="最多发送多少封")
@click.option("--now", "retry_now", is_flag=True, help="等待重试的通知也立即重试（不等退避时间）")
@json_option
def send(limit, retry_now, as_json) -> None:
    """发送所有到期的待发送通知（守护进程也会每隔几分钟自动发送）。"""
    from workflow.clock import now
    from workflow.directory.roles import require_role
    from workflow.outbox.delivery import deliver_pending

    with acting() as ctx:
        require_role(ctx.caller, "office", "发送通知")
        config, db = ctx.config, ctx.db
    # The command's session is closed here: delivery records each result in its own transaction.
    if as_json:
        summary = deliver_pending(db, config, now(), limit=limit, retry_waiting=retry_now)
        emit_json(summary.to_dict())
        return
    summary = _send_with_progress(db, config, now(), limit, retry_now)
    info(summary.summary())
    for e in summary.errors:
        label = {"failed": "失败", "retry": "稍后重试", "skipped": "跳过", "sent": "部分拒收",
                 "dropped": "作废"}  # fmt: skip
        warn(f"通知 #{e.id}（{e.recipient}）{label.get(e.status, e.status)}：{e.error}")


def _send_with_progress(db, config, when, limit, retry_waiting):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from workflow.outbox.delivery import deliver_pending

    with Progress(
        TextColumn("发送通知"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task_id = bar.add_task("send", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task_id, completed=done, total=total)

        return deliver_pending(
            db, config, when, limit=limit, progress=progress, retry_waiting=retry_waiting
        )


@notify.command("list")
@click.option(
    "--state", type=click.Choice(("pending", "sent", "failed", "dropped")), help="只看此状态"
)
@click.option("--kind", type=click.Choice((*KIND_CHOICES, "test")), help="只看此类型")
@click.option("--limit", type=click.IntRange(min=1), help="最多显示多少条（最新的在前）")
@json_option
def list_(state, kind, limit, as_json) -> None:
    """列出发件箱中的通知（最新的在前）。"""
    from workflow.outbox.queue import list_notifications

    with acting() as ctx:
        rows = list_notifications(ctx.session, ctx.caller, state=state, kind=kind, limit=limit)
    if as_json:
        emit_json(rows)
        return
    from workflow.chasing.items import KIND_LABELS
    from workflow.clock import SHANGHAI

    def when(value):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""

    table(
        ["编号", "类型", "收件人", "状态", "尝试", "下次尝试", "发送时间", "错误或说明"],
        [
            (
                r["id"],
                KIND_LABELS.get(r["kind"], r["kind"]),
                r["recipient"],
                r["state_label"],
                r["attempts"],
                when(r["next_attempt_at"]) if r["state"] == "pending" else "",
                when(r["sent_at"]),
                "；".join(x for x in (r["last_error"], r["note"]) if x),
            )
            for r in rows
        ],
    )
    if not rows:
        info("（没有符合条件的通知）")


@notify.command("retry")
@click.argument("notification_id", type=int, required=False)
@click.option("--all-failed", is_flag=True, help="重试全部发送失败的通知")
@json_option
def retry(notification_id, all_failed, as_json) -> None:
    """把发送失败的通知放回待发送队列（例如改正 SMTP 密码之后）。"""
    from workflow.clock import now
    from workflow.errors import InvalidInput
    from workflow.outbox.queue import retry_all_failed, retry_notification

    if (notification_id is None) == (not all_failed):
        raise InvalidInput("请指定一个通知编号，或使用 --all-failed（二者选一）")
    with acting() as ctx:
        if all_failed:
            ids = retry_all_failed(ctx.session, ctx.caller, now())
        else:
            ids = [retry_notification(ctx.session, ctx.caller, notification_id, now()).id]
    if as_json:
        emit_json({"requeued": ids})
        return
    if not ids:
        info("没有发送失败的通知")
        return
    info(
        f"已放回待发送队列：{len(ids)} 封（编号 {'、'.join(map(str, ids))}），可运行 duban notify send 立即发送"
    )


# ---------------------------------------------------------------- duban mail


@click.group()
def mail() -> None:
    """邮件（SMTP）设置：查看、发送测试邮件。"""


@mail.command("test")
@click.argument("address")
def mail_test(address) -> None:
    """用当前 SMTP 设置发送一封测试邮件，检查服务器、加密和登录是否正确。"""
    from workflow.clock import now
    from workflow.directory.roles import require_role
    from workflow.outbox.settings import send_test_mail

    with acting() as ctx:
        require_role(ctx.caller, "office", "发送测试邮件")
        config = ctx.config
    settings, message_id = send_test_mail(config, address, now())
    info(
        f"测试邮件已发送至 {address}（服务器 {settings.host}:{settings.port}，"
        f"加密 {settings.tls}，发件人 {settings.sender}，Message-ID {message_id}）"
    )


@mail.command("settings")
@json_option
def mail_settings(as_json) -> None:
    """显示生效的 SMTP 与投递设置（含环境变量覆盖；不显示密码）。"""
    from workflow.directory.roles import require_role
    from workflow.outbox.settings import describe_smtp, notify_settings, smtp_settings

    with acting() as ctx:
        require_role(ctx.caller, "office", "查看邮件设置")
        config = ctx.config
    from workflow.errors import ConfigError

    notify_cfg = notify_settings(config)
    try:
        smtp = describe_smtp(smtp_settings(config))
    except ConfigError:
        if notify_cfg.delivery == "smtp":
            raise
        smtp = None  # a dry run does not need a server
    view = {
        "delivery": notify_cfg.delivery,
        "directory": str(notify_cfg.directory) if notify_cfg.directory else None,
        "max_attempts": notify_cfg.max_attempts,
        "smtp": smtp,
    }
    if as_json:
        emit_json(view)
        return
    info(
        f"投递方式：{view['delivery']}"
        + (f"（目录 {view['directory']}）" if view["directory"] else "")
    )
    info(f"临时失败最多尝试：{view['max_attempts']} 次")
    if view["smtp"]:
        labels = {"host": "服务器", "port": "端口", "tls": "加密", "user": "登录用户",
                  "password": "密码", "from": "发件人", "timeout": "超时（秒）",
                  "concurrency": "并发连接", "validate_certs": "校验证书", "ca_file": "CA 证书"}  # fmt: skip
        table(["设置", "值"], [(labels[k], v) for k, v in view["smtp"].items()])

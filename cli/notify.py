"""``duban notify …`` (the outbox) and ``duban mail …`` (SMTP settings). Office only."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import as_of_option, call
from cli.output import console, emit_json, info, json_option, local_time, table, warn

_CHANNEL_NOTE = {"wecom": "（企业微信群）", "dingtalk": "（钉钉群）", "feishu": "（飞书群）"}
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
@click.option(
    "--channel",
    type=click.Choice(("email", "wecom", "dingtalk", "feishu")),
    default="email",
    show_default=True,
    help="渠道：邮件，或企业微信 / 钉钉 / 飞书群机器人（显示将发送的 markdown）",
)
@as_of_option
@json_option
def preview(kind, assignment_id, html_file, channel, as_of, as_json) -> None:
    """按模板生成一封通知邮件（或群机器人消息）并显示（不发送）。"""
    from workflow.errors import InvalidInput

    view = call(
        "notify.preview", kind=kind, assignment_id=assignment_id, as_of=as_of, channel=channel
    )
    if channel != "email":
        if as_json:
            emit_json(view)
            return
        cut = "，已按平台长度限制截断" if view["truncated"] else ""
        info(f"发往：{view['recipient']} 的{channel}群机器人（请求 {view['bytes']} 字节{cut}）")
        info(f"标题：{view['title']}")
        info("")
        info(view["markdown"].rstrip("\n"))
        return
    if html_file is not None:
        try:
            html_file.write_text(view["html"], encoding="utf-8")
        except OSError as exc:
            from workflow.config import os_error_text

            raise InvalidInput(f"无法写入 HTML 文件 {html_file}：{os_error_text(exc)}") from None
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
    bar = _Bar(enabled=not as_json)
    try:
        out = call("notify.send", _local={"progress": bar}, limit=limit, retry_waiting=retry_now)
    finally:
        bar.close()
    summary = out["result"]
    if as_json:
        emit_json(summary)
    else:
        info(out["summary"])  # wrong robots: the 错误 lines below
        for e in summary["errors"]:
            label = {"failed": "失败", "retry": "稍后重试", "skipped": "跳过", "sent": "部分拒收",
                     "dropped": "作废"}  # fmt: skip
            status = label.get(e["status"], e["status"])
            warn(f"通知 #{e['id']}（{e['recipient']}）{status}：{e['error']}")
    if summary["robot_blocked"]:  # wrong robot settings: one line per robot, its rows kept queued
        for message in summary["robot_blocked"]:
            click.echo(f"错误：{message}", err=True)
        raise SystemExit(10)


class _Bar:
    """The progress bar of a local ``notify send`` on stderr, from the first row sent."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("发送通知"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console(stderr=True),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("send", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@notify.command("test-robot")
@click.argument("name")
@json_option
def test_robot(name, as_json) -> None:
    """向一个单位（或领导）的每个群机器人发送一条测试消息。"""
    results = call("notify.test-robot", name=name)
    if as_json:
        emit_json(results)
        return
    for r in results:
        info(f"测试消息已发送：{r['robot']}")


@notify.command("list")
@click.option(
    "--state", type=click.Choice(("pending", "sent", "failed", "dropped")), help="只看此状态"
)
@click.option("--kind", type=click.Choice((*KIND_CHOICES, "test")), help="只看此类型")
@click.option("--limit", type=click.IntRange(min=1), help="最多显示多少条（最新的在前）")
@json_option
def list_(state, kind, limit, as_json) -> None:
    """列出发件箱中的通知（最新的在前）。"""
    out = call("notify.list", state=state, kind=kind, limit=limit)
    rows, kinds = out["rows"], out["kind_labels"]
    if as_json:
        emit_json(rows)
        return
    table(
        ["编号", "类型", "收件人", "状态", "尝试", "下次尝试", "发送时间", "错误或说明"],
        [
            (
                r["id"],
                kinds.get(r["kind"], r["kind"]),
                r["recipient"] + _CHANNEL_NOTE.get(r.get("channel") or "email", ""),
                r["state_label"],
                r["attempts"],
                local_time(r["next_attempt_at"]) if r["state"] == "pending" else "",
                local_time(r["sent_at"]),
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
    out = call("notify.retry", notification_id=notification_id, all_failed=all_failed)
    ids = out["requeued"]
    if as_json:
        emit_json(out)
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
    sent = call("mail.test", address=address)
    info(
        f"测试邮件已发送至 {address}（服务器 {sent['host']}:{sent['port']}，"
        f"加密 {sent['tls']}，发件人 {sent['sender']}，Message-ID {sent['message_id']}）"
    )


@mail.command("settings")
@json_option
def mail_settings(as_json) -> None:
    """显示生效的 SMTP 与投递设置（含环境变量覆盖；不显示密码）。"""
    view = call("mail.settings")
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

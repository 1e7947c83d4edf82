"""Delivering the outbox's group-robot rows (企业微信 / 钉钉 / 飞书), the test message, previews.

:func:`workflow.outbox.delivery.deliver_pending` hands the claimed rows whose ``channel`` is a
robot to :class:`RobotDelivery`; e-mail rows go on as before. Each robot row is rendered from
``notifiers/templates/<kind>.md`` (office overrides in ``<config dir>/templates/``), addressed
to the robot its owner (``context["_owner"]``) has *now* (so a key fixed after a failure is
used at once), and posted by :class:`notifiers.robots.RobotSink`; each result is recorded at
once under the sender's claim, exactly like a mail:

* sent → ``sent``; temporary (rate limit, 5xx, timeout, unreachable) → retried with the
  outbox's back-off; permanent → failed with the platform's words;
* blocked (wrong key or signature, robot removed from the chat, IP allow-list, a key that
  cannot be decrypted here) → the row stays queued and due, its attempt given back, nothing
  is failed; the run's summary carries **one** message per robot naming the unit or leader and
  the channel (never the key), and e-mail and the other robots go on;
* the owner no longer has that robot (``--robot none``) → failed: there is nowhere to send it.

``[notify] delivery = "console" | "file"`` prints the markdown or writes ``.md`` files
instead of posting (rehearsals never post into a real chat).

Settings, validated like ``[smtp]`` (a wrong value: ConfigError, exit 7)::

    [robots]
    wecom_url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"   # DUBAN_ROBOT_WECOM_URL
    dingtalk_url = "https://oapi.dingtalk.com/robot/send"           # DUBAN_ROBOT_DINGTALK_URL
    feishu_url = "https://open.feishu.cn/open-apis/bot/v2/hook"      # DUBAN_ROBOT_FEISHU_URL
    timeout = 10                                                     # seconds per request
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifiers.email import DeliveryResult
from notifiers.render import RenderError
from notifiers.robot_render import RobotRenderer
from notifiers.robot_sinks import ConsoleRobotSink, FileRobotSink
from notifiers.robots import (
    ENV_VARS,
    KIND_LABELS,
    ROBOT_KINDS,
    RobotEndpoints,
    RobotMessage,
    RobotSettingsError,
    RobotSink,
    RobotTarget,
    build_request,
    endpoints_from,
)
from workflow import secretbox
from workflow.chasing.channels import OWNER
from workflow.config import Config
from workflow.directory.roles import Caller, require_role
from workflow.errors import ConfigError, DeliveryError, InvalidInput
from workflow.outbox.claims import due_clause, record
from workflow.outbox.settings import make_sink, notify_settings
from workflow.storage.db import Database
from workflow.storage.models import Notification, Robot

ROBOTS_KEYS = ("wecom_url", "dingtalk_url", "feishu_url", "timeout")
CHANNELS = ("email", *ROBOT_KINDS)


@dataclass(frozen=True)
class RobotSettings:
    endpoints: RobotEndpoints
    timeout: float = 10.0


def robot_settings(config: Config) -> RobotSettings:
    """``[robots]`` with the ``DUBAN_ROBOT_*_URL`` overrides, validated."""
    table = config.section("robots")
    unknown = sorted(set(table) - set(ROBOTS_KEYS))
    if unknown:
        raise ConfigError(
            f"配置文件 {config.config_file} 的 [robots] 中有未知的设置：{'、'.join(unknown)}"
            f"（可选 {'、'.join(ROBOTS_KEYS)}）"
        )
    for kind in ROBOT_KINDS:
        key, env = f"{kind}_url", ENV_VARS[kind]
        where = f"配置文件 {config.config_file} 的 [robots] {key}"
        value = table.get(key)
        if (config.env.get(env) or "").strip():
            value, where = config.env[env].strip(), f"环境变量 {env}"
        if value is None:
            continue
        try:
            if not isinstance(value, str):
                raise RobotSettingsError("应为文本")
            endpoints_from({}, {key: value})
        except RobotSettingsError as exc:
            raise ConfigError(f"{where} 无效：{exc}，实际为 {value!r}") from None
    timeout = table.get("timeout", 10)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 120:
        raise ConfigError(
            f"配置文件 {config.config_file} 的 [robots] timeout 应为 1 到 120 之间的秒数，"
            f"实际为 {timeout!r}"
        )
    return RobotSettings(endpoints_from(config.env, table), float(timeout))


def robot_renderer(config: Config) -> RobotRenderer:
    override = config.config_dir / "templates"
    return RobotRenderer(override if override.is_dir() else None)


def _owner_label(kind: str, name: str) -> str:
    return f"{KIND_LABELS.get(kind, kind)}「{name}」"


def _fix_hint(owner: str, name: str, kind: str) -> str:
    group = "unit" if owner.startswith("u") else "leader"
    return f"请用 duban {group} edit {name} --robot {kind} 重新设置"


def load_targets(
    session: Session, config: Config, wanted: Iterable[tuple[str, str]], names: dict[str, str]
) -> dict[tuple[str, str], RobotTarget | str]:
    """(owner, kind) → its target, or why it cannot be used (a blocked reason). Missing
    pairs (the robot was removed) are absent."""
    wanted = set(wanted)
    owners = {o for o, _ in wanted}
    out: dict[tuple[str, str], RobotTarget | str] = {}
    if not owners:
        return out
    rows = session.execute(sa.select(Robot).where(Robot.owner.in_(owners))).scalars()  # type: ignore[attr-defined]
    for robot in rows:
        pair = (robot.owner, robot.kind)
        if pair not in wanted:
            continue
        name = names.get(robot.owner, robot.owner)
        try:
            token = secretbox.decrypt(config, robot.token)
            secret = secretbox.decrypt(config, robot.secret) if robot.secret else None
            out[pair] = RobotTarget(
                robot.kind,  # type: ignore[arg-type]
                token,
                secret,
                mention_mobiles=tuple(robot.mention_mobiles or ()),
                name=name,
            )
        except (ConfigError, RobotSettingsError) as exc:
            out[pair] = f"{_owner_label(robot.kind, name)}：{exc}"
    return out


class RobotDelivery:
    """Sends a chunk's robot rows and records each result through the delivery's recorder."""

    def __init__(self, db: Database, config: Config, now: datetime, sink=None) -> None:
        self.db, self.config, self.now = db, config, now
        settings = robot_settings(config)  # a wrong [robots] stops the run before any claim
        notify = notify_settings(config)
        if sink is None:
            if notify.delivery == "console":
                sink = ConsoleRobotSink()
            elif notify.delivery == "file":
                assert notify.directory is not None
                sink = FileRobotSink(notify.directory)
            else:
                sink = RobotSink(settings.endpoints, now=lambda: now, timeout=settings.timeout)
        self.sink = sink
        self.render = robot_renderer(config)

    def deliver(self, rows: list[Notification], recorder, contexts=None) -> None:
        """``contexts``: the rows' refreshed render contexts (see ``delivery._Run.contexts``)."""
        from sqlmodel import Session as SQLModelSession

        from workflow.chasing.check import render_context

        names = {str((r.context or {}).get(OWNER)): r.recipient_name for r in rows}
        pairs = {(str((r.context or {}).get(OWNER)), r.channel) for r in rows}
        with SQLModelSession(self.db.engine) as session:
            targets = load_targets(session, self.config, pairs, names)
        self.where: dict[str, tuple[str, str, str]] = {}  # key -> (owner, name, kind)
        messages: list[RobotMessage] = []
        for row in rows:
            owner = str((row.context or {}).get(OWNER))
            self.where[row.key] = (owner, row.recipient_name, row.channel)
            target = targets.get((owner, row.channel))
            label = _owner_label(row.channel, row.recipient_name)
            if target is None:
                recorder.failed(row, f"{label}：该群机器人已删除，通知未发送")
            elif isinstance(target, str):
                self.blocked(recorder, row, target)
            else:
                fresh = (contexts or {}).get(row.key)
                if isinstance(fresh, dict):
                    context = {k: v for k, v in fresh.items() if k != OWNER}
                else:
                    raw = {k: v for k, v in (row.context or {}).items() if k != OWNER}
                    context = render_context(raw)
                try:
                    messages.append(self.render.message(row.key, target, row.kind, context))
                except RenderError as exc:
                    recorder.failed(row, f"{label}：无法生成消息：{exc}")
        if messages:
            self.sink.deliver(messages, lambda result: self.result(recorder, result))

    def result(self, recorder, result: DeliveryResult) -> None:
        row = recorder.claimed.rows[result.key]
        if result.status == "sent":
            values = {
                "state": "sent",
                "sent_at": self.now,
                "next_attempt_at": None,
                "last_error": None,
            }
            self._record(recorder, row, values, "sent", None)
        elif result.status == "temporary":
            recorder.temporary(row, result.error or "暂时无法发送")
        elif result.status == "blocked":
            self.blocked(recorder, row, result.error or "群机器人设置有误")
        else:
            recorder.failed(row, result.error or "发送失败")

    def blocked(self, recorder, row: Notification, error: str) -> None:
        """Settings, not the row: keep it queued and due (no attempt used), and keep one
        message per robot for the summary."""
        values = {
            "last_error": error,
            # due from the next run on (not this one's next chunk); a whole second: no claim
            "next_attempt_at": self.now.replace(microsecond=0) + timedelta(seconds=1),
        }
        owner, name, kind = self.where.get(row.key, (str(row.context.get(OWNER)), "", row.channel))
        summary = recorder.summary
        ident = f"{owner}#{kind}"
        if ident not in summary.robot_blocked:
            summary.robot_blocked[ident] = (
                f"{error.split('（本批未再发送）')[0]}；{_fix_hint(owner, name, kind)}"
            )
        self._record(recorder, row, values, "robot_held", error)

    def _record(self, recorder, row, values: dict[str, Any], status: str, error) -> None:
        summary = recorder.summary
        if not record(recorder.writer, recorder.claimed, row, values):
            summary.skipped += 1
            recorder._note(row, "skipped", "已由其他发送进程接手")
        elif status == "sent":
            summary.sent += 1
        else:
            summary.robot_held += 1
        recorder.keep_claim()
        recorder.tick()


class _NoMail:
    """The mail sink of an office without ``[smtp]`` while only robot rows are due: a mail
    that turns up meanwhile is held as a settings error (queued, nothing failed)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def deliver(self, messages, on_result=None) -> list[DeliveryResult]:
        results = [DeliveryResult(m.key, "blocked", self.reason) for m in messages]
        for result in results:
            if on_result is not None:
                on_result(result)
        return results


def mail_sink(db: Database, config: Config, now: datetime):
    """:func:`make_sink`, except that an office with no ``[smtp]`` at all still delivers its
    robot rows when no mail is due (a wrong ``[smtp]`` is refused as before)."""
    try:
        return make_sink(config, now=lambda: now)
    except ConfigError as exc:
        configured = config.section("smtp") or (config.env.get("DUBAN_SMTP_HOST") or "").strip()
        if configured:
            raise
        n = Notification.__table__
        with db.engine.connect() as conn:
            due = dict(
                conn.execute(
                    sa.select(n.c.channel, sa.func.count())
                    .where(due_clause(now))
                    .group_by(n.c.channel)
                ).all()
            )
        if due.get("email") or not due:
            raise
        return _NoMail(exc.message)


# ---------------------------------------------------------------- duban notify test-robot


def send_test_robots(
    session: Session, caller: Caller, config: Config, name: str, now: datetime, sink=None
) -> list[dict[str, Any]]:
    """Post the ``test`` message to every robot of the unit (or leader) ``name``, now, over
    HTTP whatever ``[notify] delivery`` says. Returns one result per robot; raises
    DeliveryError naming each robot that failed (never its key)."""
    from workflow.chasing.policy import load_policy
    from workflow.dates.clock import local_date
    from workflow.directory.robots import owner_of

    require_role(caller, "office", "发送群机器人测试消息")
    owner, display = owner_of(session, name)
    kinds = list(
        session.execute(
            sa.select(Robot.kind).where(Robot.owner == owner).order_by(Robot.kind)
        ).scalars()
    )
    if not kinds:
        group = "unit" if owner.startswith("u") else "leader"
        raise InvalidInput(
            f"“{display}”没有设置群机器人（用 duban {group} edit {display} --robot wecom 设置）"
        )
    settings = robot_settings(config)
    targets = load_targets(session, config, [(owner, k) for k in kinds], {owner: display})
    renderer = robot_renderer(config)
    from workflow.outbox.contact import server_url

    context = {
        "office": load_policy(config).office_name,
        "as_of": local_date(now),
        "server_url": server_url(config),  # the post links to the server (issue 29)
    }
    results: list[dict[str, Any]] = []
    messages = []
    for kind in kinds:
        target = targets[(owner, kind)]
        if isinstance(target, str):
            results.append({"kind": kind, "status": "blocked", "error": target})
            continue
        try:
            ctx = {**context, "host": KIND_LABELS[kind]}  # the mail's "server" field
            messages.append(renderer.message(f"test:{owner}:{kind}", target, "test", ctx))
        except RenderError as exc:
            raise ConfigError(f"测试消息模板有误：{exc}") from None
    sink = sink or RobotSink(settings.endpoints, now=lambda: now, timeout=settings.timeout)
    for message, result in zip(messages, sink.deliver(messages), strict=True):
        results.append(
            {"kind": message.target.kind, "status": result.status, "error": result.error}
        )
    results.sort(key=lambda r: r["kind"])
    for r in results:
        r["robot"] = _owner_label(r["kind"], display)
    failed = [r for r in results if r["status"] != "sent"]
    if failed:
        sent = len(results) - len(failed)
        raise DeliveryError(
            "群机器人测试消息发送失败："
            + "；".join(r["error"] or r["robot"] for r in failed)
            + (f"（另有 {sent} 个已发送）" if sent else "")
        )
    return results


# ---------------------------------------------------------------- duban notify preview --channel


def preview_robot(
    config: Config, kind: str, channel: str, context: dict[str, Any], mentions: Iterable[str] = ()
) -> dict[str, Any]:
    """The markdown a robot would post for this context: the template rendered, then the
    platform's size limit applied (what is cut is cut here too). No request is made."""
    if channel not in ROBOT_KINDS:
        raise InvalidInput(f"--channel 只能是 {' / '.join(CHANNELS)}，实际为 {channel!r}")
    try:
        rendered = robot_renderer(config).render(kind, context)
    except RenderError as exc:
        raise ConfigError(f"群机器人模板无法渲染：{exc}") from None
    target = RobotTarget(channel, "preview", None, tuple(mentions))  # type: ignore[arg-type]
    message = RobotMessage("preview", target, rendered.title, rendered.text, rendered.total)
    request = build_request(message, robot_settings(config).endpoints)
    import json

    body = json.loads(request.body)
    if channel == "wecom":
        text = body["markdown"]["content"]
    elif channel == "dingtalk":
        text = body["markdown"]["text"]
    else:
        text = body["card"]["elements"][0]["content"]
    return {
        "channel": channel,
        "title": rendered.title,
        "markdown": text,
        "bytes": len(request.body),
        "truncated": request.truncated,
    }

"""Group robots of units and leaders: setting, replacing and removing them.

A unit (owner ``u<id>``) or a leader (``p<id>``) may have one robot of each kind: 企业微信
(``wecom``: the webhook's ``key``), 钉钉 (``dingtalk``: ``access_token`` plus an optional
加签 secret ``SEC…``), 飞书 (``feishu``: the hook id plus an optional 签名校验 secret). The key
may be given bare or as the whole webhook address copied from the chat's robot settings.
Keys and secrets are encrypted at rest (:mod:`workflow.secretbox`) and never shown: views say
"已设置" and the kind. ``mention_mobiles`` are a unit contact's mobiles, @-mentioned where the
platform allows it (钉钉 markdown; 企业微信 and 飞书 markdown mention user ids only).

Secrets never come from a command line: the CLI asks for them without echo, or reads them
from standard input (see ``cli/units.py``).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from sqlmodel import select

from notifiers.robots import KIND_LABELS, ROBOT_KINDS, RobotSettingsError, RobotTarget
from workflow import secretbox
from workflow.config import Config
from workflow.directory.history import write_history
from workflow.directory.roles import Caller, require_role
from workflow.directory.units import (
    _check_emails,
    edit_unit,
    resolve_leader,
    robot_views,
)
from workflow.errors import InvalidInput, NotFound
from workflow.storage.models import Person, Robot, Unit

_MOBILE = re.compile(r"^\+?\d{5,15}$")


@dataclass(frozen=True)
class RobotChange:
    """What to change: set ``kind`` (with ``token`` and optional ``secret``), remove kinds
    (``remove``; ``("all",)`` removes every robot), and/or set the @mention mobiles of every
    robot of the owner (``mentions``: None leaves them, ``()`` clears them)."""

    kind: str | None = None
    token: str | None = None
    secret: str | None = None
    remove: tuple[str, ...] = ()
    mentions: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # never the token or secret
        return (
            f"RobotChange(kind={self.kind!r}, remove={self.remove!r}, mentions={self.mentions!r})"
        )

    __str__ = __repr__

    @property
    def empty(self) -> bool:
        return self.kind is None and not self.remove and self.mentions is None


def check_kind(kind: str, what: str = "--robot") -> str:
    kind = (kind or "").strip().lower()
    if kind not in ROBOT_KINDS:
        raise InvalidInput(f"{what} 只能是 wecom、dingtalk、feishu 或 none，实际为 {kind!r}")
    return kind


def robot_change(
    robot: str | None = None,
    token: str | None = None,
    secret: str | None = None,
    remove: list[str] | None = None,
    mentions: list[str] | None = None,
) -> RobotChange:
    """The :class:`RobotChange` a door's plain values ask for: ``robot`` a kind to set (with
    ``token`` and an optional ``secret``), ``"none"`` to remove every robot, or None; ``remove``
    kinds to remove; ``mentions`` the @mention mobiles (None leaves them, ``[]`` clears them)."""
    kind = None if robot is None else robot.strip().lower()
    if kind is not None and kind != "none":
        kind = check_kind(kind)
    removing = []
    for value in remove or []:
        value = value.strip().lower()
        if value not in ROBOT_KINDS:
            raise InvalidInput(f"--remove-robot 只能是 {'、'.join(ROBOT_KINDS)}，实际为 {value!r}")
        removing.append(value)
    if secret and kind in (None, "none", "wecom"):
        raise InvalidInput("--robot-secret 只能与 --robot dingtalk 或 --robot feishu 一起使用")
    wanted = None if mentions is None else tuple(mentions)
    if kind is None or kind == "none":
        if token:
            raise InvalidInput("给出了群机器人 key，但没有用 --robot 指明是哪一种机器人")
        return RobotChange(remove=("all",) if kind == "none" else tuple(removing), mentions=wanted)
    if not (token or "").strip():
        raise InvalidInput(f"缺少{KIND_LABELS[kind]}的 key/token")
    return RobotChange(
        kind=kind, token=token, secret=secret, remove=tuple(removing), mentions=wanted
    )


def parse_token(kind: str, text: str) -> str:
    """The key/token/hook id from ``text``: bare, or inside a pasted webhook address."""
    text = (text or "").strip()
    if "://" not in text:
        return text
    parts = urllib.parse.urlsplit(text)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if kind == "wecom" and query.get("key"):
        return query["key"]
    if kind == "dingtalk" and query.get("access_token"):
        return query["access_token"]
    if kind == "feishu" and "/hook/" in parts.path:
        return parts.path.rstrip("/").rsplit("/", 1)[1]
    raise InvalidInput(
        f"无法从粘贴的地址中找到{KIND_LABELS[kind]}的 key/token：请粘贴机器人设置中的 webhook 地址，"
        "或只粘贴其中的 key/token"
    )


def check_mobiles(mobiles: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for m in mobiles:
        m = m.strip()
        if not _MOBILE.match(m):
            raise InvalidInput(f"@提醒的手机号无效：“{m}”（应为数字，如 13800138000）")
        out.append(m)
    return tuple(dict.fromkeys(out))


def apply_robot_change(
    session: Session,
    config: Config,
    owner: str,
    name: str,
    change: RobotChange,
    caller: Caller,
    now: datetime,
) -> list[dict]:
    """Apply ``change`` to ``owner``'s robots; history records kinds and fingerprints only."""
    rows = {r.kind: r for r in session.exec(select(Robot).where(Robot.owner == owner)).all()}
    logged: dict = {}
    removing = set(ROBOT_KINDS) if "all" in change.remove else set(change.remove)
    for kind in sorted(removing):
        if kind in rows:
            session.delete(rows.pop(kind))
            logged.setdefault("removed", []).append(kind)
    if change.kind is not None:
        kind = check_kind(change.kind)
        token = parse_token(kind, change.token or "")
        secret = (change.secret or "").strip() or None
        try:
            RobotTarget(kind, token, secret)  # type: ignore[arg-type]
        except RobotSettingsError as exc:
            raise InvalidInput(str(exc)) from None
        row = rows.get(kind) or Robot(owner=owner, kind=kind, token="", fingerprint="")
        row.token = secretbox.encrypt(config, token)
        row.secret = secretbox.encrypt(config, secret) if secret else None
        row.fingerprint = secretbox.fingerprint(token)
        row.updated_at = now
        rows[kind] = row
        session.add(row)
        logged["set"] = {"kind": kind, "fingerprint": row.fingerprint, "signed": bool(secret)}
    if change.mentions is not None:
        mobiles = list(check_mobiles(change.mentions))
        if not rows:
            raise InvalidInput(f"“{name}”没有设置群机器人，无法设置 @提醒的手机号")
        for row in rows.values():
            row.mention_mobiles = mobiles
            session.add(row)
        logged["mentions"] = mobiles
    session.flush()
    write_history(
        session,
        caller,
        "robot.edit",
        now,
        entity="unit" if owner.startswith("u") else "person",
        data={"owner": name, **logged},
    )
    return robot_views(session, owner)


def edit_unit_and_robots(
    session: Session,
    caller: Caller,
    config: Config,
    name: str,
    now: datetime,
    robots: RobotChange | None = None,
    **edit: object,
) -> Unit:
    """``duban unit edit``: the directory fields (:func:`edit_unit`) and the unit's robots."""
    unit = edit_unit(session, caller, name, now, **edit)  # type: ignore[arg-type]
    if robots is not None and not robots.empty:
        apply_robot_change(session, config, f"u{unit.id}", unit.name, robots, caller, now)
    return unit


def edit_leader(
    session: Session,
    caller: Caller,
    config: Config,
    name: str,
    now: datetime,
    *,
    email: str | None = None,
    title: str | None = None,
    robots: RobotChange | None = None,
) -> Person:
    """``duban leader edit``: e-mail ("" clears it), title and the leader's robots."""
    require_role(caller, "office", "管理领导名录")
    person = resolve_leader(session, name)
    before = {"email": person.email, "title": person.title}
    if email is not None:
        person.email = _check_emails([email.strip()])[0] if email.strip() else None
    if title is not None:
        person.title = title.strip() or None
    session.add(person)
    session.flush()
    if before != {"email": person.email, "title": person.title}:
        write_history(
            session,
            caller,
            "leader.edit",
            now,
            entity="person",
            data={
                "name": person.name,
                "before": before,
                "after": {"email": person.email, "title": person.title},
            },
        )
    if robots is not None and not robots.empty:
        apply_robot_change(session, config, f"p{person.id}", person.name, robots, caller, now)
    return person


def owner_of(session: Session, name: str) -> tuple[str, str]:
    """(owner, display name) for a unit name (or alias), else a leader's name."""
    from workflow.directory.units import all_units, resolve_in, unknown_unit_message

    units = all_units(session)
    found = resolve_in(units, name)
    if found is not None:
        return f"u{found.unit.id}", found.unit.name
    person = session.exec(select(Person).where(Person.name == name.strip())).first()
    if person is not None:
        return f"p{person.id}", person.name
    raise NotFound(unknown_unit_message(units, name) + "（也不是领导名录中的姓名）")

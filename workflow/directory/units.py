"""The unit directory: names, aliases, groups, contacts and leaders.

A name written in a ledger resolves to a unit by, in order: the exact name, an alias, or the
normalized form (whitespace and brackets unified, a leading 局/委/厅/市 dropped, so "局政法科"
finds "政法科") — the whole name first, bracket included; only when that is unknown is a trailing
bracket another name ("海域处（审批处）", :func:`resolve_in`). A group name ("委机关各科室",
"各乡镇（街道）") expands to the units that list it in ``groups``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.directory.history import write_history
from workflow.directory.roles import Caller, require_role
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.storage.models import Person, Robot, Unit

_PREFIXES = ("局", "委", "厅", "市")
_BRACKET = re.compile(r"^(?P<name>[^（(]+)[（(](?P<alias>[^）)]+)[）)]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Resolution:
    unit: Unit
    how: str  # exact | alias | normalized


def clean(name: str) -> str:
    """Unify whitespace and bracket widths."""
    return re.sub(r"\s+", "", name or "").replace("(", "（").replace(")", "）")


def normalize(name: str) -> str:
    """The comparison key: cleaned, leading 局/委/厅/市 dropped (once)."""
    key = clean(name)
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix) + 1:
            return key[len(prefix) :]
    return key


def split_alias(text: str) -> tuple[str, list[str]]:
    """``"海域处（审批处）"`` → ``("海域处", ["审批处"])``."""
    text = clean(text)
    match = _BRACKET.match(text)
    if match:
        return match.group("name"), [match.group("alias")]
    return text, []


def all_units(session: Session, include_inactive: bool = False) -> list[Unit]:
    query = select(Unit).order_by(Unit.id)
    if not include_inactive:
        query = query.where(Unit.active == True)  # noqa: E712
    return list(session.exec(query).all())


def resolve_in(units: list[Unit], name: str, *, parts: bool = True) -> Resolution | None:
    """Resolve ``name`` among ``units``: exact, then alias, then normalized.

    The whole name comes first, brackets and all (full- or half-width alike): a unit whose real
    name holds a bracket ("市政务服务数据管理局（市大数据中心）") is found as written. Only when the
    whole is unknown, and ``parts`` is true, is a trailing bracket read as another name: the name
    before it, then the one inside ("海域处（审批处）" finds 海域处, or a unit known as 审批处)."""
    found = _resolve_whole(units, name)
    if found is not None or not parts:
        return found
    base, aliases = split_alias(name)
    for part in (base, *aliases) if aliases else ():
        found = _resolve_whole(units, part)
        if found is not None:
            return found
    return None


def _resolve_whole(units: list[Unit], name: str) -> Resolution | None:
    wanted = clean(name)
    for unit in units:
        if unit.name == wanted:
            return Resolution(unit, "exact")
    for unit in units:
        if wanted in (clean(a) for a in unit.aliases):
            return Resolution(unit, "alias")
    key = normalize(wanted)
    for unit in units:
        if key in {normalize(unit.name), *(normalize(a) for a in unit.aliases)}:
            return Resolution(unit, "normalized")
    return None


def closest_names(units: list[Unit], name: str, n: int = 3) -> list[str]:
    names = [u.name for u in units] + [a for u in units for a in u.aliases]
    return difflib.get_close_matches(clean(name), names, n=n, cutoff=0.3)


def unknown_unit_message(units: list[Unit], name: str) -> str:
    close = closest_names(units, name)
    hint = f"，最接近的是：{'、'.join(close)}" if close else "，请先用 duban unit add 添加"
    return f"单位“{name}”不在单位名录中{hint}"


def resolve_unit(session: Session, name: str) -> Unit:
    """The unit called ``name`` (or its alias/normalized form), else NotFound with suggestions."""
    units = all_units(session)
    found = resolve_in(units, name)
    if found is None:
        raise NotFound(unknown_unit_message(units, name))
    return found.unit


def group_members(session: Session, group: str) -> list[Unit]:
    """Units that belong to ``group`` (e.g. 委属各单位), in directory order."""
    key = clean(group)
    return [u for u in all_units(session) if key in (clean(g) for g in u.groups)]


def known_groups(session: Session) -> set[str]:
    return {clean(g) for u in all_units(session) for g in u.groups}


def _check_emails(emails: list[str]) -> list[str]:
    for email in emails:
        if not _EMAIL.match(email):
            raise InvalidInput(f"邮箱地址无效：“{email}”")
    return emails


def _log(
    session: Session, caller: Caller, action: str, unit: Unit, now: datetime, data: dict
) -> None:
    write_history(session, caller, action, now, entity="unit", data={"unit": unit.name, **data})


def _taken_by(session: Session, name: str) -> str | None:
    """The unit (active or not) named ``name``, else the first (by id) that has it as an alias:
    its name. An index look-up for the name, then only the units that have aliases, as plain
    rows: the cost does not grow with the directory's ORM objects (1,000 units: 55 ms an add)."""
    wanted = clean(name)
    u = Unit.__table__.c
    exact = session.execute(sa.select(u.name).where(u.name == wanted)).scalar()
    if exact is not None:
        return exact
    with_aliases = session.execute(
        sa.select(u.name, u.aliases).where(sa.cast(u.aliases, sa.Text) != "[]").order_by(u.id)
    )
    for unit_name, aliases in with_aliases:
        if wanted in (clean(a) for a in aliases or ()):
            return unit_name
    return None


def add_unit(
    session: Session,
    caller: Caller,
    name: str,
    now: datetime,
    aliases: list[str] | None = None,
    groups: list[str] | None = None,
    emails: list[str] | None = None,
    leader: str | None = None,
) -> Unit:
    require_role(caller, "office", "管理单位名录")
    base, bracket_aliases = split_alias(name)
    if not base:
        raise InvalidInput("单位名称不能为空")
    existing = _taken_by(session, base)
    if existing is not None:
        raise Conflict(f"单位“{base}”已存在（{existing}）")
    unit = Unit(
        name=base,
        aliases=sorted({clean(a) for a in [*bracket_aliases, *(aliases or [])] if a}),
        groups=sorted({clean(g) for g in groups or [] if g}),
        emails=_check_emails(list(dict.fromkeys(emails or []))),
        leader_id=resolve_leader(session, leader).id if leader else None,
    )
    session.add(unit)
    session.flush()
    _log(session, caller, "unit.add", unit, now, {})
    return unit


def edit_unit(
    session: Session,
    caller: Caller,
    name: str,
    now: datetime,
    *,
    add_aliases: list[str] = (),
    remove_aliases: list[str] = (),
    add_groups: list[str] = (),
    remove_groups: list[str] = (),
    add_emails: list[str] = (),
    remove_emails: list[str] = (),
    leader: str | None = None,
    rename: str | None = None,
    active: bool | None = None,
) -> Unit:
    require_role(caller, "office", "管理单位名录")
    try:
        unit = resolve_unit(session, name)
    except NotFound:  # a deactivated unit, by its exact name or alias: edited, re-activated
        found = resolve_in(all_units(session, include_inactive=True), name, parts=False)
        if found is None:
            raise
        unit = found.unit
    before = unit_view(session, unit)
    for value in [*remove_aliases, *remove_groups, *remove_emails]:
        if value not in [*unit.aliases, *unit.groups, *unit.emails]:
            raise NotFound(f"单位“{unit.name}”没有“{value}”这一项，无法删除")
    unit.aliases = sorted(
        {*(clean(a) for a in unit.aliases), *(clean(a) for a in add_aliases)} - set(remove_aliases)
    )
    unit.groups = sorted({*unit.groups, *(clean(g) for g in add_groups)} - set(remove_groups))
    emails = [e for e in unit.emails if e not in remove_emails]
    unit.emails = _check_emails(list(dict.fromkeys([*emails, *add_emails])))
    if leader is not None:
        unit.leader_id = resolve_leader(session, leader).id if leader else None
    if rename:
        others = [u for u in all_units(session, True) if u.id != unit.id]
        if resolve_in(others, rename, parts=False):
            raise Conflict(f"单位“{rename}”已存在")
        unit.name = clean(rename)
    if active is not None:
        unit.active = active
    session.add(unit)
    session.flush()
    _log(
        session,
        caller,
        "unit.edit",
        unit,
        now,
        {"before": before, "after": unit_view(session, unit)},
    )
    return unit


def unit_view(session: Session, unit: Unit) -> dict:
    leader = session.get(Person, unit.leader_id) if unit.leader_id else None
    return {
        "id": unit.id,
        "name": unit.name,
        "aliases": list(unit.aliases),
        "groups": list(unit.groups),
        "emails": list(unit.emails),
        "leader": leader.name if leader else None,
        "active": unit.active,
        "robots": robot_views(session, f"u{unit.id}"),
    }


ROBOT_LABELS = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}


def robot_views(session: Session, owner: str) -> list[dict]:
    """An owner's group robots as shown to the office: kind and whether a key / signing
    secret is set, never the key or secret themselves."""
    rows = session.exec(select(Robot).where(Robot.owner == owner).order_by(Robot.kind)).all()
    return [
        {
            "kind": r.kind,
            "label": ROBOT_LABELS.get(r.kind, r.kind),
            "key": "已设置",
            "secret": "已设置" if r.secret else None,
            "fingerprint": r.fingerprint,
            "mention_mobiles": list(r.mention_mobiles or []),
        }
        for r in rows
    ]


def list_units(session: Session) -> list[dict]:
    return [unit_view(session, u) for u in all_units(session, include_inactive=True)]


# -- leaders ------------------------------------------------------------------------------------
def resolve_leader(session: Session, name: str) -> Person:
    person = session.exec(select(Person).where(Person.name == clean(name))).first()
    if person is None:
        names = [p.name for p in session.exec(select(Person)).all()]
        close = difflib.get_close_matches(clean(name), names, n=3, cutoff=0.3)
        hint = f"，最接近的是：{'、'.join(close)}" if close else "，请先用 duban leader add 添加"
        raise NotFound(f"领导“{name}”不在名录中{hint}")
    return person


def add_leader(
    session: Session,
    caller: Caller,
    name: str,
    now: datetime,
    email: str | None = None,
    title: str | None = None,
    principal: bool = False,
) -> Person:
    require_role(caller, "office", "管理领导名录")
    name = clean(name)
    if not name:
        raise InvalidInput("领导姓名不能为空")
    if session.exec(select(Person).where(Person.name == name)).first():
        raise Conflict(f"领导“{name}”已存在")
    if email:
        _check_emails([email])
    person = Person(name=name, email=email, title=title, principal=principal)
    session.add(person)
    session.flush()
    write_history(session, caller, "leader.add", now, entity="person", data={"name": name})
    return person


def leader_view(session: Session, p: Person) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "title": p.title,
        "principal": p.principal,
        "robots": robot_views(session, f"p{p.id}"),
    }


def list_leaders(session: Session) -> list[dict]:
    rows = session.exec(select(Person).order_by(Person.id)).all()
    return [leader_view(session, p) for p in rows]


def principal_leaders(session: Session) -> list[Person]:
    return list(session.exec(select(Person).where(Person.principal == True)).all())  # noqa: E712

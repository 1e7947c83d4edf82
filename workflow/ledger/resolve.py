"""Resolving the unit names of a ledger against the unit directory.

For each name written in a unit cell, in order:

1. the name as written, brackets and all (full- or half-width alike): a group written exactly as
   a directory group ("各乡镇（街道）", "委机关各科室") expands to its members; else a unit by that
   exact name, alias or normalized form ("市政务服务数据管理局（市大数据中心）",
   :func:`workflow.directory.units.resolve_in`); else a group by its normalized form;
2. only when the whole is unknown is a trailing bracket a note or another name
   (:mod:`workflow.ledger.units_cell` splits it off): a group named as the part before it, a unit
   by that part ("海域处（审批处）" → 海域处), by the bracketed alias (→ a unit known as 审批处), a
   group by its normalized form ("局各科室" → "各科室") when that is unambiguous.

Anything else is an error listing the closest known names, or, with ``create_units``, a new unit
named as written. One task lists each unit once, with its strongest role (lead > responsible >
cooperating).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from workflow.directory.roles import Caller
from workflow.directory.units import (
    add_unit,
    all_units,
    clean,
    normalize,
    resolve_in,
)
from workflow.ledger.parsed import ParsedTask
from workflow.ledger.readers.document import ledger_error
from workflow.ledger.units_cell import UnitMention
from workflow.storage.models import Unit

ROLE_RANK = {"lead": 0, "responsible": 1, "cooperating": 2}
HOW_LABELS = {
    "exact": "名称一致",
    "alias": "别名",
    "normalized": "规范化匹配",
    "group": "单位组",
    "created": "新建",
}


@dataclass
class ResolvedUnit:
    unit: Unit
    role: str
    how: str  # exact | alias | normalized | group | created
    written: str  # as written in the cell, role word included ("办公室主办")
    mentioned: str  # the name in it ("办公室")
    group: str | None = None  # the group it came from

    def explain(self) -> str:
        if self.how == "group":
            return f"属于“{self.group}”"
        label = HOW_LABELS[self.how]
        return label if self.mentioned == self.unit.name else f"{label}：{self.mentioned}"


Hits = list[tuple[Unit, str, str | None, str]]  # (unit, how, group, the name that matched)


def _members(found: tuple[str, list[Unit]], name: str) -> Hits:
    group, units = found
    return [(u, "group", group, name) for u in units]


@dataclass
class _Unknown:
    task: ParsedTask
    mention: UnitMention
    column: int


class UnitResolver:
    """Resolves mentions for one import; creates units (``create_units``) in the session."""

    def __init__(
        self, session: Session, caller: Caller, now: datetime, create_units: bool = False
    ) -> None:
        self.session = session
        self.caller = caller
        self.now = now
        self.create_units = create_units
        self.units = all_units(session)
        self.created: list[Unit] = []
        self._group_index: dict[str, list[Unit]] | None = None
        self._lookups: dict[tuple[str, tuple[str, ...]], Hits | None] = {}

    # -- lookups ----------------------------------------------------------------------------
    def _groups(self) -> dict[str, list[Unit]]:
        if self._group_index is None:
            groups: dict[str, list[Unit]] = {}
            for unit in self.units:
                for group in unit.groups:
                    groups.setdefault(clean(group), []).append(unit)
            self._group_index = groups
        return self._group_index

    def _group(self, name: str, normalized: bool) -> tuple[str, list[Unit]] | None:
        groups = self._groups()
        key = clean(name)
        if key in groups:
            return key, groups[key]
        if normalized:
            matches = [g for g in groups if normalize(g) == normalize(key)]
            if len(matches) == 1:
                return matches[0], groups[matches[0]]
        return None

    def lookup(self, mention: UnitMention) -> Hits | None:
        """[(unit, how, group, the name that matched)] for a mention, or None when nothing in
        the directory matches."""
        key = (mention.name, mention.aliases)
        if key not in self._lookups:
            self._lookups[key] = self._lookup(mention)
        return self._lookups[key]

    def _lookup(self, mention: UnitMention) -> Hits | None:
        if mention.aliases:  # the whole first: "各乡镇（街道）" may be a group's own name
            hits = self._whole(mention.full)
            if hits is not None:
                return hits
        # the whole is unknown (or has no bracket): the bracket is a note or another name
        found = self._group(mention.name, normalized=False)
        if found:
            return _members(found, mention.name)
        for name in (mention.name, *mention.aliases):
            hit = resolve_in(self.units, name, parts=False)
            if hit is not None:
                return [(hit.unit, hit.how, None, name)]
        found = self._group(mention.name, normalized=True)
        if found:
            return _members(found, mention.name)
        return None if mention.aliases else self._glued(mention.name)

    def _glued(self, name: str) -> Hits | None:
        """Two names written without a separator ("委机关处室省属医疗卫生单位"): split where both
        halves are known groups or units; None unless exactly one cut works."""
        cuts = []
        for i in range(2, len(name) - 1):
            left, right = self._whole(name[:i]), self._whole(name[i:])
            if left is not None and right is not None:
                cuts.append(left + right)
        return cuts[0] if len(cuts) == 1 else None

    def closest(self, name: str, n: int = 3) -> list[str]:
        """The directory's names (units, aliases, groups) closest to ``name``."""
        names = [u.name for u in self.units] + [a for u in self.units for a in u.aliases]
        names += [g for g in self._groups() if g not in names]
        return difflib.get_close_matches(clean(name), names, n=n, cutoff=0.3)

    def _whole(self, name: str) -> Hits | None:
        """A name with its bracket: a group, a unit, a group by its normalized form."""
        found = self._group(name, normalized=False)
        if found:
            return _members(found, name)
        hit = resolve_in(self.units, name, parts=False)
        if hit is not None:
            return [(hit.unit, hit.how, None, name)]
        found = self._group(name, normalized=True)
        return _members(found, name) if found else None

    def _create(self, mention: UnitMention) -> Unit:
        unit = add_unit(
            self.session, self.caller, mention.name, self.now, aliases=list(mention.aliases)
        )
        self.units.append(unit)
        self.created.append(unit)
        self._group_index = None
        self._lookups.clear()
        return unit

    # -- tasks --------------------------------------------------------------------------------
    def resolve_task(self, task: ParsedTask, unknown: list[_Unknown]) -> list[ResolvedUnit]:
        best: dict[int, ResolvedUnit] = {}
        for mention, column in task.units:
            hits = self.lookup(mention)
            if hits is None:
                if not self.create_units:
                    unknown.append(_Unknown(task, mention, column))
                    continue
                hits = [(self._create(mention), "created", None, mention.name)]
            for unit, how, group, mentioned in hits:
                candidate = ResolvedUnit(unit, mention.role, how, mention.written, mentioned, group)
                current = best.get(unit.id)
                if current is None or ROLE_RANK[mention.role] < ROLE_RANK[current.role]:
                    best[unit.id] = candidate
        return sorted(best.values(), key=lambda r: (ROLE_RANK[r.role], _order(task, r)))

    def resolve_all(self, tasks: list[ParsedTask], path: Path) -> list[list[ResolvedUnit]]:
        """Resolved units per task; the first unknown name is an error naming its cell."""
        unknown: list[_Unknown] = []
        resolved = [self.resolve_task(t, unknown) for t in tasks]
        if unknown:
            first = unknown[0]
            names = list(dict.fromkeys(u.mention.full for u in unknown))
            close = self.closest(first.mention.full)
            hint = f"，最接近的是：{'、'.join(close)}" if close else ""
            more = (
                f"（共 {len(names)} 个未知单位：{'、'.join(names[:8])}{'…' if len(names) > 8 else ''}）"
                if len(names) > 1
                else ""
            )
            raise ledger_error(
                path,
                first.task.where(column=first.column),
                f"单位“{first.mention.full}”不在单位名录中{hint}{more}；"
                "可用 duban unit add / duban unit edit --alias 补充名录，或加 --create-units 自动新建",
            )
        return resolved


def _order(task: ParsedTask, resolved: ResolvedUnit) -> int:
    """Units keep the order they were written in."""
    for index, (mention, _) in enumerate(task.units):
        if mention.written == resolved.written:
            return index
    return len(task.units)

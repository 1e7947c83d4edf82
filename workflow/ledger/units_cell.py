"""Splitting a unit cell into unit names with roles. Pure: no directory, no database.

* separators: 、，,;；/ and line breaks (not inside brackets); "/" or an empty cell means none;
* a role word at the end of a name applies to it and to the names before it in the same clause:
  "局宣教科、办公室主办,各科室协办" → 宣教科 and 办公室 lead, 各科室 cooperating;
  "局防控办主办、各工作组协办" → 防控办 lead, 各工作组 cooperating;
* a label in front sets the role of its clause: "牵头单位：办公室；配合单位：财务科";
* a bracket holding a role word sets the role ("办公室（牵头）"); any other bracket is an alias
  ("海域处（审批处）" → 海域处, alias 审批处);
* names without a role word take the column's role (牵头单位 → lead, 责任单位 → responsible…);
* spaces between two names of two characters or more separate them ("办公室 财务科"); other
  spaces are dropped ("局 办公室", "办 公 室");
* a trailing "等" ("财务科等", "财务科等单位") is dropped and flagged (``etc``) so the parser can
  say that only the units written get the task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NONE_VALUES = {"", "/", "／", "无", "-", "—", "——", "暂无", "\\"}
_CLAUSE_SEPARATORS = set(",，;；\n")
_ITEM_SEPARATORS = set("、/／")
_OPEN, _CLOSE = "（(【[", "）)】]"

# role words, longest first so "牵头负责" wins over "负责"
ROLE_WORDS: tuple[tuple[str, str], ...] = (
    ("牵头负责", "lead"),
    ("牵头落实", "lead"),
    ("负责牵头", "lead"),
    ("牵头", "lead"),
    ("主办", "lead"),
    ("主责", "lead"),
    ("协助配合", "cooperating"),
    ("配合落实", "cooperating"),
    ("协办", "cooperating"),
    ("配合", "cooperating"),
    ("协助", "cooperating"),
    ("参与", "cooperating"),
    ("负责落实", "responsible"),
    ("具体落实", "responsible"),
    ("负责", "responsible"),
    ("落实", "responsible"),
    ("承办", "responsible"),
)
_LABEL = re.compile(
    r"^(牵头单位|牵头科室|牵头|主办单位|主办|责任单位|责任科室|配合单位|协办单位|配合|协办)[:：]"
)
_LABEL_ROLES = {
    "牵头": "lead",
    "主办": "lead",
    "责任": "responsible",
    "配合": "cooperating",
    "协办": "cooperating",
}


@dataclass(frozen=True)
class UnitMention:
    """One unit name as written in a cell, with its role."""

    written: str  # the item as it stands in the cell, role word included ("办公室主办")
    name: str  # without role word and alias ("办公室")
    role: str  # lead | responsible | cooperating
    aliases: tuple[str, ...] = field(default=())
    etc: bool = False  # written with a trailing 等: there may be more units than written


_SPACES = re.compile(r"[ \t\u3000]+")
_ETC = re.compile(r"等(?:相关)?(?:单位|科室|处室|部门)?$")
_NO_SPLIT_AFTER = set("、，,;；/／:：\n") | set(_OPEN)
_NO_SPLIT_BEFORE = set("、，,;；/／\n") | set(_CLOSE)


def _spaces_to_separators(text: str) -> str:
    """Spaces between two names become "、"; any other space is dropped."""
    parts = _SPACES.split(text)
    out = parts[0]
    for right in parts[1:]:
        left_word = re.split(r"[、，,;；/／:：\n（(【\[]", out)[-1]
        right_word = re.split(r"[、，,;；/／:：\n（(【\[]", right)[0]
        split = (
            out
            and right
            and out[-1] not in _NO_SPLIT_AFTER
            and right[0] not in _NO_SPLIT_BEFORE
            and len(left_word) >= 2
            and len(right_word) >= 2
            and not _LABEL.match(left_word + "：")
            and not any(right_word.startswith(word) for word, _ in ROLE_WORDS)
        )
        out += ("、" if split else "") + right
    return out


def split_outside_brackets(text: str, separators: set[str] | str) -> list[str]:
    """Split on separators that are not inside brackets."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        if ch in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _strip_role(item: str) -> tuple[str, str | None]:
    """ "办公室主办" → ("办公室", "lead"); "局主办科室" keeps its 主办 (not at the end)."""
    for word, role in ROLE_WORDS:
        if item.endswith(word) and len(item) > len(word):
            return item[: -len(word)].rstrip("：:、 "), role
    return item, None


def _brackets(item: str) -> tuple[str, str | None, tuple[str, ...]]:
    """Name, role from a bracketed role word, aliases from other brackets."""
    m = re.match(r"^(?P<name>[^（(]+)[（(](?P<inner>[^）)]+)[）)]$", item)
    if not m:
        return item, None, ()
    name, inner = m.group("name").strip(), m.group("inner").strip()
    for word, role in ROLE_WORDS:
        if inner == word:
            return name, role, ()
    return name, None, (inner,)


def split_unit_cell(text: str | None, default_role: str) -> list[UnitMention]:
    """The unit mentions of one cell, in order (duplicates kept; the caller merges them)."""
    cell = _spaces_to_separators((text or "").strip())
    if cell in NONE_VALUES:
        return []
    mentions: list[UnitMention] = []
    for clause in split_outside_brackets(cell, _CLAUSE_SEPARATORS):
        clause_role = None
        label = _LABEL.match(clause)
        if label:
            clause_role = next(r for k, r in _LABEL_ROLES.items() if label.group(1).startswith(k))
            clause = clause[label.end() :]
        pending: list[tuple[str, str, tuple[str, ...]]] = []  # names waiting for a role word
        for item in split_outside_brackets(clause, _ITEM_SEPARATORS):
            if item in NONE_VALUES:
                continue
            bare, role = _strip_role(item)
            name, bracket_role, aliases = _brackets(bare)
            role = role or bracket_role
            etc = bool(_ETC.search(name)) and len(_ETC.sub("", name)) >= 2
            if etc:
                name = _ETC.sub("", name)
            pending.append((item, name, aliases, etc))
            if role is not None:
                mentions.extend(UnitMention(w, n, role, a, e) for w, n, a, e in pending)
                pending = []
        role = clause_role or default_role
        mentions.extend(UnitMention(w, n, role, a, e) for w, n, a, e in pending)
    return [m for m in mentions if m.name]

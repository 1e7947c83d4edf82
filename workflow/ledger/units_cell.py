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
  say that only the units written get the task; "办公室、财务科等委机关各科室" is the names and
  the group they belong to (办公室, 财务科, 委机关各科室);
* a cell may carry more than names: a sentence about how the list applies ("按职责分工落实",
  "各科室根据职责分别负责") is not a unit — the names before it stay, the rest is a ``note``
  (:func:`read_unit_cell`) that the dry run shows;
* a whole cell in brackets with role labels ("（牵头单位：A、B；责任单位：C）",
  "(牵头单位:A;配合单位:B)") reads like the same text without the brackets;
* a bracketed alias on a line of its own ("海域处\n（审批处）", a narrow Word column) belongs to
  the name above it; nothing is split inside brackets ("综合协调处（含办公室、档案室）").
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
    r"^\s*((?:牵头|主办|主责|责任|负责|承办|落实|配合|协办|参与|协助)"
    r"(?:单位|科室|处室|部门|领导单位)?)\s*[:：]\s*"
)
_LABEL_ROLES = {
    "牵头": "lead",
    "主办": "lead",
    "主责": "lead",
    "责任": "responsible",
    "负责": "responsible",
    "承办": "responsible",
    "落实": "responsible",
    "配合": "cooperating",
    "协办": "cooperating",
    "参与": "cooperating",
    "协助": "cooperating",
}
# words that make an item a sentence about the list, not a name (cut there: the rest is a note)
_SENTENCE = re.compile(
    r"按照|根据|依据|结合(?:实际|职责|职能|工作|各自|本)|按职责|依职责|按各自|各自|分别|职责分工|"
    r"分工负责|共同|具体负责|相关工作|有关工作|按要求|做好|抓好|负责组织|组织实施|"
    r"以下|不再|逐一|均需|均应|均要"
)  # "结合" alone is no sentence: "…中西医结合医院" is a name
# a group after 等: "办公室、财务科等委机关各科室"
_ETC_GROUP = re.compile(
    r"^(?P<names>.+?)等(?P<group>(?:各|相关|委属|委机关|厅机关|局机关|市直|县直|其他).+)$"
)
NAME_LIMIT = 30
LABEL_RE = _LABEL


@dataclass(frozen=True)
class UnitMention:
    """One unit name as written in a cell, with its role."""

    written: str  # the item as it stands in the cell, role word included ("办公室主办")
    name: str  # without role word and alias ("办公室")
    role: str  # lead | responsible | cooperating
    aliases: tuple[str, ...] = field(default=())
    etc: bool = False  # written with a trailing 等: there may be more units than written

    @property
    def full(self) -> str:
        """The name with its brackets ("各乡镇（街道）", "海域处（审批处）"), role word left out."""
        return self.name + "".join(f"（{a}）" for a in self.aliases)


_SPACES = re.compile(r"[ \t\u3000]+")
_ETC = re.compile(
    r"等(?:其他|其它)?[\u4e00-\u9fff]{0,3}?(?:有关|相关)?"
    r"(?:单位|科室|处室|部门|机构)(?:[（(][^）)]*[）)])?$|等$"
)  # "财务科等" "A等有关处室（单位）" "市税务局等市有关单位"
# a run of one-character divisions joined by 、 inside a name: "各市、县（市、区）教育局"
_DIVISIONS = "省市州盟县区旗乡镇"
_DIVISION_RUN = re.compile(
    rf"各?[{_DIVISIONS}](?:、[{_DIVISIONS}])+(?:[（(][^）)]*[）)])?(?=[\u4e00-\u9fff])"
)
_KEPT = "\ue000"  # stands for a 、 that does not separate (private use, restored at the end)
# "A会B" / "A会同B": A leads, with B (会 after a unit's last character, never "委员会")
_JOINTLY = re.compile(
    r"^(?P<lead>.{2,}?[局委办厅处科室院部署站所队心司])会(?!展|计|议|所|馆|堂|务|商|审|员)"
    r"同?(?P<with>.{2,})$"
)  # not "市商务局会展办", "财政局会计科"
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


@dataclass
class CellUnits:
    """What a unit cell (or a prose bracket) holds: the mentions and the text that is no name."""

    mentions: list[UnitMention] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def label_role(label: str) -> str:
    return next(r for k, r in _LABEL_ROLES.items() if label.startswith(k))


def _unwrap(cell: str) -> str:
    """ "（牵头单位：A；责任单位：B）" → "牵头单位：A；责任单位：B" (a labelled cell in brackets)."""
    if cell[:1] in "（(" and cell[-1:] in "）)":
        inner = cell[1:-1].strip()
        depth = 0
        for ch in inner:  # the outer pair must enclose everything
            depth += ch in "（(" and 1 or (-1 if ch in "）)" else 0)
            if depth < 0:
                return cell
        if _LABEL.match(inner):
            return inner
    return cell


def _outside_brackets(text: str) -> str:
    """``text`` with what stands inside brackets blanked out (same length)."""
    out, depth = [], 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
            out.append(ch)
            continue
        out.append("\u3000" if depth else ch)
    return "".join(out)


def _sentence_cut(item: str) -> tuple[str, str]:
    """(name part, note part) of an item: a sentence hint, or a name too long to be one."""
    m = _SENTENCE.search(_outside_brackets(item))
    if m is not None:
        return item[: m.start()].strip("，,、：: "), item[m.start() :]
    if len(item) > NAME_LIMIT:
        return "", item
    return item, ""


_Pending = list[tuple[str, str, tuple[str, ...], bool, str | None]]


def _flush(out: CellUnits, pending: _Pending, role: str) -> None:
    """The names awaiting a role word get ``role`` (or the role of their own)."""
    out.mentions.extend(UnitMention(w, n, fixed or role, a, e) for w, n, a, e, fixed in pending)
    pending.clear()


def _remark(text: str) -> bool:
    """A bracket's text that is a remark about the list, not another name of a unit."""
    return (
        bool(_SENTENCE.search(text)) or any(c in text for c in "，,；;。") or len(text) > NAME_LIMIT
    )


def _kept(text: str) -> str:
    return text.replace(_KEPT, "、")


def read_unit_cell(text: str | None, default_role: str) -> CellUnits:
    """The unit mentions of one cell, in order (duplicates kept; the caller merges them), and
    the notes: text in it that names no unit."""
    raw = re.sub(r"\n\s*(?=[（(])", "", (text or "").strip())  # "海域处\n（审批处）"
    cell = _spaces_to_separators(_unwrap(raw))
    cell = _DIVISION_RUN.sub(lambda m: m.group(0).replace("、", _KEPT), cell)
    out = CellUnits()
    if cell in NONE_VALUES:
        return out
    for clause in split_outside_brackets(cell, _CLAUSE_SEPARATORS):
        clause_role = None
        label = _LABEL.match(clause)
        if label:
            clause_role = label_role(label.group(1))
            clause = clause[label.end() :]
        # names awaiting a role word: (written, name, aliases, etc, a role of their own)
        pending: _Pending = []

        for item in split_outside_brackets(clause, _ITEM_SEPARATORS):
            if item in NONE_VALUES:
                continue
            bare, role = _strip_role(item)
            if not bare.startswith(("（", "(")):
                head, note = _sentence_cut(bare)
                if note:
                    out.notes.append(item if not head else item[len(head) :].strip("，,、 "))
                    if not head:
                        continue
                    bare, role = _strip_role(head)
            group = _ETC_GROUP.match(bare)
            if group and not any(ch in group.group("names") for ch in "（("):
                pending.append((item, group.group("names"), (), False, None))
                bare = group.group("group")
            etc_match = _ETC.search(bare)
            etc = etc_match is not None and etc_match.start() >= 2
            if etc_match is not None and etc:
                bare = bare[: etc_match.start()]
                etc = "各" not in bare  # "委属各单位等": a group already names them all
            jointly = _JOINTLY.match(bare)
            if jointly and not any(ch in jointly.group("lead") for ch in "（("):
                pending.append((item, jointly.group("lead"), (), False, "lead"))
                bare, role = jointly.group("with"), role or "cooperating"
            if bare[:1] in "（(" and bare[-1:] in "）)" and _remark(bare[1:-1]):
                out.notes.append(bare)  # "（以下均需各县市区落实，不再逐一列出）"
                continue
            name, bracket_role, aliases = _brackets(bare)
            role = role or bracket_role
            if any(_remark(a) for a in aliases):
                out.notes.extend(f"（{a}）" for a in aliases)
                aliases = ()
            pending.append((item, name, aliases, etc, None))
            if role is not None:
                _flush(out, pending, role)
        _flush(out, pending, clause_role or default_role)
    out.mentions = [
        UnitMention(_kept(m.written), _kept(m.name), m.role, tuple(map(_kept, m.aliases)), m.etc)
        for m in out.mentions
        if m.name
    ]
    out.notes = [_kept(n) for n in out.notes]
    return out


def split_unit_cell(text: str | None, default_role: str) -> list[UnitMention]:
    """The unit mentions of one cell, in order (see :func:`read_unit_cell` for the notes)."""
    return read_unit_cell(text, default_role).mentions


def units_as_written(units: list[tuple[UnitMention, int]]) -> dict[str, list[str]]:
    """A task's unit names as the file wrote them, by role (groups not expanded)."""
    out: dict[str, list[str]] = {"lead": [], "responsible": [], "cooperating": []}
    for mention, _ in units:
        if mention.full not in out[mention.role]:
            out[mention.role].append(mention.full)
    return out

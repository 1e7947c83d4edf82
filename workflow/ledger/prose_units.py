"""The units of a task written as prose, and where one task ends and the next begins. Pure.

A prose task names its units in a bracket after its words, or on lines of their own after it:

* "…流程。（委办公室牵头负责，各相关科室负责落实）", "（牵头部门：X）", "（牵头科室：X；责任科室：
  A、B、C）", "（X负责落实）", "（X、Y分别牵头落实）" (each leads);
* "牵头单位：X" / "责任单位：Y" after the task, as lines of the paragraph or paragraphs of their own,
  with or without brackets, or after the task's last sentence on the same line; a line
  "完成时限：6月底前" there is the task's deadline.

A paragraph may hold several tasks, each sentence followed by its own bracket:
"做好A。（办公室负责）做好B。（财务科负责）" is two tasks (:func:`split_segments`). A bracket is a
unit bracket when it names units with a role and stands at a sentence's end (after 。；, or before
。；, another bracket or the end); text after the last unit bracket belongs to the task before it
("标题。（X牵头）细则。": one task).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workflow.ledger.units_cell import (
    LABEL_RE,
    CellUnits,
    UnitMention,
    label_role,
    read_unit_cell,
    split_outside_brackets,
)

_ADVERBS = r"(?:分别|共同|具体|统一|各自|按职责|依职责|按照职责)?"
ROLE_VERB = re.compile(_ADVERBS + r"(?:牵头|主办|主责|负责|落实|配合|协办|协助|参与|把关|承办)")
_LEAD_WORDS, _COOP_WORDS = ("牵头", "主办", "主责", "把关"), ("配合", "协办", "协助", "参与")
_STOPS = "。；;！？!?"
_SPACE = " \t\u3000"


def trailing_bracket(text: str) -> tuple[str, str | None]:
    """ "…流程。（委办公室牵头负责）" → ("…流程。", "委办公室牵头负责"); (text, None) when the
    paragraph does not end with a bracket naming units and their roles."""
    body = text.rstrip().rstrip("。.；;")
    if not body.endswith((")", "）")):
        return text.strip(), None
    depth = 0
    for i in range(len(body) - 1, -1, -1):
        ch = body[i]
        if ch in ")）":
            depth += 1
        elif ch in "(（":
            depth -= 1
            if depth == 0:
                inner = body[i + 1 : -1].strip()
                if ROLE_VERB.search(inner) and i > 0:
                    return body[:i].rstrip(), inner
                return text.strip(), None
    return text.strip(), None


def _role_of(phrase: str) -> str:
    if any(w in phrase for w in _LEAD_WORDS):
        return "lead"
    if any(w in phrase for w in _COOP_WORDS):
        return "cooperating"
    return "responsible"


def bracket_units(inner: str) -> list[UnitMention]:
    """The units of a bracket with their roles, in order.

    "委办公室牵头负责，各相关科室负责落实" → 委办公室 lead, 各相关科室 responsible;
    "委政法科、医政科、疾控监督科牵头落实" → three leads; "委办公室负责把关，各科室落实" →
    委办公室 lead, 各科室 responsible. A clause without a role phrase is responsible.
    """
    return read_bracket(inner).mentions


def read_bracket(inner: str) -> CellUnits:
    """:func:`bracket_units` with the notes: labelled clauses ("牵头单位：A、B；责任单位：C",
    half- or full-width) name units in their role; text that names no unit is a note."""
    out = CellUnits()
    for clause in split_outside_brackets(inner, "，,；;\n"):
        clause = clause.removeprefix("由")
        label = LABEL_RE.match(clause)
        if label is not None:
            cell = read_unit_cell(clause[label.end() :], label_role(label.group(1)))
        else:
            m = ROLE_VERB.search(clause)
            units, phrase = (clause[: m.start()], clause[m.start() :]) if m else (clause, "")
            units = re.sub(r"等$", "", units.strip().rstrip("、"))
            cell = read_unit_cell(units, _role_of(phrase))
        out.mentions.extend(cell.mentions)
        out.notes.extend(cell.notes)
    return out


# --------------------------------------------------------------------------- unit lines


def _unwrapped(text: str) -> str:
    text = text.strip().rstrip("。.；;")
    if text[:1] in "（(" and text[-1:] in "）)":
        return text[1:-1].strip()
    return text


_DEADLINE_LABEL = re.compile(
    r"^\s*(?:完成时限|完成时间|时间节点|时限要求|办结时限|完成期限)\s*[:：]\s*"
)
_UNIT_WORDS = (
    r"(?:牵头|主办|主责|责任|负责|承办|落实|配合|协办|参与|协助)(?:单位|科室|处室|部门|领导单位)?"
)
_DEADLINE_WORDS = r"(?:完成时限|完成时间|时间节点|时限要求|办结时限|完成期限)"
# where a labelled piece begins inside a line: "牵头单位：X 责任单位：Y；完成时限：6月底前"
_PIECE = re.compile(rf"[\s；;，,。]*[（(]?(?=(?:{_UNIT_WORDS}|{_DEADLINE_WORDS})\s*[:：])")
_INLINE_LABEL = re.compile(
    rf"(?<=[。；;！？!?])\s*[（(]?\s*(?=(?:{_UNIT_WORDS}|{_DEADLINE_WORDS})\s*[:：])"
)


def _balanced(text: str) -> str:
    """A piece without the closing brackets of an opening one it was cut from."""
    text = text.strip().rstrip("。.；;")
    while text[-1:] in "）)" and text.count("）") + text.count(")") > text.count("（") + text.count(
        "("
    ):
        text = text[:-1].rstrip("。.；;")
    return text


def unit_line(text: str) -> str | None:
    """The units of a line that only names them ("牵头单位：X"、"（责任单位：Y）"), else None."""
    inner = _unwrapped(text)
    return inner if LABEL_RE.match(inner) else None


def deadline_line(text: str) -> str | None:
    """The deadline of a line that only gives it ("完成时限：6月底前"), else None."""
    inner = _unwrapped(text)
    m = _DEADLINE_LABEL.match(inner)
    return (inner[m.end() :].strip() or None) if m else None


@dataclass
class Labelled:
    """What labelled lines after a task say: its units and its deadline, as written."""

    units: list[str] = field(default_factory=list)
    deadline: list[str] = field(default_factory=list)

    def take(self, text: str) -> bool:
        """Read a line made of labelled pieces; False (nothing taken) when it is not one."""
        pieces = [_balanced(p) for p in _PIECE.split(text) if p.strip(" \t\u3000；;，,。（()）")]
        read = [(unit_line(p), deadline_line(p)) for p in pieces]
        if not pieces or any(u is None and d is None for u, d in read):
            return False
        for units, deadline in read:
            if units is not None:
                self.units.append(units)
            elif deadline is not None:
                self.deadline.append(deadline)
        return True


def peel_labelled(text: str) -> tuple[str, Labelled]:
    """(the task's words, its labelled lines): lines naming units or a deadline at the end of
    ``text``, and labelled pieces after the last line's final sentence ("…。牵头单位：X；完成
    时限：6月底前"), are taken off."""
    lines = text.split("\n")
    found: list[str] = []
    while len(lines) > 1 and Labelled().take(lines[-1]):
        found.insert(0, lines.pop())
    last = lines[-1]
    m = _INLINE_LABEL.search(last)
    if m is not None and Labelled().take(last[m.start() :]):
        found.insert(0, last[m.start() :])
        lines[-1] = last[: m.start()]
    labelled = Labelled()
    for line in found:
        labelled.take(line)
    return "\n".join(lines), labelled


# --------------------------------------------------------------------------- tasks in a paragraph


@dataclass
class Segment:
    """One task's words in a paragraph, its unit bracket taken out."""

    text: str
    bracket: str | None
    remarks: list[str] = field(default_factory=list)  # brackets after the units, no names


def _bracket_end(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "（(":
            depth += 1
        elif text[i] in "）)":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def unit_brackets(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inner) of the brackets of ``text`` that name units with a role and stand
    at a sentence's end."""
    out = []
    i = 0
    while i < len(text):
        if text[i] not in "（(":
            i += 1
            continue
        end = _bracket_end(text, i)
        if end is None:
            break
        inner = text[i + 1 : end - 1].strip()
        before = text[:i].rstrip(_SPACE)
        after = text[end:].lstrip(_SPACE)
        at_end = not before or before[-1] in _STOPS or not after or after[0] in _STOPS + "（(\n"
        if before and at_end and ROLE_VERB.search(inner) and read_bracket(inner).mentions:
            out.append((i, end, inner))
        i = end
    return out


def split_segments(text: str) -> list[Segment]:
    """The tasks of a paragraph: one per unit bracket (see the module's docstring)."""
    segments: list[Segment] = []
    position = 0
    for start, end, inner in unit_brackets(text):
        words = text[position:start].strip().lstrip(_STOPS).strip()
        if not words.strip(_STOPS + _SPACE) and segments:  # "（A负责）（以下…）": one bracket
            segments[-1].bracket = f"{segments[-1].bracket}，{inner}"
        else:
            segments.append(Segment(words, inner))
        position = end
    tail = text[position:].strip().lstrip(_STOPS).strip()
    if not segments:
        return [Segment(text.strip(), None)]
    while tail[:1] in "（(" and (end := _bracket_end(tail, 0)) is not None:
        segments[-1].remarks.append(tail[1 : end - 1].strip())  # "（以下均需…，不再逐一列出）"
        tail = tail[end:].strip().lstrip(_STOPS).strip()
    if tail:  # words after the last bracket: more of the task before it
        last = segments[-1]
        joint = "" if last.text.endswith(tuple(_STOPS)) or not last.text else "。"
        last.text = f"{last.text}{joint}{tail}"
    return segments

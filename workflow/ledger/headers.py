"""Finding the header row of a ledger table by its column names and their synonyms.

Offices name the same column differently ("责任单位", "责任科室（单位）", "承办单位"…). A cell is
matched exactly against the synonyms below (after removing spaces, unifying brackets and
dropping a bracketed qualifier: "责任科室（单位）" → "责任科室"); short cells that match no
synonym are tried by keyword ("牵头" → lead). A row is a header when it names at least two
different columns, one of them the task or the requirement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workflow.ledger.readers.document import Row
from workflow.vocabulary import UnitRole

# column role → its names, most common first
SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "序", "No", "NO", "No."),
    "task": (
        "工作任务", "重点工作", "内容", "重点任务", "任务", "任务名称", "工作事项", "工作项目",
        "项目", "主要任务", "工作重点", "任务事项",
    ),
    "requirement": (
        "具体要求", "主要内容", "工作要求", "具体内容", "工作内容", "任务内容", "具体措施",
        "工作措施", "主要措施", "任务要求", "具体任务", "工作目标及要求", "细化分工", "目标任务",
        "工作举措", "主要举措", "具体举措", "推进措施", "工作安排", "任务分解", "细化任务",
        "落实措施", "重点举措", "具体工作",
    ),
    "metric": ("量化指标", "考核指标", "指标", "工作目标", "目标", "量化目标", "评价指标"),
    "lead": (
        "牵头单位", "牵头科室", "牵头处室", "牵头部门", "主办", "主办单位", "主办科室", "牵头",
        "牵头领导单位", "主责单位", "主责科室",
    ),
    "responsible": (
        "责任单位", "责任科室", "责任处室", "责任部门", "责任主体", "承办单位", "落实单位",
        "责任分工", "负责单位", "负责科室", "责任科（室）", "责任科室单位", "分工", "承办科室",
    ),
    "cooperating": ("协办", "协办单位", "配合单位", "协办科室", "配合科室", "参与单位", "配合部门", "协办处室"),
    "deadline": ("完成时限", "完成时间", "时间节点", "时限", "时限要求", "办结时限", "完成期限", "时间安排"),
    "progress": ("进展落实情况", "落实情况", "进展情况", "完成情况", "工作进展", "进展", "推进情况"),
    "remark": ("备注", "说明"),
    # what duban's own exported ledger and review workbook compute: read back, not imported
    "derived": ("状态", "截止日期", "是否逾期", "原文位置"),
}  # fmt: skip

LABELS = {
    "number": "序号",
    "task": "工作任务",
    "requirement": "具体要求",
    "metric": "量化指标",
    "lead": "牵头单位",
    "responsible": "责任单位",
    "cooperating": "协办单位",
    "deadline": "完成时限",
    "progress": "进展落实情况",
    "remark": "备注",
    "section": "板块",
    "extra": "其他内容",
    "derived": "duban 生成的列（不导入）",
}

UNIT_ROLES = UnitRole.values()
# keyword fallback for short cells, checked in order
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("进展", "progress"),
    ("落实情况", "progress"),
    ("完成情况", "progress"),
    ("牵头", "lead"),
    ("主办", "lead"),
    ("协办", "cooperating"),
    ("配合", "cooperating"),
    ("协同", "cooperating"),
    ("协作", "cooperating"),
    ("参与", "cooperating"),
    ("责任", "responsible"),
    ("承办", "responsible"),
    ("负责", "responsible"),
    ("时限", "deadline"),
    ("完成时间", "deadline"),
    ("期限", "deadline"),
    ("指标", "metric"),
    ("要求", "requirement"),
    ("措施", "requirement"),
    ("举措", "requirement"),
    ("任务", "task"),
)
_EXACT = {name.lower(): role for role, names in SYNONYMS.items() for name in names}
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）").rstrip(":：").lower()


def _unit_role_in_brackets(key: str) -> str | None:
    """A role word inside the brackets of a unit column ("（牵头）", "（配合）"), if any."""
    for inner in re.findall(r"（([^）]*)）", key):
        for word, role in (
            ("牵头", "lead"),
            ("主办", "lead"),
            ("协办", "cooperating"),
            ("配合", "cooperating"),
        ):
            if word in inner:
                return role
    return None


def column_role(text: str) -> str | None:
    """The role of a header cell, or None when it names no known column."""
    key = _key(text)
    if not key or len(key) > 14:
        return None
    if key in _EXACT:
        return _EXACT[key]
    bare = _BRACKETED.sub("", key)
    if bare in _EXACT:
        qualifier = _unit_role_in_brackets(key)
        if qualifier and _EXACT[bare] in UNIT_ROLES:
            return qualifier  # "责任单位（牵头）" is the lead column
        return _EXACT[bare]
    if len(bare) <= 8 and not re.search(r"[\d。，,；;]", bare):
        for word, role in _KEYWORDS:
            if word in bare:
                return role
    return None


@dataclass
class Header:
    """Which column holds what; unit roles may have several columns."""

    row: Row
    columns: dict[str, list[int]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # column index → header text
    spans: dict[int, list[int]] = field(default_factory=dict)  # one header cell over columns
    how: dict[int, str] = field(default_factory=dict)  # column → content | option (else header)
    texts: dict[int, str] = field(default_factory=dict)  # every header cell, known or not

    def first(self, role: str) -> int | None:
        cols = self.columns.get(role)
        return cols[0] if cols else None

    @property
    def width(self) -> int:
        return self.row.width or len(self.row.cells)

    @property
    def unit_columns(self) -> list[tuple[int, str]]:
        return sorted((c, role) for role in UNIT_ROLES for c in self.columns.get(role, []))

    def label(self, column: int | None) -> str:
        if column is None:
            return ""
        return " ".join(self.names.get(column, "").split())

    def text(self, column: int) -> str:
        """The header's words over ``column``, whether duban knows them or not."""
        return self.label(column) or " ".join(self.texts.get(column, "").split())


def detect_header(row: Row, choice: dict[str, str] | None = None) -> Header | None:
    """A :class:`Header` when the row names ≥2 known columns, one of them task or requirement
    (or a unit column: the requirement may have a name duban does not know, or none, and is
    then found by content, see :mod:`workflow.ledger.columns`), and at least half of its
    cells are known column names (a data row may contain "任务"). ``choice`` maps header texts
    (see :func:`_key`) to the roles the office chose for them."""
    if row.paragraph:
        return None
    header = Header(row=row, texts={i: t for i, t in enumerate(row.cells) if t})
    seen_text: set[str] = set()
    for index, text in enumerate(row.cells):
        role = choice.get(_key(text)) if choice and text else None
        role = role or column_role(text)
        if role is None:
            continue
        if text in seen_text and index in row.merged:
            # one header cell merged across columns: its role is settled by the data below
            first = max(i for i in header.names if header.names[i] == text)
            header.spans.setdefault(first, [first]).append(index)
            continue
        seen_text.add(text)
        header.columns.setdefault(role, []).append(index)
        header.names[index] = text
    roles = set(header.columns)
    named = sum(1 for i, text in enumerate(row.cells) if text and i in header.names)
    filled = len([text for i, text in enumerate(row.cells) if text and i not in row.merged])
    if len(roles) >= 2 and roles & {"task", "requirement", *UNIT_ROLES} and named * 2 >= filled:
        return header
    return None


# A numbered heading or item ("一、主要任务", "（一）工作内容", "1.") is data, never a header line,
# even when its words are column names.
_NUMBERED = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+\s*[、.．]|[（(][一二三四五六七八九十百\d]+[）)]|\d+\s*[、.．])"
)


def merge_subheader(header: Header, row: Row) -> bool:
    """A second header line under a merged cell ("责任单位" over "牵头 | 配合"): fold it in."""
    if row.paragraph or not row.values():
        return False
    if any(_NUMBERED.match(text) for text in row.cells if text):
        return False
    roles: dict[int, str] = {}
    for index, text in enumerate(row.cells):
        if not text:
            continue
        role = column_role(text)
        if role is None:
            return False
        roles[index] = role
    if not roles or all(header.names.get(i) == row.cells[i] for i in roles):
        return False
    for index, role in roles.items():
        for cols in header.columns.values():
            if index in cols:
                cols.remove(index)
        header.columns.setdefault(role, []).append(index)
        header.names[index] = row.cells[index]
    header.columns = {r: sorted(c) for r, c in header.columns.items() if c}
    return True


_NUMBER_CELL = re.compile(
    r"^\s*(?:[（(]?\d{1,3}(?:[.．]\d{1,3})*[）)]?\s*[、.．]?|[一二三四五六七八九十百]+\s*[、.．]?|"
    r"[（(][一二三四五六七八九十百]+[）)])\s*$"
)
_SECTION_CELL = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+\s*[、.．]|[（(][一二三四五六七八九十百]+[）)])"
)


def number_only(text: str) -> bool:
    """A cell holding only a number ("3", "3.", "（3）", "一、", "（一）")."""
    return bool(_NUMBER_CELL.match(text))


def resolve_spans(header: Header, following: list[Row]) -> None:
    """Give each column under a header cell spanning several columns its own role, from the
    data rows below (``following``), so no column's text is dropped:

    * a column of numbers only is the 序号 (when the header has none);
    * a column of section headings ("一、…", "（一）…") is the section;
    * the other columns, in order, take 工作任务 (the title) and 具体要求 (the content) when the
      header has none yet; any column left over is extra content (appended to the content).

    A column that only repeats the one before it (the data merged as the header) keeps no role.
    """
    if not header.spans:
        return
    data = [r for r in following if not r.paragraph and len(r.values()) > 1][:40]
    data = [r for r in data if detect_header(r) is None]
    if not data:
        return
    for first, cols in header.spans.items():
        if any(c in header.names for c in cols[1:]):
            continue  # a second header line named the columns (see merge_subheader)
        own = [
            c
            for c in cols[1:]
            if any(r.cell(c) and not (c in r.merged and r.cell(c) == r.cell(c - 1)) for r in data)
        ]
        if not own:
            continue
        name = header.names[first]
        for columns in header.columns.values():
            if first in columns:
                columns.remove(first)
        header.columns = {r: c for r, c in header.columns.items() if c}
        members = [first, *own]
        for c in list(members):
            values = [r.cell(c) for r in data if r.cell(c)]
            if not values:
                continue
            if "number" not in header.columns and all(number_only(v) for v in values):
                header.columns["number"] = [c]
                members.remove(c)
            elif (
                "section" not in header.columns
                and len(members) > 1
                and all(_SECTION_CELL.match(v) for v in values)
            ):
                header.columns["section"] = [c]
                members.remove(c)
        for c in members:
            role = next((r for r in ("task", "requirement") if r not in header.columns), "extra")
            header.columns.setdefault(role, []).append(c)
        for c in cols:
            header.names[c] = name
        header.columns = {r: sorted(c) for r, c in header.columns.items()}

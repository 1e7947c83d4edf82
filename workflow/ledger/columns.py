"""What each column of a ledger table holds, read from its content, with the header as a hint.

* :func:`infer_columns` gives a role to every column the header left without one (no header
  text, or a name duban does not know), from the data below it: a column of small integers is
  the 序号, of "一、…" headings the section, of short unit names ("…局/…处/…科/…委/…办/各…") a
  unit column, of dates and time phrases the deadline, of long sentences the requirement. A
  header known as a metric ("目标") over section headings is the section. When the header row is
  narrower than the data rows (a header cell over two columns, saved as CSV), the header's
  columns are shifted to where the content fits them best.

The office's own choice is :mod:`workflow.ledger.choice`.
"""

from __future__ import annotations

import re
from collections import Counter

from workflow.ledger.headers import Header, number_only
from workflow.ledger.readers.document import Row

_SECTION = re.compile(
    r"^\s*(?:[一二三四五六七八九十百]+\s*[、.．]|[（(][一二三四五六七八九十百]+[）)])"
)
_UNIT_END = re.compile(
    r"(?:局|处|科|委|办|室|院|中心|厅|部|队|所|站|会|组|馆|校|司|社|单位|部门|政府|街道|镇|乡|"
    r"公司|医院|机关|股|处室|科室)$"
)
_UNIT_SPLIT = re.compile(r"[、，,；;\s/]+|(?<=[局处科委办室院心厅部队所站会组馆校])[和及与]")
_DATE = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月|季度|年底|年内|年前|底前|长期|持续|全年|常态|每月|每季|每年|"
    r"上半年|下半年|即时|随时|\d{4}[-/.．]\d{1,2}"
)
_SENTENCE = re.compile(r"[，。；,;：:]")


def _unit_like(text: str, known: frozenset[str] = frozenset()) -> bool:
    """Names of units: each part ends like one ("…局/…处/…科/…委/…办"), starts with 各, or is a
    name, alias or group of the directory (``known``)."""
    if text in known:
        return True
    parts = [p.strip("（）() ") for p in _UNIT_SPLIT.split(text) if p.strip("（）() ")]
    if not parts or len(text) > 120:
        return False
    return all(
        p in known
        or (2 <= len(p) <= 24 and (_UNIT_END.search(p) or p.startswith("各") or p.endswith("等")))
        for p in parts
    )


def _date_like(text: str) -> bool:
    return len(text) <= 40 and bool(_DATE.search(text)) and not _unit_like(text)


def _long(text: str) -> bool:
    return len(text) >= 16 or (len(text) >= 8 and bool(_SENTENCE.search(text)))


def _share(values: list[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def column_values(rows: list[Row], column: int) -> list[str]:
    """The column's own texts in the data rows (a merged copy of the cell to its left is not)."""
    out = []
    for r in rows:
        text = r.cell(column)
        if text and not (column in r.merged and r.cell(column - 1) == text):
            out.append(text)
    return out


def guess(values: list[str], header: Header, known: frozenset[str] = frozenset()) -> str | None:
    """The role a column of ``values`` most likely holds, given the roles the header has."""
    if not values:
        return None
    has = header.columns
    if all(number_only(v) for v in values):
        return "number" if "number" not in has else None
    if all(_SECTION.match(v) for v in values):
        return "section" if "section" not in has else None
    if _share(values, lambda v: _unit_like(v, known)) >= 0.8:
        return next((r for r in ("responsible", "cooperating") if r not in has), None)
    if _share(values, _date_like) >= 0.8:
        return "deadline" if "deadline" not in has else None
    if _share(values, _long) >= 0.5:
        return "requirement" if "requirement" not in has else "extra"
    if "task" not in has and "requirement" not in has:
        return "task"
    return None


def _data(rows: list[Row], detect) -> list[Row]:
    """The table's data rows under a header: up to the next header, at most 200."""
    out: list[Row] = []
    for r in rows:
        if r.paragraph:
            continue
        if detect(r) is not None:
            break
        if len(r.values()) > 1:
            out.append(r)
        if len(out) >= 200:
            break
    return out


def _fits(role: str, values: list[str]) -> float:
    if not values:
        return 0.0
    test = {
        "number": number_only,
        "section": lambda v: bool(_SECTION.match(v)),
        "lead": _unit_like,
        "responsible": _unit_like,
        "cooperating": _unit_like,
        "deadline": _date_like,
        "requirement": _long,
        "task": lambda v: not number_only(v) and not _unit_like(v),
    }.get(role)
    return _share(values, test) if test else 0.5


def realign(header: Header, data: list[Row]) -> None:
    """Shift the header's columns when its row is narrower than the data rows below it: the
    missing columns go where the content fits the header's roles best."""
    head_width = header.row.width or len(header.row.cells)
    widths = Counter(r.width or len(r.cells) for r in data)
    missing = widths.most_common(1)[0][0] - head_width
    if not 0 < missing <= 3 or not header.names:
        return

    def score(at: int) -> float:
        return sum(
            _fits(role, column_values(data, c + missing if c >= at else c))
            for role, cols in header.columns.items()
            for c in cols
        )

    best = max(range(head_width + 1), key=lambda at: (score(at), at))
    if best >= head_width:
        return

    def moved(c: int) -> int:
        return c + missing if c >= best else c

    header.columns = {r: [moved(c) for c in cols] for r, cols in header.columns.items()}
    header.how = {moved(c): how for c, how in header.how.items()}
    header.how.update({moved(c): "content" for c in header.names if c >= best})
    header.names = {moved(c): text for c, text in header.names.items()}
    header.texts = {moved(c): text for c, text in header.texts.items()}
    header.spans = {moved(c): [moved(x) for x in cols] for c, cols in header.spans.items()}


def _number_under_text_header(header: Header, data: list[Row]) -> None:
    """ "工作任务" over the 序号 and the title (merged, then saved as CSV: the next header cell is
    blank): the column of numbers is the 序号, the blank-headed one after it the title."""
    if "number" in header.columns:
        return
    taken = {c for cols in header.columns.values() for c in cols}
    for role in ("task", "requirement"):
        for c in header.columns.get(role, []):
            values = column_values(data, c)
            after = column_values(data, c + 1)
            if (
                values
                and all(number_only(v) for v in values)
                and c + 1 not in taken
                and not header.texts.get(c + 1)
                and after
                and not all(number_only(v) for v in after)
            ):
                header.columns[role] = sorted(c + 1 if x == c else x for x in header.columns[role])
                header.columns["number"] = [c]
                header.names[c + 1] = header.names[c]
                header.how[c] = header.how[c + 1] = "content"
                return


def _short_requirement_is_the_title(header: Header, data: list[Row]) -> None:
    """Two requirement-like headers ("目标任务" and "具体措施") and no title column: the one of
    short phrases before the one of sentences is the title."""
    requirement = header.columns.get("requirement", [])
    if "task" in header.columns or len(requirement) < 2:
        return
    first = requirement[0]
    values = column_values(data, first)
    later = [column_values(data, c) for c in requirement[1:]]
    if values and _share(values, _long) < 0.5 and any(_share(v, _long) >= 0.5 for v in later):
        requirement.remove(first)
        header.columns["task"] = [first]
        header.how[first] = "content"


def infer_columns(
    header: Header, following: list[Row], detect, known: frozenset[str] = frozenset()
) -> None:
    """Give the columns the header left without a role one from their content (see above)."""
    data = _data(following, detect)
    if not data:
        return
    realign(header, data)
    metric = header.columns.get("metric", [])
    for c in list(metric):
        values = column_values(data, c)
        if values and "section" not in header.columns and all(_SECTION.match(v) for v in values):
            metric.remove(c)  # "目标" over "一、…" headings: the section, not a metric
            header.columns["section"] = [c]
            header.how[c] = "content"
    _number_under_text_header(header, data)
    _short_requirement_is_the_title(header, data)
    derived = header.columns.get("derived", [])
    if "deadline" not in header.columns:  # "截止日期" is duban's own column only beside 完成时限
        for c in list(derived):
            if header.label(c) == "截止日期":
                derived.remove(c)
                header.columns["deadline"] = [c]
    if review_workbook(header):  # duban's own notes in its review workbook: not read back
        header.columns.setdefault("derived", []).extend(header.columns.pop("remark", []))
    header.columns = {r: c for r, c in header.columns.items() if c}
    width = max(len(r.cells) for r in data)
    taken = {c for cols in header.columns.values() for c in cols}
    taken |= {c for cols in header.spans.values() for c in cols}
    for c in range(width):
        if c in taken:
            continue
        role = guess(column_values(data, c), header, known)
        if role is None:
            continue
        header.columns.setdefault(role, []).append(c)
        header.columns[role].sort()
        header.how[c] = "content"


def content_header(streams: list, known: frozenset[str] = frozenset()) -> Header | None:
    """A header read from content alone, for a table with no header row: its first data row
    (three or more cells) starts it when its columns read as a requirement (long sentences) and
    units, in at least two rows. None when the table does not read as tasks."""
    for stream in streams:
        rows = [r for r in stream.rows if not r.paragraph]
        start = next((i for i, r in enumerate(rows) if len(r.values()) >= 3), None)
        if start is None:
            continue
        first = rows[start]
        data = [r for r in rows[start:] if r.place == first.place and len(r.values()) >= 2][:200]
        if len(data) < 2:
            continue
        header = Header(row=first)
        width = max(len(r.cells) for r in data)
        for c in range(width):
            role = guess(column_values(data, c), header, known)
            if role is not None and role != "extra":
                header.columns.setdefault(role, []).append(c)
                header.how[c] = "content"
        roles = set(header.columns)
        if "requirement" in roles and roles & {"lead", "responsible", "cooperating"}:
            return header
        return None
    return None


def review_workbook(header: Header) -> bool:
    """The header of the review workbook duban writes (``--to-ledger``): it has 原文位置."""
    return any(header.label(c) == "原文位置" for c in header.columns.get("derived", []))

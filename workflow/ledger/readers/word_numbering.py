"""Word list numbering and heading styles: the numbers Word shows but the text does not hold.

A paragraph numbered by Word ("1." in a numbered list, "一、" on a 标题 1 style) has no number in
its text: the number comes from ``numbering.xml`` (the list's levels: start, format, text such as
"%1、" or "（%2）") and from counting the list's paragraphs in document order. python-docx does
not compute it, so this module does, for :mod:`workflow.ledger.prose`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Level:
    start: int
    fmt: str
    text: str


def _val(element, tag: str) -> str | None:
    child = element.find(W + tag) if element is not None else None
    return child.get(W + "val") if child is not None else None


_CN_DIGITS = "〇一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 25 → 二十五 (as Word's chineseCounting writes them)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, letters in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        while n >= value:
            out, n = out + letters, n - value
    return out


def format_number(n: int, fmt: str) -> str:
    """A list counter in one of Word's number formats (``w:numFmt``)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified",
               "japaneseCounting", "taiwaneseCounting", "ideographDigital"):  # fmt: skip
        return chinese_number(n)
    if fmt == "ideographTraditional":
        return "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        return _roman(n).upper() if fmt == "upperRoman" else _roman(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class WordNumbering:
    """The numbers Word would show before list paragraphs, computed in document order.

    Counters are kept per list: a ``w:num`` with a start override is a list of its own (that is
    how Word restarts numbering), other ``w:num`` sharing an abstract definition continue it. A
    level counts on from its start; a higher level resets the deeper ones.
    """

    def __init__(self, numbering=None, styles=None) -> None:
        """``numbering``: the ``w:numbering`` element; ``styles``: the ``w:styles`` element."""
        self.abstract: dict[str, dict[int, _Level]] = {}
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.styles = (
            {} if styles is None else {s.get(W + "styleId"): s for s in styles.findall(W + "style")}
        )
        if numbering is None:
            return
        for abstract in numbering.findall(W + "abstractNum"):
            levels = {}
            for lvl in abstract.findall(W + "lvl"):
                ilvl = int(lvl.get(W + "ilvl", "0"))
                levels[ilvl] = _Level(
                    int(_val(lvl, "start") or 1),
                    _val(lvl, "numFmt") or "decimal",
                    _val(lvl, "lvlText") or f"%{ilvl + 1}.",
                )
            self.abstract[abstract.get(W + "abstractNumId")] = levels
        for num in numbering.findall(W + "num"):
            overrides = {
                int(o.get(W + "ilvl", "0")): int(_val(o, "startOverride"))
                for o in num.findall(W + "lvlOverride")
                if _val(o, "startOverride") is not None
            }
            self.nums[num.get(W + "numId")] = (_val(num, "abstractNumId") or "", overrides)

    def _num_pr(self, p) -> tuple[str, int] | None:
        """(numId, level) from the paragraph's properties, else from its style chain."""
        ppr = p.find(W + "pPr")
        num_pr = ppr.find(W + "numPr") if ppr is not None else None
        num_id = _val(num_pr, "numId")
        ilvl = _val(num_pr, "ilvl")
        style_id = _val(ppr, "pStyle")
        seen: set[str] = set()
        while (num_id is None or ilvl is None) and style_id and style_id not in seen:
            seen.add(style_id)
            style = self.styles.get(style_id)
            if style is None:
                break
            s_ppr = style.find(W + "pPr")
            s_num = s_ppr.find(W + "numPr") if s_ppr is not None else None
            num_id = num_id if num_id is not None else _val(s_num, "numId")
            ilvl = ilvl if ilvl is not None else _val(s_num, "ilvl")
            style_id = _val(style, "basedOn")
        if num_id is None or num_id == "0":
            return None
        return num_id, int(ilvl or 0)

    def prefix(self, p) -> str:
        """The number Word shows before paragraph element ``p`` ("" when it is not numbered)."""
        found = self._num_pr(p)
        if found is None or found[0] not in self.nums:
            return ""
        num_id, ilvl = found
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        state = self.counters.setdefault(num_id if overrides else f"a{abstract_id}", {})

        def start(level: int) -> int:
            lvl = levels.get(level)
            return overrides.get(level, lvl.start if lvl else 1)

        state[ilvl] = state[ilvl] + 1 if ilvl in state else start(ilvl)
        for deeper in [k for k in state if k > ilvl]:
            del state[deeper]
        lvl = levels.get(ilvl, _Level(1, "decimal", f"%{ilvl + 1}."))
        if lvl.fmt in ("bullet", "none"):
            return ""

        def render(m: re.Match[str]) -> str:
            level = int(m.group(1)) - 1
            fmt = levels[level].fmt if level in levels else "decimal"
            return format_number(state.get(level, start(level)), fmt)

        return re.sub(r"%(\d)", render, lvl.text)

    @classmethod
    def of(cls, document) -> WordNumbering:
        """The numbering of a python-docx document (none when it has no numbering part)."""
        try:
            numbering = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            numbering = None
        return cls(numbering, document.styles.element)


@dataclass(frozen=True)
class ParagraphInfo:
    prefix: str  # the Word list number ("1.", "一、", "（一）")
    heading: int | None  # the level of a Word heading style


def paragraph_info(path: Path) -> dict[int, ParagraphInfo]:
    """Paragraph number (as :func:`workflow.ledger.readers.docx.read_docx` counts) → style and number."""
    import docx
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception:  # noqa: BLE001 - the reader already accepted the file; text alone will do
        return {}
    numbering = WordNumbering.of(document)
    info: dict[int, ParagraphInfo] = {}
    number = 0
    for block in document.iter_inner_content():
        if not isinstance(block, Paragraph):
            continue
        number += 1
        prefix = numbering.prefix(block._p)
        try:
            name = block.style.name if block.style is not None else ""
        except (KeyError, ValueError):
            name = ""
        m = _HEADING_STYLE.match(name or "")
        heading = int(m.group(1)) if m else None
        if prefix or heading:
            info[number] = ParagraphInfo(prefix.replace("\t", ""), heading)
    return info

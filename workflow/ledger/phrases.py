"""Deadline phrases: finding a 完成时限 phrase in a cell or in requirement text. Pure.

The regular expressions behind :mod:`workflow.ledger.deadlines`: numbers (full-width digits, Chinese
numerals), the phrase rules in precedence order, and :func:`find_phrase`. What each phrase
*means* (its due dates) is :mod:`workflow.ledger.deadlines`' business.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --------------------------------------------------------------------------- numbers

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_NUM = r"(\d{1,3}|[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
_YEAR = r"(\d{4}|[〇零一二三四五六七八九]{4})"
_NOT_NUM_BEFORE = r"(?<![\d一二两三四五六七八九十〇零])"


def cn_number(text: str) -> int:
    """'11' → 11, '十一' → 11, '二十' → 20, '二〇二一' → 2021."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        value = 0
        for ch in text:
            value = value * 10 + _CN_DIGITS[ch]
        return value
    tens, _, ones = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def normalize(text: str) -> str:
    """Full-width forms → ASCII, character by character so positions stay aligned."""
    out = []
    for ch in text:
        norm = unicodedata.normalize("NFKC", ch)
        out.append(norm if len(norm) == 1 else ch)
    return "".join(out)


# --------------------------------------------------------------------------- phrase rules

END = r"(?:之前|以前|前|止)"
DATE = _NOT_NUM_BEFORE + r"(?:" + _YEAR + r"年)?" + _NUM + r"月" + _NUM + r"[日号]"
DATE_LIST = DATE + r"(?:[、,和及与至]" + DATE + r")*"
_ISO = r"(?<!\d)(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?![\d])"
_MONTH = (
    _NOT_NUM_BEFORE
    + r"(?:"
    + _YEAR
    + r"年)?"
    + _NUM
    + r"月(?:份)?(底|末|上旬|中旬|下旬)?"
    + r"("
    + END
    + r")?"
)
_QUARTER = r"(?<!每)(?:" + _YEAR + r"年)?第?" + _NUM + r"季度?(末|底)?(" + END + r"|内|完成)?"
_HALF = r"(?:" + _YEAR + r"年)?([上下])半年(末|底)?(" + END + r"|内)?"
_YEAR_END = (
    r"(?:" + _YEAR + r"年度?(?:年底|年末|年内|底|末|内|度内)"
    r"|(?<![\d一二两三四五六七八九十〇零几多半去明上下每全])(?:年底|年末|年内|年度内|年度末))"
)
_MONTHLY = r"(?:每个?月|按月)(?:" + _NUM + r"[日号])?"
_QUARTERLY = r"(?:每个?季度?|按季度?)"
_HALF_YEARLY = r"(?:每半年|每半年度)"
_YEARLY_STRICT = r"每年度?(?:至少)?[^,。;、()《》]{0,8}?" + _NUM + r"次"
_YEARLY = r"每年度?(?:(?:至少)?[^,。;、()《》]{0,8}?" + _NUM + r"次)?"
_WORKING_DAYS = _NOT_NUM_BEFORE + _NUM + r"个?工作日(?:之内|以内|内)?"
_ONGOING = r"长期坚持|长期|常态化|经常性|持续推进|持续|全年|日常|随时"


@dataclass(frozen=True)
class _Rule:
    name: str
    lenient: re.Pattern[str]  # in a 完成时限 cell
    strict: re.Pattern[str] | None  # inside requirement text (None: not looked for)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Precedence: a written date beats a recurrence, which beats a period end, an event limit
# and finally "ongoing" — whichever rule matches first wins, wherever it is in the text.
_RULES: tuple[_Rule, ...] = (
    _Rule("dates", _re(DATE_LIST), _re(DATE_LIST + END)),
    _Rule("iso", _re(_ISO), None),
    _Rule("monthly", _re(_MONTHLY), _re(_MONTHLY)),
    _Rule("quarterly", _re(_QUARTERLY), _re(r"(?:每个?季度|按季度)")),
    _Rule("half_yearly", _re(_HALF_YEARLY), _re(_HALF_YEARLY)),
    _Rule("yearly", _re(_YEARLY), _re(_YEARLY_STRICT)),
    _Rule(
        "month",
        _re(_MONTH),
        _re(
            _NOT_NUM_BEFORE
            + r"(?:"
            + _YEAR
            + r"年)?"
            + _NUM
            + r"月(?:份)?(?:(底|末|上旬|中旬|下旬)("
            + END
            + r")?|()("
            + END
            + r"))"
        ),
    ),  # fmt: skip
    _Rule(
        "quarter",
        _re(_QUARTER),
        _re(r"(?<!每)(?:" + _YEAR + r"年)?第?" + _NUM + r"季度(末|底)?(" + END + r"|内)"),
    ),  # fmt: skip
    _Rule("half", _re(_HALF), _re(_HALF)),
    _Rule("year_end", _re(_YEAR_END), _re(_YEAR_END)),
    _Rule("working_days", _re(_WORKING_DAYS), _re(_WORKING_DAYS)),
    _Rule("ongoing", _re(_ONGOING), _re(r"长期坚持")),
)

EMPTY = {"", "/", "／", "-", "—", "——", "无", "暂无", "—/—"}


def search(text: str, strict: bool) -> tuple[_Rule, re.Match[str]] | None:
    norm = normalize(text)
    if not strict:  # a cell: "11 月底前" reads as "11月底前"
        norm = re.sub(r"\s+", "", norm)
    for rule in _RULES:
        pattern = rule.strict if strict else rule.lenient
        if pattern is None:
            continue
        m = pattern.search(norm)
        if m:
            return rule, m
    return None


def find_phrase(text: str | None) -> str | None:
    """The deadline phrase inside requirement text, as written ("2021年11月20日前").

    Stricter than reading a 完成时限 cell: a date must be followed by 前/之前/以前/止, a month
    by 底/末/旬/前, and "长期" or "持续" alone do not count, because requirement text is full
    of them.
    """
    if not text:
        return None
    found = search(text, strict=True)
    if found is None:
        return None
    _, m = found
    return text[m.start() : m.end()]

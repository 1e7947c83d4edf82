"""Quantitative targets (量化指标): "每月至少更新2条", "每季度至少1次" → a count per period. Pure.

A requirement that states how many items a period needs becomes a *target*: each of the task's
assignments (one per period for recurring work, or the only one) needs that many items, and the
unit's reports count towards it (``duban task report … --count 3``; a report counts 1 unless it
says otherwise). The year-end evaluation charges a period that falls short (see
:mod:`workflow.evaluation.deductions`).

The target is read from the task's 量化指标, then its 具体要求, then its title, then its
完成时限 — the first that states a count wins. Recognised: 每月 / 每季度 / 每季 / 每半年 /
每年 / 每周 followed within a few characters by ``至少`` (or 不少于 / 不低于) and a number
(Arabic or Chinese, 1–999) with a measure word (条, 次, 篇, 期, 个, 项, 件, 场, 批). "每年至少4次"
on a task split into quarters means 1 per quarter, and "每月至少2条" on a task with one yearly
deadline means 24: the year's count is shared over the periods the task was split into
(rounded up).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})"
_PATTERN = re.compile(
    r"每(月|季度|季|半年|年度?|周)"
    r"[^，,。；;、]{0,12}?(?:至少|不少于|不低于|最少)"
    r"[^\d一二两三四五六七八九十，,。；;、]{0,6}?" + _NUM + r"\s*(条|次|篇|期|个|项|件|场|批)"
)
PERIODS_PER_YEAR = {"月": 12, "季度": 4, "季": 4, "半年": 2, "年": 1, "年度": 1, "周": 52}
PERIOD_LABELS = {"月": "每月", "季度": "每季度", "季": "每季度", "半年": "每半年", "周": "每周"}


@dataclass(frozen=True)
class Target:
    """``count`` items per period, as stated by ``phrase``."""

    count: int
    measure: str  # 条 / 次 / …
    per: str  # 月 / 季度 / 半年 / 年 / 周
    phrase: str

    def describe(self) -> str:
        return f"{PERIOD_LABELS.get(self.per, '每年')}至少 {self.count} {self.measure}"


def chinese_number(text: str) -> int | None:
    """ "2" → 2, "十二" → 12, "二十" → 20; None for anything else."""
    if text.isdigit():
        return int(text)
    if len(text) == 1 and text in _CN:
        return _CN[text]
    tens, sep, ones = text.partition("十")
    if not sep:
        return None
    high = 1 if not tens else _CN.get(tens)
    low = 0 if not ones else _CN.get(ones)
    if high is None or low is None:
        return None
    return high * 10 + low


def find_target(texts: Iterable[str | None]) -> Target | None:
    """The first count a period needs, stated in any of ``texts`` (in order)."""
    for text in texts:
        if not text:
            continue
        for match in _PATTERN.finditer(text):
            count = chinese_number(match.group(2))
            if count and 1 <= count <= 999:
                per = "年" if match.group(1).startswith("年") else match.group(1)
                return Target(count, match.group(3), per, match.group(0))
    return None


_MONTH = re.compile(r"^\d{4}-\d{2}$")
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")
_HALF = re.compile(r"^\d{4}-H[12]$")


def periods_per_year(period: str, distinct: int) -> int:
    """How many periods a year has for an assignment of ``period`` ("2026-03" → 12).

    "2026-Q2" → 4, "2026-H1" → 2, "" → 1; anything else (report dates "2026-07-31") → the
    ``distinct`` periods the task was split into.
    """
    if not period:
        return 1
    if _MONTH.match(period):
        return 12
    if _QUARTER.match(period):
        return 4
    if _HALF.match(period):
        return 2
    return max(1, distinct)


def target_of(
    metric: str | None,
    content: str | None,
    title: str | None,
    deadline_text: str | None,
    periods: int = 1,
) -> Target | None:
    """The target of one assignment of a task whose year has ``periods`` periods (1: not split).

    ``periods`` comes from :func:`periods_per_year`.
    """
    found = find_target((metric, content, title, deadline_text))
    if found is None:
        return None
    per_year = PERIODS_PER_YEAR.get(found.per, 1)
    if per_year == max(1, periods):
        return found
    # the task was split into other periods than the phrase's: share the year's count out
    share = math.ceil(found.count * per_year / max(1, periods))
    return Target(max(1, share), found.measure, found.per, found.phrase)

"""Periods that began before the plan: which recurring obligations an import leaves out.

A plan issued (or imported) in June that says "每月更新" cannot have been late in January: the
periods whose due date is before the day counting starts are not created, so neither the daily
check nor the evaluation charges them. ``[office] periods_from`` chooses that day:

* ``"issued"`` (default): the plan's issue date — ``duban import --issued D``, else a date the
  file gives ("2023年6月15日印发", "印发日期：2023年6月15日"); a file without one counts from
  1 January, as before;
* ``"imported"``: the day the plan was first imported (a re-import keeps that first day);
* ``"year_start"``: 1 January of the plan year (every period counts).

Only obligations with a period are skipped (monthly, quarterly, half-yearly, the plan's report
dates, 长期坚持); a one-off date is kept. A task whose every period would be skipped keeps its
last one, and says so. Each task's dry-run notes say which periods were left out and why.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from workflow.errors import ConfigError
from workflow.ledger.planning import PlannedLedger

PERIODS_FROM = ("issued", "imported", "year_start")
_LABELS = {"issued": "计划印发日期", "imported": "计划导入日期"}
_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_ISSUED = (
    re.compile(_DATE + r"\s*(?:印发|发布|施行)"),
    re.compile(r"(?:印发|发布|成文)(?:日期|时间)\s*[:：]?\s*" + _DATE),
)


def periods_from(config: Any) -> str:
    """``[office] periods_from`` (see the module docstring), validated."""
    value = (config.section("office") if config is not None else {}).get("periods_from")
    if value is None:
        return "issued"
    if value not in PERIODS_FROM:
        raise ConfigError(
            f"配置文件的 [office] periods_from 无效：{value!r}"
            '（应为 "issued" 从计划印发日期起算、"imported" 从导入日期起算或 "year_start" 从 1 月 1 日起算）'
        )
    return value


def issued_in(text: str | None) -> date | None:
    """The issue date a ledger's intro or title states, if any."""
    for pattern in _ISSUED:
        m = pattern.search(text or "")
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def counting_start(
    mode: str, *, issued: date | None, imported: date, plan_year: int
) -> tuple[date | None, str]:
    """The first day periods count from, and its Chinese name (None: every period counts)."""
    if mode == "issued" and issued is not None:
        start, label = issued, _LABELS["issued"]
    elif mode == "imported":
        start, label = imported, _LABELS["imported"]
    else:
        return None, ""
    if start <= date(plan_year, 1, 1):
        return None, ""
    return start, f"{label} {start}"


def skip_early_periods(planned: PlannedLedger, start: date | None, why: str) -> str | None:
    """Drop the periodic dues of ``planned`` due before ``start``.

    Each task that lost periods gets a note; returns the file's one warning line (or None).
    """
    if start is None:
        return None
    dropped = 0
    tasks = 0
    for pt in planned.tasks:
        dues = pt.deadline.dues
        early = [d for d in dues if d.period and d.due < start]
        if not early:
            continue
        kept = [d for d in dues if d not in early]
        note = _note(early, why)
        if not kept:  # every period before the start: keep the last, and say so
            kept, early = [early[-1]], early[:-1]
            note = _note(early, why) + f"；全部期次均早于该日期，保留最后一期 {kept[0].due}"
            if not early:
                continue
        pt.deadline.dues[:] = kept
        pt.notes.append(note)
        dropped += len(early)
        tasks += 1
    if not dropped:
        return None
    return (
        f"按{why}起算：{tasks} 项任务共 {dropped} 期在此之前已截止，不分派、不考核"
        "（[office] periods_from）"
    )


def _note(early: list, why: str) -> str:
    periods = [d.period for d in early]
    shown = (
        periods[0] if len(periods) == 1 else f"{periods[0]} 至 {periods[-1]} 共 {len(periods)} 期"
    )
    return f"{shown} 早于{why}，不计"

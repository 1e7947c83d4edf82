"""Autonomous regions' own days off, shipped with duban (pure: no database).

The State Council's schedule is the same everywhere; an autonomous region adds the days off of
its peoples' festivals by its own annual notice (全国年节及纪念日放假办法, art. 4):

========  ==========================  ============================================
region    festivals                   shipped years (files in ``calendars/regions/``)
========  ==========================  ============================================
宁夏      开斋节、古尔邦节            2019, 2020, 2021, 2022
广西      壮族三月三（有调休）        2017, 2021, 2023
新疆      肉孜节、古尔邦节            2022, 2023, 2025
西藏      藏历新年、雪顿节            藏历新年 2023, 2025, 2026 (雪顿节: none)
========  ==========================  ============================================

Every shipped day was read in the notice's text (as reprinted at the file's ``url``; the
comments quote the sentence); years whose notice was not at hand are not shipped. Each
shipped file is one notice in the override format (:mod:`calendars.overrides`) with
``region = "…"`` and ``scope = "days"``; its ``source`` is the notice every one of its days
cites, and its comments say how the dates were derived. An office adds later years (or corrects
a shipped one) by importing the notice as such a file; an office file for a region, year and
festival replaces the shipped file for the same ones.

A year is *regionally confirmed* when notices (shipped or imported) cover every festival of the
region in that year; until then the year is provisional for an office in that region, exactly
like a national year before the 国办 notice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from calendars.errors import CalendarError
from calendars.overrides import CalendarOverride, parse_override
from calendars.toml_text import decode_toml_bytes


@dataclass(frozen=True)
class Region:
    """An autonomous region that sets its own festival days off."""

    name: str  # the short name used in duban.toml and in files: "宁夏"
    full_name: str  # "宁夏回族自治区"
    slug: str  # ASCII, the shipped files' prefix
    festivals: tuple[str, ...]  # names a notice's holiday block carries (one notice each)

    def covers(self, overrides: Iterable[CalendarOverride], year: int) -> bool:
        """Whether the notices in ``overrides`` cover every festival of ``year``."""
        named = {
            block.name
            for o in overrides
            if o.region == self.name and o.year == year
            for block in o.holidays
        }
        return all(any(f in n for n in named) for f in self.festivals)


REGIONS: tuple[Region, ...] = (
    Region("宁夏", "宁夏回族自治区", "ningxia", ("开斋节", "古尔邦节")),
    Region("广西", "广西壮族自治区", "guangxi", ("三月三",)),
    Region("新疆", "新疆维吾尔自治区", "xinjiang", ("肉孜节", "古尔邦节")),
    Region("西藏", "西藏自治区", "xizang", ("藏历新年", "雪顿节")),
)


def find_region(text: str | None) -> Region | None:
    """The region named ``text`` (short, full or ASCII name); None for None or empty.

    An unknown name is a :class:`CalendarError` listing the known ones.
    """
    wanted = (text or "").strip()
    if not wanted:
        return None
    for region in REGIONS:
        if wanted in (region.name, region.full_name, region.slug):
            return region
    known = "、".join(r.name for r in REGIONS)
    raise CalendarError(f"未知的地区“{wanted}”：duban 随附的地区日历有 {known}")


def canonical(override: CalendarOverride) -> CalendarOverride:
    """``override`` with its region written as the short name ("宁夏回族自治区" → "宁夏")."""
    if override.region is None:
        return override
    region = find_region(override.region)
    assert region is not None
    if region.name == override.region:
        return override
    return replace(override, region=region.name)


@lru_cache(maxsize=8)
def shipped_overrides(region_name: str) -> tuple[CalendarOverride, ...]:
    """The notices shipped with duban for one region, in file-name order."""
    region = find_region(region_name)
    assert region is not None
    folder = resources.files("calendars") / "regions"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(f"{region.slug}-") and entry.name.endswith(".toml"):
            text = decode_toml_bytes(entry.read_bytes())
            override = canonical(parse_override(text, Path("calendars/regions") / entry.name))
            if override.region != region.name:
                raise CalendarError(f"{entry.name}：文件中的 region 与文件名不符")
            found.append(override)
    return tuple(found)


def regional_overrides(
    region: Region | None, office: Sequence[CalendarOverride]
) -> tuple[list[CalendarOverride], list[CalendarOverride]]:
    """(the shipped notices still in force, the office's files) for an office in ``region``.

    An office file for another region is an error (it would silently change nothing). A shipped
    notice's festival is dropped when an office file of the same region and year names it: the
    office's copy wins (a shipped annual notice keeps its other festivals, without its 调休
    working days, which may belong to the festival replaced).
    """
    mine = [canonical(o) for o in office]
    for o in mine:
        if o.region is not None and (region is None or o.region != region.name):
            here = (
                f"本单位所在地区为{region.name}" if region else "duban.toml 未设置 [office] region"
            )
            raise CalendarError(
                f"{o.path}：这是{o.region}的放假通知，而{here}；请删除该文件或修改 [office] region",
                path=o.path,
            )
    if region is None:
        return [], mine
    replaced = {
        (o.year, festival)
        for o in mine
        if o.region == region.name
        for block in o.holidays
        for festival in region.festivals
        if festival in block.name
    }
    kept = []
    for shipped in shipped_overrides(region.name):
        blocks = tuple(
            block
            for block in shipped.holidays
            if not any(
                (shipped.year, festival) in replaced
                for festival in region.festivals
                if festival in block.name
            )
        )
        if blocks == shipped.holidays:
            kept.append(shipped)
        elif blocks:  # an annual notice: the office corrected one festival, the others stand
            kept.append(replace(shipped, holidays=blocks, workdays=()))
    return kept, mine

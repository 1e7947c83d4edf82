"""Quantitative targets read from a requirement's words (workflow.tasks.targets)."""

from __future__ import annotations

import pytest

from workflow.tasks.targets import find_target, periods_per_year, target_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("专栏每月至少更新2条信息", (2, "条", "月")),
        ("每季度至少1次", (1, "次", "季度")),
        ("政府网站每年至少更新一次", (1, "次", "年")),
        ("每月至少发布十二条动态", (12, "条", "月")),
        ("每周不少于3篇", (3, "篇", "周")),
        ("每半年至少召开1场新闻发布会", (1, "场", "半年")),
        ("及时更新", None),
        ("每月更新", None),
        ("至少2条", None),
    ],
)
def test_find_target(text, expected):
    found = find_target([text])
    assert (found and (found.count, found.measure, found.per)) == expected


@pytest.mark.parametrize(
    ("metric", "period", "distinct", "count"),
    [
        ("每月至少更新2条", "2026-03", 12, 2),  # one month of a monthly task
        ("每月至少更新2条", "", 1, 24),  # one yearly deadline: the year's 24
        ("每年至少4次", "2026-Q2", 4, 1),  # a yearly count shared over quarters
        ("每季度至少1次", "2026-Q3", 4, 1),
        ("每季度至少3次", "2026-07-31", 2, 6),  # two report dates: half a year each
    ],
)
def test_target_per_period(metric, period, distinct, count):
    target = target_of(metric, None, None, None, periods_per_year(period, distinct))
    assert target is not None and target.count == count


def test_the_metric_column_comes_first():
    target = target_of("每月至少2条", "每季度至少1次", "标题", None, 12)
    assert (target.count, target.per, target.describe()) == (2, "月", "每月至少 2 条")

"""The pre-send freshness check as a plain function: which items of a queued mail are stale."""

from __future__ import annotations

from datetime import date

import pytest

from calendars import ChinaCalendar
from workflow.outbox.fresh import Current, Refresher
from workflow.storage.models import Notification

D = date.fromisoformat
CAL = ChinaCalendar()


def row(kind: str, as_of: str = "2026-03-02") -> Notification:
    return Notification(key=f"{kind}:x", kind=kind, recipients=["a@b.cn"], recipient_name="科",
                        as_of=D(as_of))  # fmt: skip


def item(i: int, due: str, working_days: int = 3) -> dict:
    return {"assignment_id": i, "task_title": "t", "section": "", "due": D(due),
            "working_days": working_days, "state_label": "办理中", "last_report": None,
            "last_report_at": None, "grade": "blue"}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "state", "due_now", "today", "left_out"),
    [
        ("reminder", "in_progress", "2026-03-05", "2026-03-02", None),
        ("reminder", "reported", "2026-03-05", "2026-03-02", "已报送"),
        ("reminder", "verified", "2026-03-05", "2026-03-02", "已核验"),
        ("reminder", "cancelled", "2026-03-05", "2026-03-02", "已撤销"),
        ("reminder", "in_progress", "2026-03-20", "2026-03-02", "截止日期已改为 2026-03-20"),
        ("reminder", "overdue", "2026-03-05", "2026-03-06", "已过截止日期 2026-03-05"),
        ("due_today", "in_progress", "2026-03-05", "2026-03-06", "已过截止日期"),
        ("overdue", "overdue", "2026-03-05", "2026-03-20", None),
        ("escalation", "reported", "2026-03-05", "2026-03-20", "已报送"),
        ("progress_request", "in_progress", "2026-03-20", "2026-03-02", None),
    ],
)
def test_which_items_are_stale(kind, state, due_now, today, left_out):
    refresher = Refresher({1: Current(state, D(due_now), "具体要求")}, CAL, D(today))
    context = {"items": [item(1, "2026-03-05"), item(2, "2026-03-05")]}  # 2: unknown here
    fresh = refresher.refresh(row(kind), context)
    ids = [i["assignment_id"] for i in fresh.context["items"]]
    if left_out is None:
        assert ids == [1, 2] and fresh.note is None
        assert context["items"][0]["requirement"] == "具体要求"
    else:
        assert ids == [2] and left_out in fresh.note and "#1" in fresh.note


def test_a_mail_with_nothing_left_is_dropped_and_working_days_are_recounted():
    refresher = Refresher({1: Current("reported", D("2026-03-05"), None),
                           2: Current("in_progress", D("2026-03-05"), None)}, CAL, D("2026-03-04"))  # fmt: skip
    dropped = refresher.refresh(row("reminder"), {"items": [item(1, "2026-03-05")]})
    assert dropped.context is None and "#1 已报送" in dropped.note
    kept = refresher.refresh(row("reminder"), {"items": [item(2, "2026-03-05")]})
    [left] = kept.context["items"]
    assert left["working_days"] == 1 and "grade" not in left  # graded again by the renderer


def test_a_rehearsal_queued_for_a_future_day_is_judged_on_that_day():
    refresher = Refresher({1: Current("in_progress", D("2026-03-05"), None)}, CAL, D("2026-01-05"))
    fresh = refresher.refresh(
        row("reminder", as_of="2026-03-02"), {"items": [item(1, "2026-03-05")]}
    )
    assert fresh.context["items"][0]["working_days"] == 3


def test_digest_units_without_items_left_disappear():
    refresher = Refresher({1: Current("cancelled", D("2026-02-20"), None),
                           2: Current("overdue", D("2026-02-20"), None)}, CAL, D("2026-03-02"))  # fmt: skip
    context = {"units": [{"unit": "甲", "items": [item(1, "2026-02-20", -5)]},
                         {"unit": "乙", "items": [item(2, "2026-02-20", -5)]}]}  # fmt: skip
    fresh = refresher.refresh(row("digest"), context)
    assert [u["unit"] for u in fresh.context["units"]] == ["乙"]
    assert fresh.context["units"][0]["items"][0]["state_label"] == "已逾期"


def test_past_report_date_drops_a_progress_request():
    refresher = Refresher({}, CAL, D("2026-07-31"))
    context = {"report_due": D("2026-07-30"), "items": [item(1, "2026-09-30")]}
    assert refresher.refresh(row("progress_request"), context).context is None

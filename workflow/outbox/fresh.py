"""Stale notifications: a queued mail is checked against the database just before it goes out.

A row is written when the daily check runs; it may be delivered much later (the mail server was
down, the daemon stopped, a failed row retried by hand). Meanwhile its items may have moved on.
Each item (``assignment_id`` + the ``due`` it was written for) is looked up as of the *delivery
day* (``max(today, the row's as_of)``, so a rehearsal queued for a future date is not judged
by today):

* reported / verified / cancelled → left out ("已报送", "已核验", "已撤销");
* in a leader's ``unsigned`` mail (签收), an item signed for or started since → left out;
* its due date changed (extended, reopened with a new date) → left out: the check queues a
  new notice for the new date (its cover key carries the date); a progress request keeps the
  item with its new date;
* a reminder (``reminder`` / ``due_today``) whose due date has passed → left out: the overdue
  notice supersedes it; a ``progress_request`` whose report date passed → dropped;
* otherwise kept, with its working days, state and requirement (具体要求) as of that day.

A mail with nothing left is *dropped* (``state = 'dropped'``, the reason in ``note``); a mail
with some items left out is sent with the rest, and ``note`` says what was left out and why.
Items whose assignment is unknown to the database are kept as written. The Message-ID stays
derived from the key, so exactly-once delivery is untouched: a row is sent, dropped, or failed
once, under its claim.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

import states
from workflow.storage.models import Assignment, Notification, Task

REMINDER_KINDS = ("reminder", "due_today")
_GONE = {"reported": "已报送", "verified": "已核验", "cancelled": "已撤销"}


@dataclass(frozen=True)
class Current:
    """An assignment as it is now."""

    state: str
    due: date
    requirement: str | None
    acknowledged: bool = False  # signed for (签收)


@dataclass(frozen=True)
class Fresh:
    """What to send for one row: ``context`` (None: drop it) and ``note`` (why, what left out)."""

    context: dict[str, Any] | None
    note: str | None = None


def assignment_ids(rows: Iterable[Notification]) -> set[int]:
    ids: set[int] = set()
    for row in rows:
        for item in _all_items(row.context or {}):
            if isinstance(item.get("assignment_id"), int):
                ids.add(item["assignment_id"])
    return ids


def load_current(conn: sa.Connection, ids: set[int]) -> dict[int, Current]:
    """The current state, due date and requirement of ``ids``, in one select."""
    if not ids:
        return {}
    a, t = Assignment.__table__, Task.__table__
    rows = conn.execute(
        sa.select(a.c.id, a.c.state, a.c.due, t.c.content, a.c.acknowledged_at)
        .join(t, t.c.id == a.c.task_id)
        .where(a.c.id.in_(sorted(ids)))
    )
    return {r.id: Current(r.state, r.due, r.content, r.acknowledged_at is not None) for r in rows}


def _all_items(context: dict[str, Any]) -> list[dict[str, Any]]:
    items = [i for i in context.get("items") or [] if isinstance(i, dict)]
    for unit in context.get("units") or []:
        if isinstance(unit, dict):
            items += [i for i in unit.get("items") or [] if isinstance(i, dict)]
    return items


class Refresher:
    """Checks queued contexts against ``current`` as of ``day`` (see the module doc)."""

    def __init__(self, current: dict[int, Current], calendar, today: date) -> None:
        self.current = current
        self.cal = calendar
        self.today = today

    def working_days(self, due: date, day: date) -> int:
        if due >= day:
            return self.cal.working_days_between(day, due)
        return -self.cal.working_days_between(due, day)

    def refresh(self, row: Notification, context: dict[str, Any]) -> Fresh:
        """``context`` is the row's context with ISO dates already turned into dates."""
        day = max(self.today, row.as_of or self.today)
        kind = row.kind
        if kind == "progress_request":
            report_due = context.get("report_due")
            if isinstance(report_due, date) and report_due < day:
                return Fresh(None, f"报送日期 {report_due} 已过，不再发送")
        left_out: list[str] = []
        if isinstance(context.get("items"), list):
            context["items"] = self._items(kind, context["items"], day, left_out)
            empty = not context["items"]
        elif isinstance(context.get("units"), list):
            units = []
            for unit in context["units"]:
                if not isinstance(unit, dict) or not isinstance(unit.get("items"), list):
                    units.append(unit)
                    continue
                kept = self._items(kind, unit["items"], day, left_out)
                if kept:
                    units.append({**unit, "items": kept})
            context["units"] = units
            empty = not units
        else:
            return Fresh(context)  # a mail without items (the test mail)
        if empty and left_out:
            return Fresh(None, "内容已过时，不再发送：" + "；".join(left_out))
        if left_out:
            note = f"发送前去掉 {len(left_out)} 项已过时的事项：" + "；".join(left_out)
            return Fresh(context, note)
        return Fresh(context)

    def _items(self, kind: str, items: list, day: date, left_out: list[str]) -> list:
        kept = []
        for item in items:
            reason = self._stale(kind, item, day)
            if reason is None:
                kept.append(item)
            else:
                left_out.append(f"#{item.get('assignment_id')} {reason}")
        return kept

    def _stale(self, kind: str, item: Any, day: date) -> str | None:
        """Why ``item`` is stale (it is updated in place when it is not), or None."""
        if not isinstance(item, dict) or not isinstance(item.get("assignment_id"), int):
            return None
        now = self.current.get(item["assignment_id"])
        if now is None:
            return None  # unknown here: keep it as written
        if now.state in _GONE:
            return _GONE[now.state]
        if kind == "unsigned" and (now.acknowledged or now.state != "assigned"):
            return "已签收" if now.acknowledged else "已开始办理"
        due = item.get("due")
        if isinstance(due, date) and due != now.due:
            if kind != "progress_request":  # progress is asked for whatever the due date
                return f"截止日期已改为 {now.due}"
            item["due"] = now.due
        if kind in REMINDER_KINDS and now.due < day:
            return f"已过截止日期 {now.due}（逾期通知另行发送）"
        working_days = self.working_days(now.due, day)
        if working_days != item.get("working_days"):
            item.pop("grade", None)  # graded for the old count; the renderer grades again
        item["working_days"] = working_days
        state = now.state
        if state in ("assigned", "in_progress") and now.due < day:
            state = "overdue"  # what the check marks it on its next run
        item["state_label"] = states.STATE_LABELS.get(state, state)
        item["requirement"] = now.requirement
        return None

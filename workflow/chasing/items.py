"""The pieces of a daily check's plan: notification kinds, one open assignment, a group of items
for one recipient, and what was queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from workflow.storage.models import Unit
from workflow.vocabulary import KIND_LABELS as ALL_KIND_LABELS
from workflow.vocabulary import PLANNED_KINDS

KIND_LABELS = {k: label for k, label in ALL_KIND_LABELS.items() if k in PLANNED_KINDS}


class WorkdayCalendar(Protocol):
    def is_working_day(self, d: date) -> bool: ...
    def add_working_days(self, d: date, n: int) -> date: ...
    def working_days_between(self, a: date, b: date) -> int: ...


@dataclass(frozen=True)
class Queued:
    """One outbox row the check queued (or would queue, in a dry run)."""

    key: str
    kind: str
    recipient_name: str
    recipients: list[str]
    level: int
    unit: str | None
    assignment_ids: list[int]  # the items the mail lists
    channel: str = "email"  # or a robot: wecom | dingtalk | feishu
    total: int | None = None  # every item it covers (a bounded mail lists at most a few per unit)

    @property
    def count(self) -> int:
        return len(self.assignment_ids) if self.total is None else self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "kind_label": KIND_LABELS[self.kind],
            "recipient": self.recipient_name,
            "recipients": self.recipients,
            "level": self.level,
            "unit": self.unit,
            "assignments": self.assignment_ids,
            "total": self.count,
            "channel": self.channel,
        }


@dataclass
class OpenRow:
    id: int
    unit_id: int
    task_id: int
    state: str
    due: date


@dataclass
class Group:
    kind: str
    who: str  # recipient id part of the key, e.g. "u12" or "p3:u12"
    recipient_name: str
    recipients: list[str]
    unit: Unit | None
    level: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    items: list[tuple[OpenRow, int]] = field(default_factory=list)  # (assignment, working days)
    covers: list[str] = field(default_factory=list)


def local_date_of(at: datetime | None) -> str | None:
    if at is None:
        return None
    from workflow.dates.clock import local_date

    return local_date(at).isoformat()

"""The documented JSON shapes the task operations answer with (their result models' types).

A ``TypedDict`` here documents its keys in ``/api/v1/openapi.json`` through the result model of
each operation that is annotated with it (see :mod:`workflow.calls.models`).
"""

from __future__ import annotations

from typing_extensions import TypedDict  # (pydantic reads it on Python 3.11)


class AssignmentView(TypedDict):
    """One unit's share of a task as ``duban task list --json`` shows a row."""

    id: int
    task_id: int
    plan_id: int | None
    unit: str
    role: str  # lead | responsible | cooperating
    title: str
    section: str  # the ledger's section path, " / "-joined
    number: str | None
    period: str  # "" for a one-off task
    state: str  # assigned | in_progress | reported | verified | overdue | cancelled
    state_label: str  # the state in Chinese
    due: str  # YYYY-MM-DD
    original_due: str
    late: bool
    provisional: bool  # the due date rests on a provisional calendar year
    version: int  # the optimistic lock

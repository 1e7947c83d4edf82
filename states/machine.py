"""The lifecycle of one unit's share of a task, on ``transitions``.

One machine definition serves every assignment. It is built with ``model=None`` and
``auto_transitions=False`` and events are fired on the row itself
(``machine.events[name].trigger(row)``): a SQLModel row cannot be a transitions model, and this
way nothing is registered or leaked (see field notes). The machine reads and writes
``row.state``. No database code here: ``workflow/tasks/lifecycle.py`` adds permission checks, the
optimistic lock and the history row.

States (:class:`State`, each with its Chinese label)::

    assigned ─start─► in_progress ─report─► reported ─verify─► verified
        │                  ▲                   │
        │                  └──────return───────┘
        ├─report─► reported            (reporting without a separate "start")
        └─expire─► overdue ─report─► reported   (the report stays marked late)
    extend: assigned / in_progress / overdue → assigned / in_progress / in_progress
    cancel: any open state → cancelled
    reopen: cancelled → the state it was cancelled from (``resume``), else assigned: the office
            undoes a cancel, or a re-imported ledger lists the work again; a report that stood
            before the cancel stands again
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from states.labels import Labelled


class State(Labelled):
    """An assignment's state (the value is what the database stores)."""

    ASSIGNED = ("assigned", "已分派")
    IN_PROGRESS = ("in_progress", "办理中")
    REPORTED = ("reported", "已报送")
    VERIFIED = ("verified", "已核验")
    OVERDUE = ("overdue", "已逾期")
    CANCELLED = ("cancelled", "已撤销")


class TriggerName(Labelled):
    """A lifecycle event (the value is the history row's ``action``)."""

    START = ("start", "开始办理")
    REPORT = ("report", "报送进展")
    VERIFY = ("verify", "核验通过")
    RETURN = ("return", "退回")
    EXPIRE = ("expire", "标记逾期")
    EXTEND = ("extend", "延期")
    CANCEL = ("cancel", "撤销")
    REOPEN = ("reopen", "恢复")


STATES = State.values()
# the unit's turn
OPEN_STATES = (State.ASSIGNED.value, State.IN_PROGRESS.value, State.OVERDUE.value)
# closed: only an explicit reopen leaves cancelled
FINAL_STATES = (State.VERIFIED.value, State.CANCELLED.value)
STATE_LABELS = State.labels()


@dataclass(frozen=True)
class Trigger:
    name: str
    label: str  # Chinese, for messages and history (the TriggerName's label)
    roles: frozenset[str]  # who may fire it: office | unit | leader | system
    needs_reason: bool = False

    @classmethod
    def of(cls, name: TriggerName, roles: set[str], needs_reason: bool = False) -> Trigger:
        return cls(name.value, name.label, frozenset(roles), needs_reason)


TRIGGERS: dict[str, Trigger] = {
    t.name: t
    for t in (
        Trigger.of(TriggerName.START, {"unit"}),
        Trigger.of(TriggerName.REPORT, {"unit"}),
        Trigger.of(TriggerName.VERIFY, {"office"}),
        Trigger.of(TriggerName.RETURN, {"office"}, needs_reason=True),
        Trigger.of(TriggerName.EXPIRE, {"system"}),
        Trigger.of(TriggerName.EXTEND, {"office"}, needs_reason=True),
        Trigger.of(TriggerName.CANCEL, {"office"}, needs_reason=True),
        Trigger.of(TriggerName.REOPEN, {"office"}, needs_reason=True),
    )
}

# the states a reopen can return to
RESUMABLE = (State.IN_PROGRESS.value, State.REPORTED.value, State.OVERDUE.value)


def _resumes(state: str):
    """A condition: the trigger was fired with ``resume=state``."""

    def condition(*_args: object, resume: str | None = None, **_kwargs: object) -> bool:
        return resume == state

    return condition


_TRANSITIONS = [
    {"trigger": "start", "source": "assigned", "dest": "in_progress"},
    {"trigger": "report", "source": ["assigned", "in_progress", "overdue"], "dest": "reported"},
    {"trigger": "verify", "source": "reported", "dest": "verified"},
    {"trigger": "return", "source": "reported", "dest": "in_progress"},
    {"trigger": "expire", "source": ["assigned", "in_progress"], "dest": "overdue"},
    {"trigger": "extend", "source": "assigned", "dest": "assigned"},
    {"trigger": "extend", "source": ["in_progress", "overdue"], "dest": "in_progress"},
    {
        "trigger": "cancel",
        "source": ["assigned", "in_progress", "reported", "overdue"],
        "dest": "cancelled",
    },
    *(
        {"trigger": "reopen", "source": "cancelled", "dest": state, "conditions": _resumes(state)}
        for state in RESUMABLE
    ),
    {"trigger": "reopen", "source": "cancelled", "dest": "assigned"},
]


class TransitionError(ValueError):
    """The trigger is not allowed from the row's current state."""

    def __init__(self, trigger: str, state: str) -> None:
        self.trigger = trigger
        self.state = state
        label = TRIGGERS[trigger].label if trigger in TRIGGERS else trigger
        super().__init__(f"当前状态“{STATE_LABELS.get(state, state)}”下不能{label}")


@cache
def machine():
    """The one shared machine definition (``transitions`` is imported on first use)."""
    from transitions import Machine

    return Machine(
        model=None,
        states=list(STATES),
        transitions=_TRANSITIONS,
        initial="assigned",
        auto_transitions=False,
        send_event=False,
    )


def allowed_triggers(state: str) -> list[str]:
    """Triggers that may fire from ``state``, in definition order."""
    m = machine()
    return [name for name in TRIGGERS if m.events[name].transitions.get(state)]


def fire(row: object, trigger: str, *, resume: str | None = None) -> tuple[str, str]:
    """Move ``row.state`` by ``trigger``; returns (from, to) or raises TransitionError.

    ``resume`` (reopen only) is the state to return to, one of :data:`RESUMABLE`.
    """
    if trigger not in TRIGGERS:
        raise TransitionError(trigger, getattr(row, "state", "?"))
    before = row.state  # type: ignore[attr-defined]
    if trigger not in allowed_triggers(before):
        raise TransitionError(trigger, before)
    from transitions import MachineError

    try:
        machine().events[trigger].trigger(row, resume=resume)
    except MachineError:
        raise TransitionError(trigger, before) from None
    return before, row.state  # type: ignore[attr-defined]


def may_fire(role: str, trigger: str) -> bool:
    return role in TRIGGERS[trigger].roles

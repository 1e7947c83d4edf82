"""The task lifecycle (pure: no database)."""

from states.machine import (
    FINAL_STATES,
    OPEN_STATES,
    RESUMABLE,
    STATE_LABELS,
    STATES,
    TRIGGERS,
    State,
    TransitionError,
    TriggerName,
    allowed_triggers,
    fire,
    may_fire,
)

__all__ = [
    "FINAL_STATES",
    "OPEN_STATES",
    "RESUMABLE",
    "STATE_LABELS",
    "STATES",
    "TRIGGERS",
    "State",
    "TransitionError",
    "TriggerName",
    "allowed_triggers",
    "fire",
    "may_fire",
]

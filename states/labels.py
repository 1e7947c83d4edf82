"""Labelled vocabularies: a ``StrEnum`` whose every member carries its Chinese label.

A member *is* its value (``State.ASSIGNED == "assigned"``), so the database, JSON and the
templates see the same plain strings as before; ``member.label`` is the one place its Chinese
name is written. Used for the lifecycle's states and triggers here and for roles, notification
kinds and channels in :mod:`workflow.vocabulary`.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """``NAME = ("value", "中文")``: a string member with a ``label``."""

    label: str

    def __new__(cls, value: str, label: str) -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value → label, in definition order (for templates and messages)."""
        return {m.value: m.label for m in cls}

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

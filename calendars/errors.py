"""The calendar's own exception (``calendars`` must not import ``workflow``)."""

from __future__ import annotations

from pathlib import Path


class CalendarError(ValueError):
    """A calendar query or override file is invalid; the message is one Chinese sentence.

    ``path`` and ``line`` are set for override-file errors (``line`` is 0 when unknown).
    """

    def __init__(self, message: str, *, path: Path | str | None = None, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        return self.message

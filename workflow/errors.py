"""The one exception hierarchy of duban.

Every user-facing failure is a :class:`DubanError` whose ``message`` is a one-line Chinese
sentence naming what went wrong and where. The CLI catches ``DubanError`` once, prints the
message and exits with ``exit_code``; nothing below the CLI prints or exits.
"""

from __future__ import annotations


class DubanError(Exception):
    """Base class: a user-facing error with a Chinese message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(DubanError):
    """Bad value given by the user: an impossible date, a missing text, a malformed option."""

    exit_code = 2


class NotFound(DubanError):
    """An unknown task, unit, plan, notification…"""

    exit_code = 3


class PermissionDenied(DubanError):
    """Wrong, revoked or missing token, or an action outside the caller's role."""

    exit_code = 4


class Conflict(DubanError):
    """Someone else changed the row first (optimistic lock), or a duplicate."""

    exit_code = 5


class TransitionNotAllowed(DubanError):
    """The lifecycle forbids this trigger from the current state."""

    exit_code = 6


class ConfigError(DubanError):
    """The office's configuration (TOML or environment) is invalid."""

    exit_code = 7


class LedgerError(DubanError):
    """A ledger file cannot be imported; the message names file, sheet/table, row and column."""

    exit_code = 8


class CalendarInputError(DubanError):
    """A calendar override file or calendar query is invalid."""

    exit_code = 9


class DeliveryError(DubanError):
    """Mail could not be delivered (reported to the user, e.g. by ``duban mail test``)."""

    exit_code = 10


class MailSettingsError(DeliveryError):
    """The SMTP settings are wrong (password, sender address, TLS): nothing could be sent and
    every notification stays queued until they are fixed."""


class DatabaseError(DubanError):
    """The database is missing, unreachable or not initialised."""

    exit_code = 11

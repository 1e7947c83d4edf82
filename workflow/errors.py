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


class NotAuthenticated(PermissionDenied):
    """No token, an unknown token or a revoked one (HTTP 401; exit 4 like any refusal)."""


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


class TooLarge(InvalidInput):
    """A request or file over the configured limits (HTTP 413)."""


# HTTP status per error class, for the server door (the most specific class wins).
HTTP_STATUS: dict[type[DubanError], int] = {
    DubanError: 400,
    InvalidInput: 400,
    TooLarge: 413,
    NotFound: 404,
    PermissionDenied: 403,
    NotAuthenticated: 401,
    Conflict: 409,
    TransitionNotAllowed: 409,
    ConfigError: 500,
    LedgerError: 422,
    CalendarInputError: 422,
    DeliveryError: 502,
    DatabaseError: 503,
}


def http_status(exc: DubanError) -> int:
    """The HTTP status for ``exc``: the entry of its nearest class in :data:`HTTP_STATUS`."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 400


def error_code(exc: DubanError) -> str:
    """A stable machine-readable code: the class name in snake case ("not_found")."""
    name = type(exc).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def by_code(code: str) -> type[DubanError]:
    """The error class for a code from :func:`error_code` (the client raises the same class)."""
    stack: list[type[DubanError]] = [DubanError]
    while stack:
        cls = stack.pop()
        if error_code(cls("")) == code:
            return cls
        stack.extend(cls.__subclasses__())
    return DubanError

"""The one exception hierarchy of duban.

Every user-facing failure is a :class:`DubanError` whose ``message`` is a one-line Chinese
sentence naming what went wrong and where. The CLI catches ``DubanError`` once, prints the
message and exits with ``exit_code``; nothing below the CLI prints or exits.
"""

from __future__ import annotations

FIELD = "{field}"  # where a door puts its own name for the field in an error's text


class DubanError(Exception):
    """Base class: a user-facing error with a Chinese message.

    Besides the message an error may carry (all keyword-only, all optional):

    - ``reason``: a stable machine-readable reason code ("session_idle", "text_too_long"); a
      door or a client branches on it, never on the message's text. Defaults to the class's
      :func:`error_code`.
    - ``field``: the domain name of the value at fault ("due", "unit", "evidence", "reason").
      Each door names it its own way: the CLI by its flag, a page by its form label, the API by
      the parameter name.
    - ``hint``: a short Chinese sentence on how to put it right.

    The message may contain ``{field}`` where the field's name goes; :meth:`text` fills it with
    the name a door gives, ``message`` holds it filled as the API names it (``参数 due``).
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.template = message if field and FIELD in message else None
        self.message = (
            message.replace(FIELD, f"参数 {field}") if self.template and field else message
        )
        super().__init__(self.message)
        self.reason = reason or error_code(self)
        self.field = field
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def text(self, name: str | None = None) -> str:
        """The one-line message with the field called ``name`` (a door's own name for it)."""
        if self.template and name:
            message = self.template.replace(FIELD, name)
        else:
            message = self.message
        return " ".join(part.strip() for part in message.splitlines() if part.strip())


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


class TooManyRequests(PermissionDenied):
    """Too many failed tokens from one address: refused for a while (HTTP 429)."""


# HTTP status per error class, for the server door (the most specific class wins).
HTTP_STATUS: dict[type[DubanError], int] = {
    DubanError: 400,
    InvalidInput: 400,
    TooLarge: 413,
    NotFound: 404,
    PermissionDenied: 403,
    NotAuthenticated: 401,
    TooManyRequests: 429,
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


def error_code(exc: DubanError | type[DubanError]) -> str:
    """A stable machine-readable code: the class name in snake case ("not_found")."""
    name = (exc if isinstance(exc, type) else type(exc)).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def by_code(code: str) -> type[DubanError]:
    """The error class for a code from :func:`error_code` (the client raises the same class)."""
    stack: list[type[DubanError]] = [DubanError]
    while stack:
        cls = stack.pop()
        if error_code(cls) == code:
            return cls
        stack.extend(cls.__subclasses__())
    return DubanError


def error_json(exc: DubanError) -> dict:
    """The error as the API answers it: ``{"error": {"code", "reason", "field", "message",
    "hint", "template"}}``. ``code`` is the class (:func:`error_code`, what a client raises
    again), ``reason`` the specific reason code; ``field`` and ``hint`` are null when not known;
    ``template`` is the message with ``{field}`` where a client puts its own name for the field
    (the CLI its flag), null when the message does not name it."""
    message = exc.text()
    template = exc.template
    if template is not None and DubanError(template, field=exc.field).text() != message:
        template = None  # the door rewrote the message (a file's name): the text stands
    return {
        "error": {
            "code": error_code(exc),
            "reason": exc.reason,
            "field": exc.field,
            "message": message,
            "hint": exc.hint,
            "template": template,
        }
    }

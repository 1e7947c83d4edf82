"""How the command line names a field of an error: by its flag.

A :class:`workflow.errors.DubanError` names the value at fault by its domain name (``due``,
``unit``, ``evidence``); the command line says ``--due``, ``--unit``, or ``ADDRESS`` for an
argument. The command that ran is asked first (its option or argument of that name); a domain
name the commands spell differently is in :data:`FLAGS`.
"""

from __future__ import annotations

from types import TracebackType

import click

# domain field -> the flag commands use for it, where the name differs
FLAGS: dict[str, str] = {
    "new_due": "--to",
    "assignment_id": "ASSIGNMENT_ID",
    "request_id": "REQUEST_ID",
    "appeal_id": "APPEAL_ID",
}


def running_context(tb: TracebackType | None) -> click.Context | None:
    """The innermost command's context in a traceback (the command that raised)."""
    found = None
    invoke = click.Context.invoke.__code__
    while tb is not None:
        if tb.tb_frame.f_code is invoke:
            ctx = tb.tb_frame.f_locals.get("self")
            if isinstance(ctx, click.Context):
                found = ctx
        tb = tb.tb_next
    return found


def flag_of(field: str | None, ctx: click.Context | None = None) -> str | None:
    """``--due`` for ``due``: the running command's own option or argument, else :data:`FLAGS`,
    else None (the message then names the field as the API does)."""
    if not field:
        return None
    command = ctx.command if ctx is not None else None
    for param in getattr(command, "params", ()):
        if param.name != field:
            continue
        if isinstance(param, click.Option):
            longs = [o for o in param.opts if o.startswith("--")]
            return (longs or param.opts)[0]
        return param.human_readable_name
    return FLAGS.get(field)


def error_line(exc: object, tb: TracebackType | None = None) -> str:
    """The one line the command line prints for a DubanError: the flag in the field's place,
    or after the message when the message does not name it; the hint after that."""
    from workflow.errors import DubanError

    assert isinstance(exc, DubanError)
    flag = flag_of(exc.field, running_context(tb))
    line = exc.text(flag)
    if flag and exc.template is None and flag not in line:
        line = f"{line}（{flag}）"
    if exc.hint and exc.hint not in line:
        line = f"{line}；{exc.hint}"
    return line

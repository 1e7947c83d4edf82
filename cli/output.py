"""Rendering for the CLI: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import click


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (UTF-8, Chinese kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def console(stderr: bool = False):
    """A rich console writing to click's current stream (works under CliRunner)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    """Print a table; rich measures CJK characters as two cells, so columns stay aligned."""
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    console().print(t)


def local_time(value: str | datetime | None) -> str:
    """An instant (ISO text as the operations return it) as Shanghai wall time, to the minute."""
    if not value:
        return ""
    from zoneinfo import ZoneInfo

    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def info(message: str) -> None:
    click.echo(message)


def warn(message: str) -> None:
    click.echo(f"提示：{message}", err=True)


def json_option(func):
    """The ``--json`` flag shared by every listing or showing command."""
    return click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供脚本使用）")(func)

"""What a door may hand to a ``workflow`` function: plain values within documented limits.

Every operation's parameters pass :func:`check_params` in :mod:`workflow.calls.runner` (the CLI
in local mode and the API), and the pages pass their path, query and form values through
:func:`check_value`; so a hostile value is refused with the same one-line Chinese
:class:`~workflow.errors.InvalidInput` (exit 2, HTTP 400) on every door and on SQLite and
PostgreSQL alike, before any database sees it. Refused:

* integers outside the database's ``INTEGER`` (−2,147,483,648 … 2,147,483,647): ids, limits,
  days, years (SQLite would take 64 bits, PostgreSQL refuses beyond 32);
* text that is not valid Unicode (a lone UTF-16 surrogate such as ``\\ud800``), contains a NUL
  or any other control character — except tab and line breaks in the multi-line texts
  (reports, reasons, contents). Control characters are *refused*, never silently dropped:
  what the person typed is either stored exactly or not at all;
* text longer than its limit (:data:`LIMITS`, in characters; :data:`DEFAULT_LIMIT` for any
  other text), lists longer than :data:`MAX_ITEMS`, values nested deeper than
  :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from workflow.errors import InvalidInput

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL INTEGER; ids are this type

# Characters per parameter, matching (or below) the database column that keeps the value.
NAME = 100  # units, leaders, groups, aliases, token holders: the name columns
LIMITS: dict[str, int] = {
    "name": NAME,
    "rename": NAME,
    "unit": NAME,
    "leader": NAME,
    "holder": NAME,
    "aliases": NAME,
    "add_aliases": NAME,
    "remove_aliases": NAME,
    "groups": NAME,
    "add_groups": NAME,
    "remove_groups": NAME,
    "units": NAME,
    "lead": NAME,
    "robot_mentions": NAME,
    "title": 500,  # a task's title (a leader's title: see OPERATION_LIMITS)
    "emails": 200,
    "add_emails": 200,
    "remove_emails": 200,
    "email": 200,
    "address": 200,
    "ref": 300,
    "row": 300,
    "plan": 300,
    "reason": 2_000,
    "text": 20_000,  # a unit's report
    "content": 20_000,
    "evidence": 1_000,  # one line of evidence: a link or a file name
    "robot": 2_000,  # a robot's webhook address
    "robot_token": 2_000,
    "robot_secret": 2_000,
}
OPERATION_LIMITS: dict[tuple[str, str], int] = {
    ("leader.add", "title"): 100,
    ("leader.edit", "title"): 100,
}
DEFAULT_LIMIT = 1_000  # any other text: dates, states, kinds, file names, paths
MULTILINE = frozenset({"reason", "text", "content"})
MAX_ITEMS = 1_000  # elements of a list parameter
MAX_DEPTH = 4  # a parameter is a value or a list of values; nothing deeper is ever needed

_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTILINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL_NAMES = {"\x00": "NUL", "\t": "制表符", "\n": "换行", "\r": "回车"}


def limit_of(name: str, operation: str | None = None) -> int:
    """The most characters parameter ``name`` may hold (in ``operation``)."""
    if operation is not None and (operation, name) in OPERATION_LIMITS:
        return OPERATION_LIMITS[operation, name]
    return LIMITS.get(name, DEFAULT_LIMIT)


def _what(name: str, label: str) -> str:
    """How a message names the value: the label given, else the field's place, which each door
    fills with its own name for it (the flag, the form label, ``参数 <name>``)."""
    return label or "{field} "


def _bad(name: str, label: str, message: str, reason: str) -> InvalidInput:
    return InvalidInput(message, reason=reason, field=None if label else name)


def _char(c: str) -> str:
    return _CONTROL_NAMES.get(c, f"U+{ord(c):04X}")


def check_text(name: str, value: str, operation: str | None = None, label: str = "") -> str:
    """``value`` unchanged if it may be stored as parameter ``name``; else InvalidInput."""
    what = _what(name, label)
    bad = _SURROGATE.search(value)
    if bad:
        raise _bad(
            name,
            label,
            f"{what}含有无效的 Unicode 字符（第 {bad.start() + 1} 个字符）",
            "bad_unicode",
        )
    bad = (_MULTILINE_BAD if name in MULTILINE else _SINGLE_LINE_BAD).search(value)
    if bad:
        raise _bad(
            name,
            label,
            f"{what}含有不允许的控制字符 {_char(bad.group())}（第 {bad.start() + 1} 个字符）",
            "control_character",
        )
    limit = limit_of(name, operation)
    if len(value) > limit:
        raise _bad(name, label, f"{what}过长：{len(value)} 个字符，上限 {limit} 个字符", "too_long")
    return value


def check_int(name: str, value: int, label: str = "") -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise _bad(
            name,
            label,
            f"{_what(name, label)}超出范围：应在 {INT_MIN} 到 {INT_MAX} 之间",
            "out_of_range",
        )
    return value


def check_value(
    name: str, value: Any, operation: str | None = None, label: str = "", depth: int = 0
) -> Any:
    """``value`` unchanged when every text, number and list in it is within the limits."""
    if depth > MAX_DEPTH:
        raise _bad(name, label, f"{_what(name, label)}嵌套过深", "too_deep")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return check_int(name, value, label)
    if isinstance(value, str):
        return check_text(name, value, operation, label)
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise _bad(
                name, label, f"{_what(name, label)}的项目过多：上限 {MAX_ITEMS} 项", "too_many"
            )
        for item in value:
            check_value(name, item, operation, label, depth + 1)
        return value
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise _bad(
                name, label, f"{_what(name, label)}的项目过多：上限 {MAX_ITEMS} 项", "too_many"
            )
        for key, item in value.items():
            check_value(name, key, operation, label, depth + 1)
            check_value(name, item, operation, label, depth + 1)
        return value
    return value  # a local door's own objects (paths, callbacks): not from a request


def check_raw(name: str, text: str, *, as_int: bool = False, label: str = "") -> None:
    """A value as it came in a URL or a form (text): within the limits of an integer
    (``as_int``, when it looks like one: anything else is the parser's to refuse) or a text."""
    if as_int and re.fullmatch(r"\s*[+-]?\d+\s*", text):
        digits = text.strip().lstrip("+-").lstrip("0")
        check_int(name, INT_MAX + 1 if len(digits) > 12 else int(text), label)
        return
    check_text(name, text, label=label)


def check_params(params: Mapping[str, Any], operation: str | None = None) -> None:
    """Every parameter of a request within the limits (see the module doc); else InvalidInput."""
    for name, value in params.items():
        check_text("name", name, label="参数名")
        check_value(name, value, operation)

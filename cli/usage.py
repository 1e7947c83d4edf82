"""click's own usage errors ("Missing argument …"), said in Chinese on one line."""

from __future__ import annotations

import re

import click

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^No such command '(.+?)'\.?$"), "没有“{0}”这个命令"),
    (re.compile(r"^No such option:? '?(.+?)'?\.?$"), "没有 {0} 这个选项"),
    (re.compile(r"^Missing argument '(.+?)'\.?$"), "缺少参数 {0}"),
    (re.compile(r"^Missing option '(.+?)'\.?$"), "缺少选项 {0}"),
    (re.compile(r"^Option '(.+?)' requires an argument\.?$"), "选项 {0} 需要一个值"),
    (
        re.compile(r"^Invalid value for '(.+?)': '(.+?)' is not a valid integer\.?$"),
        "{0} 的值“{1}”不是有效的整数",
    ),
    (
        re.compile(r"^Invalid value for '(.+?)': '(.+?)' is not a valid float\.?$"),
        "{0} 的值“{1}”不是有效的数字",
    ),
    (
        re.compile(r"^Invalid value for '(.+?)': '(.+?)' is not one of (.+?)\.?$"),
        "{0} 的值“{1}”无效，可选：{2}",
    ),
    (
        re.compile(
            r"^Invalid value for '(.+?)': (?:File|Path|Directory) '(.+?)' does not exist\.?$"
        ),
        "{0}：文件“{1}”不存在",
    ),
    (re.compile(r"^Invalid value for '(.+?)': (.+)$"), "{0} 的值无效：{1}"),
    (re.compile(r"^Got unexpected extra arguments? \((.+?)\)$"), "多余的参数：{0}"),
]
_HINT = re.compile(r"\s*(?:Did you mean|\(Possible options:)\s*(.+?)\)?\??$")


def usage_message(exc: click.UsageError) -> str:
    """One Chinese line: what was wrong and where to read the usage."""
    text = exc.format_message().strip().replace("\n", " ")
    hint = ""
    match = _HINT.search(text)
    if match:
        hint = f"，是否想用 {match.group(1).strip()}"
        text = text[: match.start()].strip()
    message = f"命令用法不正确：{text}"
    for pattern, template in _PATTERNS:
        found = pattern.match(text)
        if found:
            message = template.format(*found.groups())
            break
    where = exc.ctx.command_path if exc.ctx is not None else "duban"
    return f"{message}{hint}（用 {where} --help 查看用法）"

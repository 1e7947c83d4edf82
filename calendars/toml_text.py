"""tomllib's English syntax errors (and a file that is not UTF-8) said in Chinese, with the line.

Here because ``calendars`` is the lowest package that reads TOML: the calendar overrides use it,
and so does ``workflow.config`` for duban.toml (arrows point down, never up).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

_POS = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)")
_REASONS = [  # tomllib's messages (start of), said in Chinese
    ("Invalid value", '值无效（字符串要加引号，如 key = "值"）'),
    ("Cannot overwrite a value", "同一个键或表出现了两次"),
    ("Cannot declare", "同一个表出现了两次"),
    ("Cannot redefine namespace", "同一个表出现了两次"),
    ("Cannot mutate immutable namespace", "不能在行内表或数组之后再给它添加键"),
    ("Duplicate inline table key", "行内表 { … } 里同一个键出现了两次"),
    ("Unclosed inline table", "行内表缺少结尾的 }（行内表必须写在一行内）"),
    ("Unclosed array", "数组缺少结尾的 ]"),
    ("Unterminated string", "字符串缺少结尾的引号"),
    (
        "Unescaped '\\' in a string",
        "字符串中的 \\ 要写成 \\\\（或用单引号括住路径，如 'C:\\目录'）",
    ),
    (
        "Invalid hex value",
        "字符串中的 \\u 或 \\U 转义无效（Windows 路径请用单引号括住，如 'C:\\Users'）",
    ),
    ("Escaped character is not a Unicode scalar value", "字符串中的 \\u 转义无效"),
    ("Illegal character", "字符串中含有不允许的控制字符"),
    ("Invalid date or datetime", "日期或时间无效（应形如 2027-02-06）"),
    ("Expected ']]'", "数组表名缺少结尾的 ]]"),
    ("Expected ']'", "表名缺少结尾的 ]"),
    ("Expected '=' after a key", "键后面缺少 ="),
    ("Expected newline or end of document", "一行只能写一个 键 = 值"),
    ("Found invalid character", "此处有不允许的字符"),
    ("Invalid statement", "无法识别的行"),
    ("Invalid initial character for a key part", "键名无效"),
]


def toml_error_line(exc: tomllib.TOMLDecodeError) -> int:
    """The line tomllib points at (0 when it says "at end of document")."""
    found = _POS.search(str(exc))
    return int(found.group(1)) if found and found.group(1) else 0


def toml_error_reason(exc: tomllib.TOMLDecodeError) -> str | None:
    """What tomllib complains about, in Chinese (None for a message this table lacks)."""
    message = str(exc)
    return next((zh for en, zh in _REASONS if message.startswith(en)), None)


def toml_error_text(exc: tomllib.TOMLDecodeError) -> str:
    """``第 3 行第 5 列：值无效…``: tomllib's English error as one Chinese phrase."""
    pos = _POS.search(str(exc))
    where = "文件末尾"
    if pos and pos.group(1):
        where = f"第 {pos.group(1)} 行第 {pos.group(2)} 列"
    return f"{where}：{toml_error_reason(exc) or '不是合法的 TOML'}"


def decode_toml_bytes(data: bytes) -> str:
    """The text of a TOML file: UTF-8, with a byte-order mark (Windows Notepad) tolerated.

    Raises :class:`TomlEncodingError` naming the line of the first byte that is not UTF-8.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TomlEncodingError(
            f"第 {line} 行不是 UTF-8 编码（可能用记事本另存为了 ANSI/GBK），"
            "请用 UTF-8 编码重新保存",
            line,
        ) from None


def loads(data: bytes) -> dict[str, Any]:
    """:func:`tomllib.loads` of a file's bytes (see :func:`decode_toml_bytes`)."""
    return tomllib.loads(decode_toml_bytes(data))


class TomlEncodingError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

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
_HINT = re.compile(r"\s*\(?(?:Did you mean(?: one of:)?|\(Possible options:)\s*(.+?)\)?\??\)?$")

# click's own words in --help, said in Chinese.
_HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数", "Usage": "用法"}
_HELP_TEXT = [
    ("Show this message and exit.", "显示本帮助并退出。"),
    ("Show the version and exit.", "显示版本号并退出。"),
    ("[required]", "[必填]"),
    ("[default: ", "[默认："),
]
_METAVARS = {
    "TEXT": "文本",
    "INTEGER": "整数",
    "FLOAT": "数字",
    "PATH": "路径",
    "FILENAME": "文件",
    "FILE": "文件",
    "DIRECTORY": "目录",
    "BOOLEAN": "是/否",
}
_METAVAR = re.compile(r"\b(?:" + "|".join(_METAVARS) + r")\b")
_USAGE_WORDS = [("[OPTIONS]", "[选项]"), ("COMMAND", "命令"), ("[ARGS]...", "[参数]...")]


class ChineseHelpFormatter(click.HelpFormatter):
    """``--help`` with Chinese headings (用法 / 选项 / 命令) and click's own texts translated."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, chinese in _USAGE_WORDS:
            args = args.replace(english, chinese)
        super().write_usage(prog, args, prefix="用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        """click's definition list, measured in terminal cells (CJK counts two)."""
        from cli.output import cell_width, wrap_cell

        items = []
        for term, text in rows:
            term = _METAVAR.sub(lambda m: _METAVARS[m.group(0)], term)
            for english, chinese in _HELP_TEXT:
                text = text.replace(english, chinese)
            items.append((term, text, cell_width(term)))
        first = min(max((w for _, _, w in items), default=0), col_max)
        indent = " " * self.current_indent
        hang = " " * (self.current_indent + first + col_spacing)
        text_width = max((self.width or 80) - len(hang), 20)
        for term, text, w in items:
            self.write(indent + term)
            if not text:
                self.write("\n")
                continue
            if w <= first:
                self.write(" " * (first - w + col_spacing))
            else:
                self.write("\n" + hang)
            lines = wrap_cell(" ".join(text.split()), text_width)
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(hang + line + "\n")


def usage_message(exc: click.UsageError) -> str:
    """One Chinese line: what was wrong, the closest command, and where to read the usage."""
    where = exc.ctx.command_path if exc.ctx is not None else "duban"
    text = exc.format_message().strip().replace("\n", " ")
    hint = ""
    match = _HINT.search(text)
    if match:
        hint = f"，是否想用 {match.group(1).strip()}"
        text = text[: match.start()].strip()
    if isinstance(exc, click.exceptions.NoSuchCommand) and exc.possibilities:
        hint = "，是否想用 " + " 或 ".join(f"{where} {p}" for p in exc.possibilities[:3])
    message = f"命令用法不正确：{text}"
    for pattern, template in _PATTERNS:
        found = pattern.match(text)
        if found:
            message = template.format(*found.groups())
            break
    return f"{message}{hint}（用 {where} --help 查看用法）"

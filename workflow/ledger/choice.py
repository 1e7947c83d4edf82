"""The office's choice of what each column holds (``--columns 细化分工=content,责任处室=lead``,
the preview's selects), and the mapping the import shows: each column, its header, its role and
how that role was found (header, content, or the office's choice)."""

from __future__ import annotations

import re
from typing import Any

from workflow.errors import InvalidInput
from workflow.ledger.headers import LABELS, Header, _key
from workflow.ledger.readers.document import column_letter

# the names the office uses (CLI and page) → the parser's roles
CHOICES: dict[str, str] = {
    "section": "section",
    "number": "number",
    "title": "task",
    "content": "requirement",
    "metric": "metric",
    "lead": "lead",
    "responsible": "responsible",
    "cooperating": "cooperating",
    "deadline": "deadline",
    "progress": "progress",
    "remark": "remark",
    "ignore": "ignore",
}
ROLE_CHOICE = {role: name for name, role in CHOICES.items()}
ROLE_LABELS = {
    **LABELS,
    "remark": "备注（不导入，提示）",
    "ignore": "不导入",
    "derived": "duban 生成的列（不导入）",
}
HOW_LABELS = {"header": "表头", "content": "内容", "option": "指定"}


def parse_columns(text: str | None) -> dict[str, str]:
    """ "细化分工=content,责任处室=lead" → {column: role}; a one-line error for a bad entry."""
    if not text or not text.strip():
        return {}
    choice: dict[str, str] = {}
    names = "、".join(f"{n}（{ROLE_LABELS[r]}）" for n, r in CHOICES.items())
    for part in re.split(r"[,，;；]", text):
        part = part.strip()
        if not part:
            continue
        column, sep, role = part.replace("＝", "=").partition("=")
        column, role = column.strip(), role.strip()
        if not sep or not column or not role:
            raise InvalidInput(
                f"--columns 的写法无效：“{part}”（应为 列名=用途，如 细化分工=content）"
            )
        wanted = CHOICES.get(role.lower()) or next(
            (r for r, label in ROLE_LABELS.items() if label == role and r in ROLE_CHOICE), None
        )
        if wanted is None:
            raise InvalidInput(f"--columns 中“{part}”的用途“{role}”无效，可用：{names}")
        choice[column] = wanted
    return choice


def _letter_index(name: str) -> int | None:
    """ "E" / "E列" → 4; "第5列" / "5" → 4."""
    m = re.fullmatch(r"第?\s*(\d{1,3})\s*列?", name)
    if m:
        return int(m.group(1)) - 1 if int(m.group(1)) > 0 else None
    m = re.fullmatch(r"([A-Za-z]{1,2})\s*列?", name)
    if m:
        index = 0
        for ch in m.group(1).upper():
            index = index * 26 + ord(ch) - 64
        return index - 1
    return None


def choice_column(header: Header, name: str) -> int | None:
    """The column ``name`` designates in this header: its header text, else its letter/number."""
    key = _key(name)
    for c, text in sorted({**header.texts, **header.names}.items()):
        if _key(text) == key:
            return c
    return _letter_index(name.strip())


def apply_choice(header: Header, choice: dict[str, str], matched: set[str]) -> None:
    """Set the office's roles on ``header``; ``matched`` collects the names found."""
    for name, role in choice.items():
        column = choice_column(header, name)
        if column is None:
            continue
        matched.add(name)
        for cols in header.columns.values():
            if column in cols:
                cols.remove(column)
        for first, cols in list(header.spans.items()):
            if column in cols:
                header.spans.pop(first)
        header.columns = {r: c for r, c in header.columns.items() if c}
        header.columns.setdefault(role, []).append(column)
        header.columns[role].sort()
        header.how[column] = "option"


def check_choice(choice: dict[str, str], matched: set[str], headers: list[Header]) -> None:
    missing = [name for name in choice if name not in matched]
    if missing:
        names = list(dict.fromkeys(t for h in headers for t in h.names.values() if t))
        raise InvalidInput(
            f"--columns 中的列“{missing[0]}”在表头中找不到（表头有：{'、'.join(names[:12])}；"
            "也可写列号，如 E=content）"
        )


def mapping(headers: list[Header]) -> list[dict[str, Any]]:
    """Each column's role as chosen, once per distinct (column, header text, role)."""
    out: dict[tuple, dict[str, Any]] = {}
    for header in headers:
        for role, cols in header.columns.items():
            for c in cols:
                label = header.text(c)
                key = (c, label, role)
                if key in out:
                    continue
                out[key] = {
                    "column": header.row.column_name(c),
                    "letter": column_letter(c),
                    "header": label,
                    "role": ROLE_CHOICE.get(role, role),
                    "role_label": ROLE_LABELS.get(role, role),
                    "how": header.how.get(c, "header"),
                }
        taken = {c for cols in header.columns.values() for c in cols}
        taken |= {c for cols in header.spans.values() for c in cols}
        width = max([header.width, *(c + 1 for c in taken)])
        for c in range(width):
            key = (c, header.text(c), "")
            if c in taken or key in out:
                continue
            out[key] = {
                "column": header.row.column_name(c),
                "letter": column_letter(c),
                "header": header.text(c),
                "role": "",
                "role_label": "未使用",
                "how": "header",
            }
    return [out[k] for k in sorted(out, key=lambda k: (k[0], k[1]))]


def by_letter(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per column letter for the preview's selects (header texts joined)."""
    rows: dict[str, dict[str, Any]] = {}
    for c in columns:
        row = rows.get(c["letter"])
        if row is None:
            rows[c["letter"]] = {**c, "headers": [c["header"]] if c["header"] else []}
        elif c["header"] and c["header"] not in row["headers"]:
            row["headers"].append(c["header"])
    return list(rows.values())

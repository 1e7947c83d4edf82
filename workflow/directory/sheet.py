"""A directory sheet (单位名录表): units with their aliases, groups, e-mail and leader, read
from .xlsx or .csv, previewed, then written through :func:`add_unit` / :func:`edit_unit`.

Columns are found by their header (first row that names 单位名称): ``单位名称`` (or 单位 / 名称 /
科室) is required; ``别名``, ``分组``, ``邮箱``, ``分管领导`` are optional. A cell may list several
values separated by 、 , ， ; or a new line. A known unit (by name or alias) gets what the sheet
adds — aliases, groups and addresses are added, never removed; a leader cell replaces the
leader. A row naming an unknown leader, an invalid address or no unit is an error of that row:
the import writes nothing while any row has an error.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from workflow.directory.roles import Caller, require_role
from workflow.directory.units import (
    _EMAIL,
    add_unit,
    all_units,
    clean,
    edit_unit,
    resolve_in,
    split_alias,
)
from workflow.errors import InvalidInput
from workflow.storage.models import Person

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "单位", "名称", "科室", "部门", "责任单位"),
    "aliases": ("别名", "简称", "其他名称"),
    "groups": ("分组", "所属分组", "类别"),
    "emails": ("邮箱", "电子邮箱", "联系邮箱", "邮件"),
    "leader": ("分管领导", "领导"),
}
MAX_ROWS = 2000
_SPLIT = re.compile(r"[、,，;；\n]+")


@dataclass
class SheetRow:
    line: int  # the sheet's row number, as the office sees it
    name: str
    aliases: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    leader: str | None = None
    action: str = ""  # add | update | same | error
    changes: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "name": self.name,
            "aliases": self.aliases,
            "groups": self.groups,
            "emails": self.emails,
            "leader": self.leader,
            "action": self.action,
            "changes": self.changes,
            "error": self.error,
        }


def _cells(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a damaged or disguised file: say so, not a traceback
            raise InvalidInput(f"无法读取名录表“{path.name}”：不是有效的 .xlsx 文件") from exc
        try:
            sheet = book.worksheets[0]
            return [
                ["" if v is None else str(v).strip() for v in row]
                for _, row in zip(
                    range(MAX_ROWS + 20), sheet.iter_rows(values_only=True), strict=False
                )
            ]
        finally:
            book.close()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput(f"无法读取名录表“{path.name}”：编码无法识别（请另存为 UTF-8）")
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    raise InvalidInput(f"名录表“{path.name}”应为 .xlsx 或 .csv 文件")


def _header(row: list[str]) -> dict[str, int]:
    """The columns a header row names: key → column index (the first of each)."""
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, cell in enumerate(row):
            if clean(cell) in names and key not in columns:
                columns[key] = i
    return columns


def read_sheet(path: Path) -> list[SheetRow]:
    """The sheet's rows (header found by name); bad shape → InvalidInput naming what is wrong."""
    cells = _cells(Path(path))
    found = next(
        ((i, cols) for i, row in enumerate(cells[:20]) if "name" in (cols := _header(row))),
        None,
    )
    if found is None:
        raise InvalidInput("名录表前 20 行中没有找到“单位名称”列（表头应含 单位名称、邮箱 等）")
    index, columns = found
    body = cells[index + 1 :]
    if len(body) > MAX_ROWS:
        raise InvalidInput(f"名录表超过 {MAX_ROWS} 行，请拆分后分批导入")

    def cell(row: list[str], key: str) -> str:
        i = columns.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    def many(text: str) -> list[str]:
        return [clean(p) for p in _SPLIT.split(text) if clean(p)]

    rows = []
    for offset, row in enumerate(body):
        if not any(c.strip() for c in row):
            continue
        rows.append(
            SheetRow(
                line=index + 2 + offset,
                name=clean(cell(row, "name")),
                aliases=many(cell(row, "aliases")),
                groups=many(cell(row, "groups")),
                emails=[p.strip() for p in _SPLIT.split(cell(row, "emails")) if p.strip()],
                leader=clean(cell(row, "leader")) or None,
            )
        )
    if not rows:
        raise InvalidInput("名录表在表头之后没有任何单位")
    return rows


def _plan(session: Session, rows: list[SheetRow]) -> None:
    units = all_units(session, include_inactive=True)
    leaders = {p.name for p in session.exec(select(Person)).all()}
    seen: dict[str, int] = {}
    for r in rows:
        base, bracket = split_alias(r.name)
        if not base:
            r.action, r.error = "error", "单位名称为空"
            continue
        r.name = base
        r.aliases = list(dict.fromkeys([*bracket, *r.aliases]))
        bad = [e for e in r.emails if not _EMAIL.match(e)]
        if bad:
            r.action, r.error = "error", f"邮箱“{bad[0]}”格式不正确"
            continue
        if r.leader and r.leader not in leaders:
            r.action, r.error = "error", f"分管领导“{r.leader}”不在领导名录中，请先新增该领导"
            continue
        if base in seen:
            r.action, r.error = "error", f"与第 {seen[base]} 行重复"
            continue
        seen[base] = r.line
        found = resolve_in(units, base, parts=False)
        if found is None:
            r.action = "add"
            continue
        u = found.unit
        r.name = u.name
        new_aliases = [a for a in r.aliases if a not in u.aliases and a != u.name]
        new_groups = [g for g in r.groups if g not in u.groups]
        new_emails = [e for e in r.emails if e not in u.emails]
        r.aliases, r.groups, r.emails = new_aliases, new_groups, new_emails
        changes = [
            *(f"别名 +{a}" for a in new_aliases),
            *(f"分组 +{g}" for g in new_groups),
            *(f"邮箱 +{e}" for e in new_emails),
        ]
        holder = session.get(Person, u.leader_id) if u.leader_id else None
        current = holder.name if holder else None
        if r.leader and r.leader != current:
            changes.append(f"分管领导 {current or '（无）'} → {r.leader}")
        else:
            r.leader = None
        r.changes = changes
        r.action = "update" if changes else "same"


def import_directory(
    session: Session,
    caller: Caller,
    path: Path,
    now: datetime,
    *,
    dry_run: bool = True,
) -> dict[str, Any]:
    """Preview (``dry_run``) or write a directory sheet; office only.

    Returns ``{"rows": [...], "added": n, "updated": n, "same": n, "errors": n, "written": bool}``.
    A sheet with any error row writes nothing (the rows say which and why).
    """
    require_role(caller, "office", "导入单位名录")
    rows = read_sheet(path)
    _plan(session, rows)
    counts = {k: sum(1 for r in rows if r.action == k) for k in ("add", "update", "same", "error")}
    written = False
    if not dry_run:
        if counts["error"]:
            first = next(r for r in rows if r.action == "error")
            raise InvalidInput(
                f"名录表第 {first.line} 行：{first.error}（共 {counts['error']} 行有误，未写入）"
            )
        for r in rows:
            if r.action == "add":
                add_unit(
                    session,
                    caller,
                    r.name,
                    now,
                    aliases=r.aliases,
                    groups=r.groups,
                    emails=r.emails,
                    leader=r.leader,
                )
            elif r.action == "update":
                edit_unit(
                    session,
                    caller,
                    r.name,
                    now,
                    add_aliases=r.aliases,
                    add_groups=r.groups,
                    add_emails=r.emails,
                    leader=r.leader,
                )
        written = True
    return {
        "rows": [r.to_dict() for r in rows],
        "added": counts["add"],
        "updated": counts["update"],
        "same": counts["same"],
        "errors": counts["error"],
        "written": written,
    }

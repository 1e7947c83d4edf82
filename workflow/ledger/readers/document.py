"""What every reader produces: located rows (:class:`Row`) in streams of a :class:`SourceDocument`,
and the errors that name file, place and problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workflow.errors import LedgerError

SUPPORTED = (".xlsx", ".docx", ".csv")


# The first bytes of an OLE2 compound file: encrypted OOXML files and the old .xls/.doc formats.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


_ENCRYPTED_MARKER = "EncryptedPackage".encode("utf-16-le")


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Row:
    """One row of a sheet/table/CSV (or one paragraph of a Word document)."""

    cells: tuple[str, ...]
    number: int  # 1-based: sheet row, table row, CSV record, or paragraph number
    place: str  # "工作表“台账”", "第2个表格", "正文" (Word paragraphs), "" (CSV)
    letters: bool = False  # columns named A, B, C (xlsx) rather than 第1列
    paragraph: bool = False
    merged: frozenset[int] = frozenset()
    width: int = 0  # the table's width before trailing empty cells were dropped

    def cell(self, index: int | None) -> str:
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]

    def values(self) -> list[str]:
        """The non-empty cell texts, each once, in order (a merged title row gives one)."""
        return list(dict.fromkeys(c for c in self.cells if c))

    def column_name(self, index: int) -> str:
        return f"{column_letter(index)}列" if self.letters else f"第{index + 1}列"

    def where(self, column: int | None = None) -> str:
        """Chinese location: "工作表“台账”第5行E列", "第2个表格第3行第4列", "正文第4段"."""
        if self.paragraph:
            return f"{self.place}第{self.number}段"
        place = f"{self.place}第{self.number}行"
        if column is not None:
            place += self.column_name(column)
        return place


@dataclass
class Stream:
    """A sheet, a Word document body or a CSV file: rows in order."""

    name: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class SourceDocument:
    path: Path
    format: str  # xlsx | docx | csv
    streams: list[Stream] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(s.rows) for s in self.streams)

    @property
    def has_tables(self) -> bool:
        return any(not r.paragraph for s in self.streams for r in s.rows)


def ledger_error(path: Path, where: str, problem: str) -> LedgerError:
    """A LedgerError with one line: "文件名：位置：问题"."""
    text = f"{path.name}：{where}：{problem}" if where else f"{path.name}：{problem}"
    return LedgerError(" ".join(text.split()))


def clip(text: str, limit: int = 30) -> str:
    """A cell's text shortened for a one-line message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def check_container(path: Path, expected: str) -> None:
    """Refuse files that are not what their extension says, with the likely reason."""
    if not path.exists():
        raise LedgerError(f"找不到文件：{path}")
    if path.is_dir():
        raise LedgerError(f"{path} 是目录，不是台账文件")
    with path.open("rb") as fh:
        head = fh.read(8)
        if head == OLE_MAGIC:
            fh.seek(0)
            if _ENCRYPTED_MARKER in fh.read(1 << 20):
                raise ledger_error(
                    path, "", "文件已加密（设置了打开密码），请在 Excel/WPS 中取消密码后再导入"
                )
            old = {"xlsx": ".xls", "docx": ".doc"}.get(expected, "旧版 Office")
            raise ledger_error(
                path, "", f"文件是旧版 {old} 格式，请在 Excel/WPS 中另存为 .{expected} 后再导入"
            )
    if expected in ("xlsx", "docx") and head[:4] != b"PK\x03\x04":
        if not head:
            raise ledger_error(path, "", "文件是空的")
        raise ledger_error(path, "", f"文件已损坏或不是有效的 .{expected} 文件")

"""Bounds on what an import reads, checked before any parser sees the file.

A ledger is a few hundred rows; a file of a million rows, a 1.5 GB cell or an XML bomb is a
mistake or an attack, and must cost seconds, not minutes and gigabytes. ``[import]`` in
duban.toml sets the limits (each optional)::

    [import]
    max_file_mb = 50          # the file as stored
    max_unpacked_mb = 200     # .xlsx/.docx: the XML parts once unzipped
    max_rows = 50000          # rows of all sheets / tables, records of a CSV
    max_cells = 1000000       # cells
    max_cell_chars = 32767    # characters in one cell (Excel's own limit)

What is checked, in order: the file's size; for .xlsx/.docx the unpacked sizes that the zip
directory declares (zipfile never inflates a part past its declared size); no part declares a
DTD or an entity (Office never writes one: it is how XXE and billion-laughs files work; openpyxl
also parses through ``defusedxml``); rows and cells counted by streaming the sheet or document
XML, a chunk at a time (a tag cut by a chunk boundary may count twice: the counts are
upper bounds). Cell lengths are checked by the readers as they take each cell.
Every refusal is a one-line :class:`~workflow.errors.LedgerError` (exit code 8).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from workflow.errors import ConfigError, LedgerError

_MB = 1024 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImportLimits:
    max_file_mb: int = 50
    max_unpacked_mb: int = 200
    max_rows: int = 50_000
    max_cells: int = 1_000_000
    max_cell_chars: int = 32_767


DEFAULT_LIMITS = ImportLimits()


def import_limits(config: Any) -> ImportLimits:
    """The ``[import]`` section of duban.toml, validated (a wrong value: ConfigError, exit 7)."""
    raw = config.section("import") if config is not None else {}
    known = {f.name for f in fields(ImportLimits)}
    values: dict[str, int] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"配置文件 [import] 中有未知的设置“{key}”（可用：{'、'.join(sorted(known))}）"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"配置文件 [import] 中的 {key} 应为正整数，得到 {value!r}")
        values[key] = value
    return ImportLimits(**values)


def _refuse(path: Path, problem: str) -> LedgerError:
    return LedgerError(f"{path.name}：{problem}")


def check_file_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_mb * _MB:
        raise _refuse(
            path,
            f"文件有 {size / _MB:.1f} MB，超过导入上限 {limits.max_file_mb} MB"
            "（[import] max_file_mb），不像一份任务台账",
        )


_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# what opens a row and a cell in each format (Excel and Word write no namespace prefix here)
_ROW = {"xlsx": (b"<row ", b"<row>"), "docx": (b"<w:tr ", b"<w:tr>")}
_CELL = {"xlsx": (b"<c ", b"<c>"), "docx": (b"<w:tc ", b"<w:tc>")}
_OVERLAP = 8


def _content_parts(kind: str, names: list[str]) -> list[str]:
    if kind == "xlsx":
        return [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    return [n for n in names if n == "word/document.xml"]


def check_package(path: Path, kind: str, limits: ImportLimits) -> None:
    """The checks on an .xlsx/.docx before it is opened by openpyxl / python-docx."""
    check_file_size(path, limits)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # the reader says the file is damaged, in its own words
    with archive:
        infos = archive.infolist()
        unpacked = sum(i.file_size for i in infos)
        if unpacked > limits.max_unpacked_mb * _MB:
            raise _refuse(
                path,
                f"文件解压后有 {unpacked / _MB:.0f} MB，超过导入上限 {limits.max_unpacked_mb} MB"
                "（[import] max_unpacked_mb），可能是恶意构造的压缩文件",
            )
        content = set(_content_parts(kind, [i.filename for i in infos]))
        rows = cells = 0
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            counting = info.filename in content
            rows, cells = _scan(archive, info, kind, counting, path, limits, (rows, cells))


def _scan(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    kind: str,
    counting: bool,
    path: Path,
    limits: ImportLimits,
    counts: tuple[int, int],
) -> tuple[int, int]:
    """Stream one XML part: refuse a DTD; add its rows and cells to ``counts`` when
    ``counting``, refusing as soon as a limit is passed."""
    rows, cells = counts
    tail = b""
    try:
        with archive.open(info) as fh:
            while True:
                data = fh.read(_CHUNK)
                if not data:
                    break
                block = tail + data
                if _DTD.search(block):
                    raise _refuse(
                        path,
                        f"文件中的 {info.filename} 含有 XML 的 DOCTYPE/ENTITY 声明"
                        "（Office 文件从不使用，可能是恶意构造的文件），已拒绝导入",
                    )
                if counting:  # a tag cut by the chunk boundary is found in the next block
                    rows += sum(block.count(tag) for tag in _ROW[kind])
                    cells += sum(block.count(tag) for tag in _CELL[kind])
                    _check_counts(path, rows, cells, limits)
                tail = block[-_OVERLAP:]
    except (zipfile.BadZipFile, OSError, EOFError):
        return rows, cells  # damaged: the reader reports it
    return rows, cells


def _check_counts(path: Path, rows: int, cells: int, limits: ImportLimits) -> None:
    if rows > limits.max_rows:
        raise _refuse(
            path,
            f"文件超过 {limits.max_rows} 行（[import] max_rows），不像一份任务台账，已拒绝导入",
        )
    if cells > limits.max_cells:
        raise _refuse(
            path,
            f"文件超过 {limits.max_cells} 个单元格（[import] max_cells），不像一份任务台账，已拒绝导入",
        )


def check_text(path: Path, data: bytes, limits: ImportLimits) -> None:
    """A CSV: the number of lines, before decoding."""
    lines = data.count(b"\n") + 1
    if lines > limits.max_rows:
        _check_counts(path, lines, 0, limits)


def check_cell(path: Path, where: str, text: str, limits: ImportLimits) -> None:
    if len(text) > limits.max_cell_chars:
        raise _refuse(
            path,
            f"{where}：单元格有 {len(text)} 个字符，超过上限 {limits.max_cell_chars}"
            "（[import] max_cell_chars），已拒绝导入",
        )

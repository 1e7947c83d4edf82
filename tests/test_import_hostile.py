"""Malicious or absurd files: refused with 错误： and exit 8, before a parser spends time on them.

Every file is built here: a real ledger written with openpyxl / python-docx, then one XML part
rewritten (an XXE entity, a billion-laughs DTD) or a part written straight into the zip (a
sheet of 1,000,000 rows, a cell of 2 MB).
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from ledgers import write_csv, write_docx, write_xlsx

from workflow.config import Config
from workflow.errors import ConfigError, LedgerError
from workflow.ledger.readers import read_source
from workflow.ledger.readers.limits import DEFAULT_LIMITS, ImportLimits, import_limits

HEADER = ["序号", "工作任务", "责任单位", "完成时限"]
ROWS = [["2026年政务公开工作台账"], HEADER, [1, "公开预算", "办公室", "11月"]]

XXE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
)
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
)


def _rewrite(path: Path, part: str, change) -> Path:
    """Copy the zip with one part's bytes changed."""
    out = path.with_name("hostile-" + path.name)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, change(data) if info.filename == part else data)
    return out


def _with_prolog(prolog: bytes, entity: bytes):
    def change(data: bytes) -> bytes:
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        # the entity used inside the first text node, as an attack would
        body = body.replace(b"<t>", b"<t>" + entity, 1).replace(b"<w:t>", b"<w:t>" + entity, 1)
        return prolog + body.lstrip()

    return change


def _xlsx(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "台账.xlsx", ROWS)


def _docx(tmp_path: Path) -> Path:
    return write_docx(tmp_path / "台账.docx", [ROWS[0][0], {"rows": ROWS[1:]}])


@pytest.mark.parametrize(
    ("build", "part", "attack"),
    [
        (_xlsx, "xl/worksheets/sheet1.xml", (XXE, b"&xxe;")),
        (_xlsx, "xl/worksheets/sheet1.xml", (LAUGHS, b"&lol9;")),
        (_docx, "word/document.xml", (XXE, b"&xxe;")),
        (_docx, "word/document.xml", (LAUGHS, b"&lol9;")),
    ],
    ids=["xlsx-xxe", "xlsx-billion-laughs", "docx-xxe", "docx-billion-laughs"],
)
def test_entity_attacks_are_refused(tmp_path: Path, build, part, attack) -> None:
    clean = build(tmp_path)
    assert read_source(clean).row_count  # the file before the attack reads
    hostile = _rewrite(clean, part, _with_prolog(*attack))
    with pytest.raises(LedgerError, match="DOCTYPE/ENTITY"):
        read_source(hostile)


def test_cli_refuses_a_hostile_file_with_exit_8(duban, tmp_path: Path) -> None:
    hostile = _rewrite(_xlsx(tmp_path), "xl/sharedStrings.xml", _with_prolog(XXE, b"&xxe;"))
    result = duban("import", str(hostile), "--dry-run")
    assert result.exit_code == LedgerError.exit_code == 8
    assert result.stderr.startswith("错误：") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "root:" not in result.output  # nothing of /etc/passwd


def _raw_xlsx(path: Path, sheet_xml_rows, shared: bytes | None = None) -> Path:
    """A minimal .xlsx written straight into a zip, the sheet streamed row by row."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            b'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            b'worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b"</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            b'<?xml version="1.0"?><workbook ' + ns + b" " + rel + b'><sheets><sheet name="S" '
            b'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b"</Relationships>",
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0"?><worksheet ' + ns + b"><sheetData>")
            for chunk in sheet_xml_rows:
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


def test_a_million_rows_is_refused_in_seconds(tmp_path: Path) -> None:
    def rows():
        for start in range(1, 1_000_001, 10_000):
            yield b"".join(
                b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i)
                for i in range(start, start + 10_000)
            )

    path = _raw_xlsx(tmp_path / "百万行.xlsx", rows())
    started = time.process_time()
    with pytest.raises(LedgerError, match="超过 50000 行"):
        read_source(path)
    # refused while streaming, long before openpyxl would build a million rows (minutes)
    assert time.process_time() - started < 10


def test_a_huge_cell_is_refused_by_its_unpacked_size(tmp_path: Path) -> None:
    big = b"A" * (3 * 1024 * 1024)
    path = _raw_xlsx(
        tmp_path / "大单元格.xlsx",
        [b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + big + b"</t></is></c></row>"],
    )
    with pytest.raises(LedgerError, match=r"解压后有 3 MB，超过导入上限 1 MB.*max_unpacked_mb"):
        read_source(path, limits=ImportLimits(max_unpacked_mb=1))
    with pytest.raises(LedgerError, match=r"工作表“S”第1行A列：单元格有 3145728 个字符"):
        read_source(path, limits=ImportLimits(max_cell_chars=100_000))


@pytest.mark.parametrize("fmt", ["xlsx", "docx", "csv"])
def test_limits_on_rows_cells_and_size(tmp_path: Path, fmt: str) -> None:
    rows = [HEADER] + [[i, f"任务{i}", "办公室", "11月"] for i in range(1, 31)]
    path = {
        "xlsx": lambda: write_xlsx(tmp_path / "t.xlsx", rows),
        "docx": lambda: write_docx(tmp_path / "t.docx", [{"rows": rows}]),
        "csv": lambda: write_csv(tmp_path / "t.csv", rows),
    }[fmt]()
    assert read_source(path).row_count == 31
    with pytest.raises(LedgerError, match=r"超过 20 行（\[import\] max_rows）"):
        read_source(path, limits=ImportLimits(max_rows=20))
    if fmt != "csv":
        with pytest.raises(LedgerError, match=r"超过 50 个单元格（\[import\] max_cells）"):
            read_source(path, limits=ImportLimits(max_cells=50))
    with pytest.raises(LedgerError, match="超过上限 3（\\[import\\] max_cell_chars）"):
        read_source(path, limits=ImportLimits(max_cell_chars=3))
    path.write_bytes(path.read_bytes() + b"\0" * (1024 * 1024 + 1))
    with pytest.raises(LedgerError, match=r"超过导入上限 1 MB（\[import\] max_file_mb）"):
        read_source(path, limits=ImportLimits(max_file_mb=1))


def test_import_section_of_duban_toml(tmp_path: Path) -> None:
    def config(section):
        return Config(tmp_path, tmp_path, "sqlite://", raw={"import": section})

    assert import_limits(config({})) == DEFAULT_LIMITS
    assert import_limits(config({"max_rows": 10})).max_rows == 10
    for bad in ({"max_rows": 0}, {"max_rows": "many"}, {"max_rows": True}, {"rows": 5}):
        with pytest.raises(ConfigError, match=r"\[import\]"):
            import_limits(config(bad))


def test_cli_reads_the_limits_from_duban_toml(duban, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "2026年台账.xlsx", ROWS)
    config = Path(duban.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[import]\nmax_cells = 3\n", encoding="utf-8")
    result = duban("import", str(path), "--dry-run")
    assert result.exit_code == 8 and "max_cells" in result.stderr
    config.write_text("[import]\nmax_cells = -1\n", encoding="utf-8")
    assert duban("import", str(path), "--dry-run").exit_code == 7

"""Readers: real .xlsx/.docx/.csv files become located rows; bad files give one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledgers import (
    build_encrypted_office_file,
    build_jiangmen_docx,
    build_yinchuan_csv,
    build_yinchuan_docx,
    build_yinchuan_xlsx,
    write_csv,
    write_xlsx,
)

from workflow.errors import LedgerError
from workflow.ledger.readers import read_source
from workflow.ledger.readers.document import column_letter


def test_xlsx_merged_cells_carry_their_value(tmp_path: Path) -> None:
    doc = read_source(build_yinchuan_xlsx(tmp_path / "y.xlsx"))
    rows = doc.streams[0].rows
    title = rows[0]
    assert title.values() == ["银川市卫生健康委员会2023年政务公开工作要点任务落实台账"]
    assert len(title.cells) == 7 and title.merged == frozenset(range(1, 7))  # merged A1:G1
    task2 = next(r for r in rows if r.cells[0] == "2")
    assert task2.cells[5] == "11月" and 5 in task2.merged  # 完成时限 merged down from task 1
    assert task2.where(5) == "工作表“任务落实台账”第7行F列"
    assert doc.streams[0].name == "任务落实台账"
    assert [s.name for s in doc.streams] == ["任务落实台账", "Sheet2"]


def test_xlsx_one_sheet(tmp_path: Path) -> None:
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx")
    assert [s.name for s in read_source(path, sheet="Sheet2").streams] == ["Sheet2"]
    with pytest.raises(
        LedgerError, match="工作簿中没有名为“台账2”的工作表（现有：任务落实台账、Sheet2）"
    ):
        read_source(path, sheet="台账2")


def test_xlsx_numbers_and_dates_read_as_people_see_them(tmp_path: Path) -> None:
    from datetime import date

    path = write_xlsx(
        tmp_path / "d.xlsx",
        [["序号", "工作任务", "责任单位", "完成时限"], [1.0, "甲", "办公室", date(2023, 11, 30)]],
    )
    row = read_source(path).streams[0].rows[1]
    assert row.cells == ("1", "甲", "办公室", "2023年11月30日")


def test_docx_vertical_and_horizontal_merges(tmp_path: Path) -> None:
    doc = read_source(build_jiangmen_docx(tmp_path / "j.docx"))
    rows = doc.streams[0].rows
    assert rows[0].paragraph and rows[0].where() == "正文第1段"
    four = next(r for r in rows if r.cell(1).startswith("4."))
    assert four.cells[0] == "三、做好政府网站专栏信息公开" and 0 in four.merged
    assert four.where(1) == "第1个表格第5行第2列"

    doc = read_source(build_yinchuan_docx(tmp_path / "y.docx"))
    rows = doc.streams[0].rows
    section = next(r for r in rows if r.cells[0].startswith("一、") and not r.paragraph)
    assert section.values() == [
        "一、围绕重点领域，加大主动公开力度"
    ] and section.merged == frozenset(range(1, 7))
    heading = next(r for r in rows if r.paragraph and r.cells[0].startswith("三、"))
    assert heading.where() == "正文第4段"
    seven = next(r for r in rows if r.cells[0] == "7")
    assert seven.cells[2].count("\n") == 2  # three paragraphs in one cell
    one = next(r for r in rows if r.cells[0] == "1")
    assert not one.cells[2].endswith("\n")  # Word's trailing empty paragraphs dropped


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    doc = read_source(build_yinchuan_csv(tmp_path / "y.csv", encoding))
    rows = doc.streams[0].rows
    assert rows[0].cells == ("银川市卫生健康委员会2023年政务公开工作要点任务落实台账",)
    assert rows[0].where(0) == "第1行第1列"
    seven = next(r for r in rows if r.cells[0] == "7")
    assert "\n对重要政策文件和解读材料" in seven.cells[2]  # a quoted multi-line field


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 6, 25, 26, 27)] == ["A", "G", "Z", "AA", "AB"]


# -- bad files --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["secret.xlsx", "secret.docx"])
def test_encrypted_file(tmp_path: Path, name: str) -> None:
    path = build_encrypted_office_file(tmp_path / name)
    with pytest.raises(LedgerError) as err:
        read_source(path)
    assert (
        err.value.message
        == f"{name}：文件已加密（设置了打开密码），请在 Excel/WPS 中取消密码后再导入"
    )


def test_old_office_format(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    with pytest.raises(
        LedgerError, match="old.xlsx：文件是旧版 .xls 格式，请在 Excel/WPS 中另存为 .xlsx 后再导入"
    ):
        read_source(path)


@pytest.mark.parametrize("name", ["broken.xlsx", "broken.docx"])
def test_corrupt_file(tmp_path: Path, name: str) -> None:
    good = tmp_path / ("g.xlsx" if name.endswith("xlsx") else "g.docx")
    (build_yinchuan_xlsx if name.endswith("xlsx") else build_jiangmen_docx)(good)
    data = good.read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])  # a download cut in half
    with pytest.raises(LedgerError) as err:
        read_source(path)
    assert err.value.message.startswith(
        f"{name}：文件已损坏或不是有效的 .{name.split('.')[1]} 文件"
    )


def test_text_file_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("序号,工作任务\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="fake.xlsx：文件已损坏或不是有效的 .xlsx 文件"):
        read_source(path)


def test_missing_empty_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="找不到文件"):
        read_source(tmp_path / "none.xlsx")
    (tmp_path / "empty.docx").write_bytes(b"")
    with pytest.raises(LedgerError, match="empty.docx：文件是空的"):
        read_source(tmp_path / "empty.docx")
    (tmp_path / "plan.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(LedgerError, match="不支持的文件类型“.pdf”"):
        read_source(tmp_path / "plan.pdf")
    (tmp_path / "old.xls").write_bytes(b"x")
    with pytest.raises(LedgerError, match="请另存为 .xlsx"):
        read_source(tmp_path / "old.xls")


def test_csv_undecodable_and_utf16(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_text("序号,工作任务\n", encoding="utf-16")
    with pytest.raises(LedgerError, match="u16.csv：文件不是文本格式的 CSV"):
        read_source(path)
    path = tmp_path / "bin.csv"
    path.write_bytes(bytes([0xFF, 0xFE, 0x81, 0x30, 0xFF]) * 10)
    with pytest.raises(LedgerError, match="bin.csv：无法识别文件编码"):
        read_source(path)


def test_csv_written_by_office_reads_back(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "w.csv", [["序号", "工作任务", "责任单位"], [1, "甲", "办公室、财务科"]], "gbk"
    )
    assert read_source(path).streams[0].rows[1].cells == ("1", "甲", "办公室、财务科")

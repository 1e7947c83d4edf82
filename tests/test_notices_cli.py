"""``duban notice list|show|export``: the numbered 督办单 and 催办通知书, local and client mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbsnap import snapshot
from docx import Document


@pytest.fixture
def office(duban):
    duban.ok("leader", "add", "王主任", "--email", "wang@example.org")
    duban.ok("leader", "add", "李书记", "--email", "li@example.org", "--principal")
    duban.ok("unit", "add", "法规处", "--email", "fagui@example.org", "--leader", "王主任")
    duban.ok("unit", "add", "海域处", "--email", "haiyu@example.org", "--leader", "王主任")
    for title, unit in (("修订政府信息公开指南", "法规处"), ("更新海域使用公示", "海域处")):
        duban.ok("task", "add", title, "--unit", unit, "--due", "2026-11-30")
    return duban


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_each_level_told_issues_one_numbered_notice_once(office):
    first = office.ok("check", "--as-of", "2026-12-01").stdout  # 1 working day late: 催办
    assert "印发督办单/催办通知书 2 份" in first
    again = office.json("check", "--as-of", "2026-12-01")  # the same day again: nothing new
    assert again["notices"] == 0
    office.ok("check", "--as-of", "2026-12-03")  # 3: the leader in charge's 督办 (橙色)
    office.ok("check", "--as-of", "2026-12-14")  # 10: the principal's 督办 (红色)
    office.ok("check", "--as-of", "2026-12-15")
    rows = office.json("notice", "list")
    assert [(r["number"], r["unit"], r["grade_label"], r["days_overdue"]) for r in rows] == [
        ("催办〔2026〕1号", "法规处", "黄色", 1),
        ("催办〔2026〕2号", "海域处", "黄色", 1),
        ("督办〔2026〕1号", "法规处", "橙色", 3),
        ("督办〔2026〕2号", "海域处", "橙色", 3),
        ("督办〔2026〕3号", "法规处", "红色", 10),
        ("督办〔2026〕4号", "海域处", "红色", 10),
    ]
    assert office.json("notice", "list", "--year", "2025") == []
    text = office.ok("notice", "list", "--unit", "海域处").stdout
    assert "督办〔2026〕4号" in text and "法规处" not in text and "共 3 份" in text


def test_a_unit_sees_only_its_own(office):
    office.ok("check", "--as-of", "2026-12-03")
    token = office.json("token", "issue", "法规处")["token"]
    own = office.json("notice", "list", token=token)
    assert {r["unit"] for r in own} == {"法规处"} and len(own) == 2
    other = next(r for r in office.json("notice", "list") if r["unit"] == "海域处")
    refused = office("notice", "show", str(other["id"]), token=token)
    assert refused.exit_code == 4 and "无权" in refused.stderr and "Traceback" not in refused.output
    refused = office("notice", "list", "--unit", "海域处", token=token)
    assert refused.exit_code == 4


def test_show_by_id_or_number_and_bad_refs(office):
    office.ok("check", "--as-of", "2026-12-03")
    by_number = office.json("notice", "show", "督办〔2026〕2号")
    assert by_number["unit"] == "海域处" and by_number["level"] == "leader"
    assert office.json("notice", "show", str(by_number["id"])) == by_number
    text = office.ok("notice", "show", "催办〔2026〕1号").stdout
    assert "修订政府信息公开指南" in text and "已逾期 3 个工作日" in text
    missing = office("notice", "show", "督办〔2026〕99号")
    assert missing.exit_code == 3 and "不存在" in missing.stderr
    bad = office("notice", "show", "第一号")
    assert bad.exit_code == 2 and "编号无效" in bad.stderr


def test_export_writes_a_docx_that_reads_back(office, tmp_path, database_url):
    office.ok("check", "--as-of", "2026-12-03")
    target = tmp_path / "督办单.docx"
    out = office.json("notice", "export", "督办〔2026〕1号", str(target))
    assert out["number"] == "督办〔2026〕1号"
    doc = Document(str(target))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    text = docx_text(target)
    for expected in (
        "办公室",  # the office's name (the default [office] name)
        "督办单",
        "督办〔2026〕1号",
        "法规处",
        "修订政府信息公开指南",
        "2026年11月30日",
        "3个工作日",
        "橙色督办",
        "回　执",
        "办理情况",
    ):
        assert expected in text, expected
    again = tmp_path / "again.docx"
    office.ok("notice", "export", "督办〔2026〕1号", str(again))
    assert docx_text(again) == text  # rendered from stored data: always the same
    before = snapshot(database_url)
    bad = office("notice", "export", "督办〔2026〕1号", str(tmp_path / "no" / "x.docx"))
    assert bad.exit_code == 2 and "不存在" in bad.stderr and "Traceback" not in bad.output
    wrong = office("notice", "export", "督办〔2026〕1号", str(tmp_path / "x.pdf"))
    assert wrong.exit_code == 2 and ".docx" in wrong.stderr
    assert snapshot(database_url) == before


def test_dry_run_issues_nothing(office):
    office.ok("check", "--as-of", "2026-12-03", "--dry-run")
    assert office.json("notice", "list") == []
    office.ok("check", "--as-of", "2026-12-03")
    assert [r["seq"] for r in office.json("notice", "list") if r["kind"] == "cuiban"] == [1, 2]

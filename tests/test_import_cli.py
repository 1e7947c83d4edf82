"""``duban import`` as a new user runs it: preview, import, re-import, errors; the sample file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dbsnap
import pytest
from ledgers import (
    JIANGMEN,
    JIANGMEN_DIRECTORY,
    YINCHUAN,
    YINCHUAN_DIRECTORY,
    add_directory,
    build_encrypted_office_file,
    build_jiangmen_docx,
    build_yinchuan_xlsx,
    write_docx,
    write_xlsx,
    yinchuan_sections,
)

from workflow.ledger.parse import parse_ledger
from workflow.ledger.readers import read_source
from workflow.samples import YINCHUAN_LEDGER


def directory(db, entries) -> None:
    with db.session() as s:
        add_directory(s, entries)


def snapshot(db) -> dict[str, list]:
    return dbsnap.snapshot(db.engine)  # the office's data, not the server's bookkeeping


def test_yinchuan_as_a_new_user(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    path = build_yinchuan_xlsx(tmp_path / "银川市卫健委2023年任务落实台账.xlsx")

    preview = duban.ok("import", path, "--dry-run")
    out = preview.stdout
    assert (
        "预览（未写入数据库）" in out and "报送日期：2023-07-31、2023-11-30（取自开头说明）" in out
    )
    for _, title, _, _, _ in YINCHUAN.values():
        assert title in out
    assert "属于“委机关各科室”" in out and "← 完成时限“长期坚持”" in out
    assert "将会：新增任务 14" in out

    data = duban.json("import", path, "--dry-run")
    assert [t["number"] for t in data["tasks"]] == [str(n) for n in range(1, 15)]
    assert data["tasks"][12]["due_dates"] == ["2023-07-31", "2023-11-30"]
    assert data["plan"]["year"] == 2023 and data["plan"]["changes"]["tasks_created"] == 14

    done = duban.ok("import", path)
    title = "银川市卫生健康委员会2023年政务公开工作要点任务落实台账"
    assert re.search(rf"已导入“{title}”（计划 #\d+，2023 年）：新增任务 14", done.stdout)
    listed = duban.json("task", "list")
    assert len(listed) == 63

    again = duban.ok("import", path)
    assert "已是最新，没有任何改动（共 14 项任务）" in again.stdout


def test_edited_version_preview_shows_the_difference(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    duban.ok("import", build_yinchuan_xlsx(tmp_path / "v1.xlsx"))
    sections = yinchuan_sections()
    sections[3]["tasks"][0]["deadline"] = "9月底前"
    edited = build_yinchuan_xlsx(tmp_path / "v2.xlsx", sections=sections)
    before = snapshot(office_db)
    out = duban.ok("import", edited, "--dry-run").stdout
    assert "将会：新增任务 0，修改任务 1，移除任务 0，新增分派 0，修改分派 2，撤销分派 0" in out
    assert "任务 11“夯实政府网站建设管理”的完成时限：“11月” → “9月底前”" in out
    assert (
        "截止日期 2023-11-30 → 2023-09-28" in out
    )  # 9月30日 is a Saturday before 国庆: last working day
    assert snapshot(office_db) == before
    assert "修改分派 2" in duban.ok("import", edited).stdout


def test_jiangmen_docx_json(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, JIANGMEN_DIRECTORY)
    data = duban.json("import", build_jiangmen_docx(tmp_path / "江门.docx"), "--dry-run")
    assert len(data["tasks"]) == 30
    for task in data["tasks"]:
        _section, title, units, dues, _ = JIANGMEN[task["number"]]
        assert task["title"] == title
        assert [(u["name"], u["role"]) for u in task["units"]] == units
        assert task["due_dates"] == dues


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: build_encrypted_office_file(p / "加密.xlsx"), "错误：加密.xlsx：文件已加密"),
        (lambda p: write_xlsx(p / "名单.xlsx", [["姓名", "电话"], ["张三", "1"]]), "错误：名单.xlsx：工作表“台账”：未找到表头"),
        (lambda p: write_docx(p / "通知.docx", ["关于印发2023年要点的通知"]), "错误：通知.docx：文档中没有表格"),
        (lambda p: write_xlsx(p / "空表.xlsx", [["序号", "重点工作", "责任单位"]]), "错误：空表.xlsx：工作表“台账”第1行：表头下面没有任何任务"),
    ],
)  # fmt: skip
def test_bad_files(duban, office_db, tmp_path: Path, make, message: str) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    before = snapshot(office_db)
    result = duban("import", make(tmp_path))
    assert result.exit_code == 8
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert snapshot(office_db) == before


def test_unknown_unit_and_create_units(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY[:3])
    path = build_yinchuan_xlsx(tmp_path / "y.xlsx")
    before = snapshot(office_db)
    result = duban("import", path)
    assert result.exit_code == 8
    assert result.stderr.startswith(
        "错误：y.xlsx：工作表“任务落实台账”第7行E列（责任科室（单位））：单位“委属各单位”不在单位名录中"
    )
    assert "共 5 个未知单位" in result.stderr
    assert snapshot(office_db) == before
    data = duban.json("import", path, "--create-units")
    assert (
        data["plan"]["changes"]["units_created"][0] == "委属各单位"
    )  # group names stay as written
    assert {"name": "委属各单位", "role": "responsible"} in data["tasks"][1]["units"]
    assert {"name": "办公室", "role": "responsible"} in data["tasks"][1][
        "units"
    ]  # the known group expands


def test_impossible_date_names_the_cell(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    sections = yinchuan_sections()
    sections[0]["tasks"][2]["deadline"] = "13月"
    result = duban("import", build_yinchuan_xlsx(tmp_path / "y.xlsx", sections=sections))
    assert result.exit_code == 8
    assert (
        result.stderr
        == "错误：y.xlsx：工作表“任务落实台账”第8行F列（完成时限）：完成时限「13月」中的月份 13 不存在（应为 1–12 月）\n"
    )


def test_options(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    path = write_xlsx(
        tmp_path / "t.xlsx", [["序号", "工作任务", "责任单位", "完成时限"], [1, "甲", "办公室", ""]]
    )
    assert "请用 --plan-year 指定" in duban("import", path).stderr
    data = duban.json(
        "import",
        path,
        "--plan-year",
        "2024",
        "--report-dates",
        "2024-06-28,2024-12-20",
        "--dry-run",
    )
    assert data["plan"]["report_dates"] == ["2024-06-28", "2024-12-20"]
    assert data["tasks"][0]["due_dates"] == ["2024-06-28", "2024-12-20"]
    bad = duban("import", path, "--plan-year", "二〇二四")
    assert bad.exit_code == 2 and "--plan-year 无效" in bad.stderr
    bad = duban("import", path, "--plan-year", "2024", "--report-dates", "2024-02-30")
    assert bad.exit_code == 2 and "报送日期无效" in bad.stderr
    bad = duban("import", path, "--sheet", "没有")
    assert bad.exit_code == 8 and "没有名为“没有”的工作表" in bad.stderr


def test_office_only(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    token = duban.json("token", "issue", "办公室")["token"]
    result = duban("import", build_yinchuan_xlsx(tmp_path / "y.xlsx"), token=token)
    assert result.exit_code == 4 and "无权导入台账" in result.stderr


def test_large_file_with_progress(duban, office_db, tmp_path: Path) -> None:
    directory(office_db, YINCHUAN_DIRECTORY)
    rows = [["2023年重点任务清单"], ["序号", "工作任务", "具体要求", "责任单位", "完成时限"]]
    rows += [
        [n, f"任务{n}", f"第{n}项要求。", "办公室、督查督办科", f"{n % 12 + 1}月"]
        for n in range(1, 301)
    ]
    result = duban.ok("import", write_xlsx(tmp_path / "big.xlsx", rows))
    assert "新增任务 300" in result.stdout and "新增分派 600" in result.stdout


def test_shipped_sample_is_the_yinchuan_ledger(duban, office_db, tmp_path: Path) -> None:
    """``workflow/samples/yinchuan-2023.xlsx`` is what the builder makes (``make_samples.py``)."""
    shipped = parse_ledger(read_source(YINCHUAN_LEDGER))
    fresh = parse_ledger(read_source(build_yinchuan_xlsx(tmp_path / "fresh.xlsx")))

    def key(t):
        return (
            t.section_path,
            t.number,
            t.title,
            t.content,
            t.metric,
            t.deadline_text,
            [(m.name, m.role) for m, _ in t.units],
        )

    assert [key(t) for t in shipped.tasks] == [key(t) for t in fresh.tasks]
    assert shipped.intro == fresh.intro
    directory(office_db, YINCHUAN_DIRECTORY)
    data = json.loads(duban.ok("import", YINCHUAN_LEDGER, "--json").stdout)
    assert len(data["tasks"]) == 14 and data["plan"]["report_dates"] == ["2023-07-31", "2023-11-30"]


def test_a_plan_in_a_provisional_year_warns_once(duban, office_db, tmp_path: Path) -> None:
    """2027's holidays are not published yet: the whole import says so once, not once per task."""
    directory(office_db, YINCHUAN_DIRECTORY)
    path = build_yinchuan_xlsx(tmp_path / "台账.xlsx")
    args = ["import", path, "--plan-year", "2027", "--report-dates", "2027-07-30,2027-11-30"]
    data = duban.json(*args, "--dry-run")
    provisional = [w for w in data["warnings"] if "2027 年的节假日安排尚未确认" in w]
    assert len(provisional) == 1
    result = duban.ok(*args)
    assert result.stderr.count("2027 年的节假日安排尚未确认") == 1
    rows = duban.json("task", "list")
    assert any(r["provisional"] for r in rows)  # month ends counted on the unpublished calendar
    assert not any(
        r["provisional"] for r in rows if r["period"] == "2027-07-30"
    )  # dates as written

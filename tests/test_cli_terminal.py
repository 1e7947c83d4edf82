"""What the terminal shows (issue 17): tables at 100 columns, help, suggestions, Chinese words,
and lateness as of today in ``duban task list``."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cli.main import cli
from cli.output import Col, cell_width, render_table, wrap_cell
from states import STATE_LABELS, STATES, allowed_triggers
from workflow.tasks.listing import EXPIRING, parse_state

LONG = "按照《银川市人民政府关于“一老一小”整体解决方案的通知》要求，加强托育政策推送力度，促进托育服务健康发展"


# -- the table writer ---------------------------------------------------------------------------
def _table(width: int = 100, colour: bool = False, marked=None) -> str:
    return render_table(
        [Col("编号", align="right"), "单位", Col("任务", wrap=True), "状态", "截止"],
        [
            (7, "人口发展与妇幼健康科", LONG, "已逾期", "2023-03-31"),
            (1234, "财务审计科", "短标题", "已分派", "2023-11-30（暂定）"),
        ],
        marked=marked,
        footer=["共 2 条"],
        width=width,
        colour=colour,
    )


@pytest.mark.parametrize("width", [80, 100, 160])
def test_rows_fit_the_width_dates_stay_whole_and_text_wraps_in_its_column(width):
    lines = _table(width).splitlines()
    assert all(cell_width(line) <= width for line in lines), lines
    header, body, footer = lines[0], lines[2:-1], lines[-1]
    task_start = cell_width(header[: header.index("任务")])
    assert any(line.endswith("已逾期  2023-03-31") for line in body)  # whole, on one line
    assert any(line.endswith("已分派  2023-11-30（暂定）") for line in body)
    assert any("  人口发展与妇幼健康科  " in line for line in body)  # a unit name stays whole
    continuation = [line for line in body if line[:4] == "    "]
    assert (len(continuation) > 0) == (width < 160)  # only the long title wraps
    for line in continuation:  # … inside its own column
        assert line[:task_start].strip() == "" and line[task_start] != " "
    first = next(line for line in body if line.lstrip().startswith("7 "))
    wrapped = [first[first.index("按照") :].split("  ")[0]]
    wrapped += [line[task_start:].split("  ")[0] for line in continuation]
    assert "".join(wrapped) == LONG  # every character, in order, in the 任务 column
    assert first.startswith("   7  ") and any(line.startswith("1234  ") for line in body)
    assert footer == "共 2 条"


def test_colour_only_when_asked_and_only_on_marked_rows():
    plain = _table(100, colour=False, marked=[True, False])
    assert "\x1b[" not in plain
    coloured = _table(100, colour=True, marked=[True, False])
    red_lines = [line for line in coloured.splitlines() if line.startswith("\x1b[31m")]
    assert red_lines and all("财务审计科" not in line for line in red_lines)


@given(
    st.text(alphabet="政务公开abc 2023-11-30、，（）", min_size=0, max_size=80), st.integers(4, 40)
)
def test_wrapping_keeps_every_character_and_the_width(text, width):
    lines = wrap_cell(text, width)
    assert all(cell_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")


# -- help, unknown commands, Chinese words ------------------------------------------------------
@pytest.mark.parametrize("args", [[], ["task"], ["notify"]])
def test_bare_groups_print_their_help_and_exit_0(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("用法：duban") and "命令：" in result.stdout
    assert not re.search(r"\b(Usage|Options|Commands|Show this message)\b", result.stdout)


def test_help_is_in_chinese():
    out = CliRunner().invoke(cli, ["task", "list", "--help"]).stdout
    assert "用法：duban task list [选项]" in out and "选项：" in out and "显示本帮助并退出" in out
    assert not re.search(r"\b(Usage|Options|TEXT|INTEGER)\b", out)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["tsak"], "是否想用 duban task"),
        (["notfy"], "是否想用 duban notify"),
        (["task", "lsit"], "是否想用 duban task list"),
    ],
)
def test_unknown_commands_suggest_the_closest(args, words):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and words in result.stderr


def test_a_toml_syntax_error_is_one_chinese_line(tmp_path):
    (tmp_path / "duban.toml").write_text("[smtp]\nhost = smtp.example.org\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["task", "list"], env={"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_TOKEN": "x"}
    )
    assert result.exit_code == 7
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("错误：") and "第 2 行第 8 列" in line
    assert not re.search(r"[A-Za-z]{4,} (value|line|column)", line)


# -- duban task list ----------------------------------------------------------------------------
def test_the_listing_knows_which_states_expire():
    assert set(EXPIRING) == {s for s in STATES if "expire" in allowed_triggers(s)}


@pytest.mark.parametrize("state", STATES)
def test_state_accepts_the_chinese_label(state):
    assert parse_state(state) == state
    assert parse_state(STATE_LABELS[state]) == state


@pytest.fixture
def listed(duban):
    duban.ok("unit", "add", "法规处", "--email", "fg@example.org")
    duban.ok("unit", "add", "审批处", "--email", "sp@example.org")
    duban.ok("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-03-10")
    duban.ok("task", "add", "更新专栏", "--unit", "审批处", "--due", "2026-03-20")
    return duban


def test_overdue_as_of_today_before_the_check_marked_it(listed):
    listed.env["DUBAN_NOW"] = "2026-03-12T09:00"  # no `duban check` has run
    rows = listed.json("task", "list", "--overdue")
    assert [(r["unit"], r["state"], r["recorded_state"]) for r in rows] == [
        ("法规处", "overdue", "assigned")
    ]
    assert [r["unit"] for r in listed.json("task", "list", "--state", "已逾期")] == ["法规处"]
    assert [r["unit"] for r in listed.json("task", "list", "--state", "已分派")] == ["审批处"]
    text = listed.ok("task", "list").stdout
    assert re.search(r"法规处\s+修订指南\s+已逾期\s+2026-03-10", text)
    assert text.rstrip().endswith("共 2 条（已逾期 1）")
    listed.env["DUBAN_NOW"] = "2026-03-10T09:00"  # the due day itself is not late
    assert listed.json("task", "list", "--overdue") == []


def test_an_unknown_state_lists_the_choices_in_chinese(listed):
    result = listed("task", "list", "--state", "late")
    assert result.exit_code == 2 and "已逾期" in result.stderr and "overdue" in result.stderr


def test_a_unit_name_alias_still_filters(listed):
    listed.ok("unit", "edit", "审批处", "--add-alias", "审批科")
    assert [r["unit"] for r in listed.json("task", "list", "--unit", "审批科")] == ["审批处"]


_VALUES = st.one_of(
    st.text(
        alphabet=st.sampled_from(["\n", ",", "{", "}", "[", "]", '"', "\\", "科", "a", "\x00"])
    ),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none(),
    st.booleans(),
)


@given(st.lists(st.dictionaries(st.sampled_from(["id", "title", "unit"]), _VALUES), max_size=80))
def test_a_long_json_list_is_one_compact_object_per_line(rows):
    """One orjson call with newline markers gives exactly the rows encoded one by one, whatever
    the text holds (newlines, commas, braces, quotes)."""
    import json

    from cli.output import _one_object_per_line
    from workflow.calls.runner import encode

    if not rows:
        return
    out = _one_object_per_line(rows)
    assert out == b"[\n  " + b",\n  ".join(encode(r) for r in rows) + b"\n]"
    assert json.loads(out) == rows
    assert out.count(b"\n") == len(rows) + 1

"""Lists page (issue 32): ``task list`` shows the first page and says how to see more,
``--all`` lists everything, ``--cursor`` continues; the same locally and over HTTP."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def seven(duban):
    """Seven assignments of one unit, due on four different days (ties broken by id)."""
    duban.ok("unit", "add", "法规处", "--email", "fagui@example.org")
    for i, due in enumerate(["2026-05-31", "2026-04-30", "2026-04-30", "2026-06-30"] * 2):
        if i == 7:
            break
        duban.ok("task", "add", f"任务{i}", "--unit", "法规处", "--due", due)
    return duban.json("task", "list", "--all")


def test_pages_join_up_to_the_whole_list(duban, seven):
    assert len(seven) == 7
    assert [(r["due"], r["id"]) for r in seven] == sorted((r["due"], r["id"]) for r in seven)
    first = duban("task", "list", "--limit", "3", "--json")
    assert first.exit_code == 0
    rows = json.loads(first.stdout)
    assert [r["id"] for r in rows] == [r["id"] for r in seven[:3]]
    cursor = first.stderr.split("--cursor ")[1].split("）")[0].strip()
    assert "--all" in first.stderr
    second = duban("task", "list", "--limit", "3", "--cursor", cursor, "--json")
    third_cursor = second.stderr.split("--cursor ")[1].split("）")[0].strip()
    last = duban("task", "list", "--limit", "3", "--cursor", third_cursor, "--json")
    assert last.stderr == ""  # the last page: nothing more to see
    ids = [r["id"] for r in rows + json.loads(second.stdout) + json.loads(last.stdout)]
    assert ids == [r["id"] for r in seven]


def test_the_table_says_how_to_see_more(duban, seven):
    shown = duban("task", "list", "--limit", "2")
    assert shown.exit_code == 0
    assert "任务1" in shown.stdout and "任务0" not in shown.stdout
    assert "仅显示前 2 条" in shown.stderr and "--all" in shown.stderr
    everything = duban.ok("task", "list", "--all", "--limit", "2")  # pages of two, all shown
    assert all(f"任务{i}" in everything.stdout for i in range(7))
    assert everything.stderr == ""


def test_all_json_is_the_plain_list(duban, seven):
    streamed = duban.ok("task", "list", "--all", "--limit", "2", "--json").stdout
    assert json.loads(streamed) == seven


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["--limit", "0"], "limit"),
        (["--limit", "5001"], "limit"),
        (["--cursor", "yesterday"], "cursor"),
        (["--cursor", "2026-13-01.4"], "cursor"),
    ],
)
def test_a_wrong_limit_or_cursor_is_one_line(duban, seven, args, where):
    result = duban("task", "list", *args)
    assert result.exit_code == 2
    assert where in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_empty_list_with_all_json_is_an_empty_array(duban):
    assert duban.json("task", "list", "--all") == []

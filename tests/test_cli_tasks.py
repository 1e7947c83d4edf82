"""The README walk-through through the real CLI, and the documented JSON contract."""

from __future__ import annotations

import pytest
from dbsnap import snapshot


@pytest.fixture
def office_setup(duban):
    duban.ok("leader", "add", "王主任", "--email", "wang@example.org")
    duban.ok(
        "unit",
        "add",
        "法规处",
        "--email",
        "fagui@example.org",
        "--leader",
        "王主任",
        "--group",
        "厅机关各处室",
    )
    duban.ok(
        "unit", "add", "海域处（审批处）", "--email", "haiyu@example.org", "--group", "厅机关各处室"
    )
    rows = duban.json(
        "task",
        "add",
        "修订政府信息公开指南",
        "--unit",
        "法规处",
        "--unit",
        "审批处",
        "--due",
        "2026-11-30",
    )
    tokens = {name: duban.json("token", "issue", name)["token"] for name in ("法规处", "海域处")}
    return {r["unit"]: r["id"] for r in rows}, tokens


def test_walk_through(duban, office_setup):
    ids, tokens = office_setup
    aid, token = ids["法规处"], tokens["法规处"]
    duban.ok("task", "start", aid, token=token)
    duban.ok(
        "task",
        "report",
        aid,
        "--text",
        "已完成初稿",
        "--evidence",
        "粤卫办〔2026〕3号",
        token=token,
    )
    duban.ok("task", "return", aid, "--reason", "请补充网站链接")
    duban.ok(
        "task",
        "report",
        aid,
        "--text",
        "已补充链接",
        "--evidence",
        "https://example.gov.cn/1.html",
        token=token,
    )
    out = duban.ok("task", "verify", aid).stdout
    assert "已核验" in out
    story = duban.ok("task", "show", aid).stdout
    for words in (
        "修订政府信息公开指南",
        "已完成初稿",
        "请补充网站链接",
        "退回",
        "核验通过",
        "法规处",
        "办公室",
    ):
        assert words in story
    shown = duban.json("task", "show", aid)
    assert [h["action"] for h in shown["history"]] == [
        "create",
        "start",
        "report",
        "return",
        "report",
        "verify",
    ]


def test_task_list_json_contract(duban, office_setup):
    rows = duban.json("task", "list")
    assert len(rows) == 2
    for row in rows:
        assert {"id", "task_id", "unit", "title", "state", "due", "late"} <= set(row)
        assert row["state"] == "assigned" and row["due"] == "2026-11-30" and row["late"] is False
    assert {r["unit"] for r in rows} == {"法规处", "海域处"}
    assert len({r["task_id"] for r in rows}) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--unit", "法规处"], {"法规处"}),
        (["--state", "assigned"], {"法规处", "海域处"}),
        (["--state", "verified"], set()),
        (["--overdue"], set()),
        (["--due-before", "2026-11-29"], set()),
        (["--due-after", "2026-11-30"], {"法规处", "海域处"}),
    ],
)
def test_task_list_filters(duban, office_setup, args, expected):
    assert {r["unit"] for r in duban.json("task", "list", *args)} == expected


def test_unit_sees_only_its_own(duban, office_setup):
    _, tokens = office_setup
    assert {r["unit"] for r in duban.json("task", "list", token=tokens["海域处"])} == {"海域处"}


def test_tokens_json_and_revocation(duban, office_setup):
    _, tokens = office_setup
    listed = duban.json("token", "list")
    unit_token = next(t for t in listed if t["holder"] == "法规处")
    duban.ok("token", "revoke", unit_token["id"])
    result = duban("task", "list", token=tokens["法规处"])
    assert result.exit_code == 4
    assert "令牌已吊销" in result.stderr


def _refused(duban, args, token=None, code=None, words=()):
    before = snapshot(duban.env["DUBAN_DATABASE_URL"])
    result = duban(*args, token=token)
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误："), result.stderr
    assert "Traceback" not in result.output + result.stderr
    for w in words:
        assert w in lines[0]
    assert snapshot(duban.env["DUBAN_DATABASE_URL"]) == before
    return lines[0]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["task", "show", "999"], 3, ["#999"]),
        (["task", "verify", "999"], 3, ["#999"]),
        (["task", "add", "X", "--unit", "宣传科", "--due", "2026-12-01"], 3, ["宣传科"]),
        (
            ["task", "add", "X", "--unit", "法规", "--due", "2026-12-01"],
            3,
            ["法规", "最接近", "法规处"],
        ),
        (["task", "add", "X", "--unit", "法规处", "--due", "2026-02-30"], 2, ["2026-02-30"]),
        (["task", "add", "X", "--unit", "法规处", "--due", "明天"], 2, ["明天"]),
        # today is 2026-03-02: a past due date is refused unless --past says it is meant
        (
            ["task", "add", "X", "--unit", "法规处", "--due", "2026-02-27"],
            2,
            ["2026-02-27", "--past"],
        ),
        (["task", "list", "--state", "done"], 2, ["done"]),
        (["task", "return", "1", "--reason", "x"], 6, ["#1", "已分派"]),
        (["task", "extend", "1", "--to", "2026-11-01", "--reason", "x"], 2, ["应晚于"]),
        (["unit", "add", "法规处"], 5, ["法规处", "已存在"]),
        (["unit", "add", "新科", "--email", "not-an-email"], 2, ["not-an-email"]),
        (["unit", "edit", "法规处", "--leader", "李四"], 3, ["李四"]),
    ],
)
def test_bad_input_one_line_and_nothing_changes(duban, office_setup, args, code, words):
    _refused(duban, args, code=code, words=words)


def test_unit_token_cannot_do_office_work(duban, office_setup):
    ids, tokens = office_setup
    t = tokens["法规处"]
    _refused(duban, ["task", "verify", ids["法规处"]], token=t, code=4)
    _refused(duban, ["unit", "add", "新科"], token=t, code=4, words=["办公室"])
    _refused(duban, ["token", "issue", "海域处"], token=t, code=4)
    _refused(duban, ["task", "start", ids["海域处"]], token=t, code=4, words=["海域处"])
    _refused(duban, ["task", "report", ids["法规处"]], token=t, code=2, words=["进展落实情况"])


def test_wrong_or_missing_token(duban, office_setup):
    _refused(duban, ["task", "list"], token="dbn_not-a-real-token", code=4, words=["令牌无效"])
    _refused(duban, ["task", "list"], token="", code=4, words=["DUBAN_TOKEN"])


def test_leader_reads_only(duban, office_setup):
    ids, _ = office_setup
    leader = duban.json("token", "issue", "王主任", "--role", "leader")["token"]
    assert len(duban.json("task", "list", token=leader)) == 2
    _refused(duban, ["task", "verify", ids["法规处"]], token=leader, code=4)


def test_login_saves_the_token(duban, office_setup, tmp_path):
    _, tokens = office_setup
    env = dict(duban.env, DUBAN_TOKEN="")
    from conftest import Cli

    cli = Cli(env)
    assert "已登录" in cli.ok("login", tokens["法规处"]).stdout
    assert cli.json("whoami")["name"] == "法规处"
    bad = cli("login", "dbn_wrong")
    assert bad.exit_code == 4


@pytest.mark.local_only
def test_init_twice_is_refused(duban):
    _refused(duban, ["init"], code=5, words=["已初始化"])


def test_uninitialised_database_is_a_clear_error(tmp_path):
    from conftest import Cli

    cli = Cli(
        {
            "DUBAN_CONFIG_DIR": str(tmp_path / "c"),
            "DUBAN_DATA_DIR": str(tmp_path / "d"),
            "DUBAN_TOKEN": "x",
        }
    )
    result = cli("task", "list")
    # a desk never set up is told to log in to the server, not to make its own database
    assert result.exit_code == 11 and "duban login --server" in result.stderr
    assert "duban init" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "d" / "duban.db").exists()


def test_unit_commands(duban, office_setup):
    duban.ok(
        "unit",
        "edit",
        "审批处",
        "--add-alias",
        "海洋处",
        "--add-email",
        "hy2@example.org",
        "--leader",
        "王主任",
    )
    shown = duban.json("unit", "show", "海洋处")
    assert shown["name"] == "海域处" and set(shown["aliases"]) == {"审批处", "海洋处"}
    assert (
        shown["emails"] == ["haiyu@example.org", "hy2@example.org"] and shown["leader"] == "王主任"
    )
    listed = duban.json("unit", "list")
    assert [u["name"] for u in listed] == ["法规处", "海域处"]
    assert "海域处" in duban.ok("unit", "list").stdout


def test_lifecycle_commands_speak_json(duban, office_setup):
    ids, tokens = office_setup
    aid, token = ids["法规处"], tokens["法规处"]
    started = duban.json("task", "start", aid, token=token)
    assert (started["id"], started["state"], started["unit"]) == (aid, "in_progress", "法规处")
    reported = duban.json("task", "report", aid, "--text", "完成", token=token)
    assert reported["state"] == "reported" and reported["late"] is False
    assert duban.json("task", "return", aid, "--reason", "补充")["state"] == "in_progress"
    extended = duban.json("task", "extend", aid, "--to", "2026-12-31", "--reason", "上级文件未下发")
    assert (extended["due"], extended["original_due"]) == ("2026-12-31", "2026-11-30")
    assert (
        duban.json("task", "cancel", ids["海域处"], "--reason", "任务调整")["state"] == "cancelled"
    )
    no_reason = duban("task", "reopen", ids["海域处"])
    assert (
        no_reason.exit_code != 0 and "恢复任务" in no_reason.stderr and "理由" in no_reason.stderr
    )
    reopened = duban.json("task", "reopen", ids["海域处"], "--reason", "误撤销")
    assert reopened["state"] == "assigned"
    revoked = duban.json("token", "revoke", duban.json("token", "list")[-1]["id"])
    assert revoked["revoked"] is True


def test_a_unit_sees_only_what_it_needs_of_the_directory(duban, office_setup):
    """Issue 27: names, aliases and groups of every unit; e-mail, leader and robots (with the
    mobiles they mention) of its own unit only; leaders' names and titles, not their e-mail."""
    _, tokens = office_setup
    secret = "0123456789abcdef" * 4
    result = duban(
        "unit", "edit", "审批处", "--robot", "dingtalk", "--robot-mention", "13800138000",
        input=f"https://oapi.dingtalk.com/robot/send?access_token={secret}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    office_view = duban.json("unit", "show", "海域处")
    assert office_view["robots"][0]["mention_mobiles"] == ["13800138000"]

    fagui = tokens["法规处"]
    listed = {u["name"]: u for u in duban.json("unit", "list", token=fagui)}
    other = listed["海域处"]
    assert other["groups"] == ["厅机关各处室"] and other["aliases"] == ["审批处"]
    assert other["emails"] == [] and other["leader"] is None and other["robots"] == []
    own = listed["法规处"]
    assert own["emails"] == ["fagui@example.org"] and own["leader"] == "王主任"
    shown = duban.json("unit", "show", "审批处", token=fagui)
    assert shown["emails"] == [] and shown["robots"] == []
    text = (
        duban.ok("unit", "list", token=fagui).stdout
        + duban.ok("unit", "show", "海域处", token=fagui).stdout
    )
    assert "haiyu@example.org" not in text and "13800138000" not in text
    [leader] = duban.json("leader", "list", token=fagui)
    assert leader["name"] == "王主任" and leader["email"] is None
    assert "wang@example.org" not in duban.ok("leader", "list", token=fagui).stdout
    assert duban.json("leader", "list")[0]["email"] == "wang@example.org"  # the office sees all


def test_task_add_past_adds_and_warns(duban, office_setup):
    """``--past``: recorded after the fact, overdue at once; the warning says so."""
    result = duban.ok(
        "task", "add", "补录：年报", "--unit", "法规处", "--due", "2026-02-27", "--past"
    )
    assert "提示：截止日期 2026-02-27 已过（今天 2026-03-02）" in result.stderr
    (row,) = duban.json("task", "list", "--overdue")
    assert row["title"] == "补录：年报" and row["state"] == "overdue"
    assert duban.json("task", "show", str(row["id"]))["state"] == "overdue"


def test_task_show_and_list_agree_at_the_same_moment(duban, office_setup):
    """Due today: waiting all day; the next morning overdue in both views, even before the daily
    check marks the row (``recorded_state`` says what the row holds)."""
    (row,) = duban.json("task", "add", "当日任务", "--unit", "法规处", "--due", "2026-03-02")
    shown = duban.json("task", "show", str(row["id"]))
    assert row["state"] == shown["state"] == "assigned"
    duban.env["DUBAN_NOW"] = "2026-03-03T09:00"
    listed = {r["id"]: r for r in duban.json("task", "list")}[row["id"]]
    shown = duban.json("task", "show", str(row["id"]))
    assert listed["state"] == shown["state"] == "overdue"
    assert listed["state_label"] == shown["state_label"] == "已逾期"
    assert listed["recorded_state"] == shown["recorded_state"] == "assigned"
    assert "状态：已逾期" in duban.ok("task", "show", str(row["id"])).stdout

"""``duban appeal``, ``duban score bonus`` and ``duban score freeze`` through the real CLI,
locally and as a client of a real server (the ``duban`` fixture runs each test both ways)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from dbsnap import snapshot
from scoring_world import SCORING_TOML, build_world

from workflow.dates.clock import SHANGHAI
from workflow.directory.roles import Caller
from workflow.directory.tokens import issue_token
from workflow.storage.db import Database

OFFICE = Caller(role="office", name="办公室")
NOW = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
RULES = SCORING_TOML + "yellow_card_after = 1\nyellow_card = 2\nbonus_cap = 1\n"


@pytest.fixture
def world(cli_env, duban):
    Path(cli_env["DUBAN_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(cli_env["DUBAN_CONFIG_DIR"], "duban.toml").write_text(RULES, encoding="utf-8")
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    try:
        w = build_world(db, OFFICE)
        with db.session() as s:
            w["tokens"] = {n: issue_token(s, OFFICE, n, NOW) for n in ("审批处", "法规处")}
        yield w, db
    finally:
        db.engine.dispose()


def _units(duban, *extra):
    data = duban.json("score", "--year", "2026", "--as-of", "2026-12-31", *extra)
    return {u["unit"]: u["score"] for u in data["units"]}, data


def test_appeal_upheld_waives_and_the_sheet_shows_it(duban, world):
    w, db = world
    _, aid = w["审批处"]
    token = w["tokens"]["审批处"]
    # never reported: 5 points + a yellow card (1 late item) 2 → 93
    assert _units(duban)[0]["审批处"] == 93.0
    added = duban.json(
        "appeal",
        "add",
        str(aid),
        "--reason",
        "已线下报送",
        "--evidence",
        "OA 2026-118",
        token=token,
    )
    assert (added["state"], added["unit"], added["rule"]) == ("pending", "审批处", None)
    assert duban.json("appeal", "list", token=w["tokens"]["法规处"]) == []
    listed = duban.json("appeal", "list", "--state", "pending")
    assert [a["id"] for a in listed] == [added["id"]]
    text = duban.ok("appeal", "list").stdout
    assert "已线下报送" in text and "待处理" in text

    before = snapshot(db.engine)
    refused = duban(
        "appeal", "decide", str(added["id"]), "--uphold", "--reason", "同意", token=token
    )
    assert refused.exit_code == 4 and "仅办公室" in refused.stderr
    assert snapshot(db.engine) == before

    decided = duban.json("appeal", "decide", str(added["id"]), "--uphold", "--reason", "核实已报送")
    assert decided["state"] == "upheld" and decided["decided_by"] == "办公室"
    scores, data = _units(duban, "--detail")
    assert scores["审批处"] == 100.0
    assert [(a["id"], a["state_label"]) for a in data["appeals"]] == [(added["id"], "申诉成立")]
    out = duban.ok("score", "--year", "2026", "--as-of", "2026-12-31", "--detail").stdout
    for words in (
        "申诉成立",
        "核实已报送",
        "扣分依据的规则",
        "黄牌：逾期（含年底未报送）达 1 项，扣 2 分",
    ):
        assert words in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["appeal", "add", "abc", "--reason", "x"], 2, "申诉对象“abc”无效"),
        (["appeal", "add", "99999", "--reason", "x"], 3, "任务 #99999 不存在"),
        (["appeal", "decide", "7", "--reason", "x"], 2, "--uphold"),
        (["appeal", "decide", "7", "--reject", "--reason", "x"], 3, "申诉 #7 不存在"),
        (
            [
                "score",
                "bonus",
                "add",
                "法规处",
                "--year",
                "2026",
                "--points",
                "-1",
                "--reason",
                "x",
                "--evidence",
                "y",
            ],
            2,
            "加分“-1”无效",
        ),  # fmt: skip
        (
            [
                "score",
                "bonus",
                "add",
                "无此单位",
                "--year",
                "2026",
                "--points",
                "1",
                "--reason",
                "x",
                "--evidence",
                "y",
            ],
            3,
            "无此单位",
        ),  # fmt: skip
    ],
)
def test_refusals_change_nothing(duban, world, args, code, message):
    _, db = world
    before = snapshot(db.engine)
    result = duban(*args)
    assert result.exit_code == code, result.output + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert snapshot(db.engine) == before


def test_unit_appeals_only_its_own(duban, world):
    w, db = world
    _, other = w["审批处"]
    before = snapshot(db.engine)
    result = duban("appeal", "add", str(other), "--reason", "x", token=w["tokens"]["法规处"])
    assert result.exit_code == 4 and "本单位" in result.stderr
    assert snapshot(db.engine) == before


def test_bonus_then_freeze(duban, world):
    w, db = world
    added = duban.json(
        "score", "bonus", "add", "法规处", "--year", "2026", "--points", "1.5",
        "--reason", "经验做法被省政府采用", "--evidence", "粤府办〔2026〕3号",
    )  # fmt: skip
    assert (added["points"], added["unit"]) == (1.5, "法规处")
    assert [b["id"] for b in duban.json("score", "bonus", "list", "--year", "2026")] == [
        added["id"]
    ]
    # 法规处: late 1 + 2 working days × 0.5 = 2, yellow card 2 → 96; bonus capped at 1 → 97
    scores, data = _units(duban)
    assert scores["法规处"] == 97.0
    bonus = next(a for a in data["adjustments"] if a["rule"] == "bonus")
    assert bonus["points"] == 1.0 and "粤府办〔2026〕3号" in bonus["note"]

    frozen = duban.json("score", "freeze", "--year", "2026", "--as-of", "2026-12-31")
    assert (frozen["year"], frozen["as_of"], frozen["by"]) == (2026, "2026-12-31", "办公室")
    # a later appeal, bonus or freeze is refused; the sheet says it is frozen
    _, aid = w["审批处"]
    before = snapshot(db.engine)
    for args in (
        ["appeal", "add", str(aid), "--reason", "迟到的申诉"],
        [
            "score",
            "bonus",
            "add",
            "审批处",
            "--year",
            "2026",
            "--points",
            "1",
            "--reason",
            "x",
            "--evidence",
            "y",
        ],  # fmt: skip
        ["score", "freeze", "--year", "2026"],
    ):
        result = duban(*args, token=w["tokens"]["审批处"] if args[0] == "appeal" else None)
        assert result.exit_code == 5 and "已于 2026-03-02 由办公室封存" in result.stderr
    assert snapshot(db.engine) == before
    later, data = _units(duban)
    assert later == scores and data["frozen"]["as_of"] == "2026-12-31"
    assert "以下为封存的结果" in duban.ok("score", "--year", "2026").stdout

"""签收: a unit acknowledges a newly assigned task; the board, the history and the export show it."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest
from conftest import unit_caller
from dbsnap import snapshot

from workflow.dates.clock import SHANGHAI
from workflow.directory.units import add_unit
from workflow.errors import Conflict, PermissionDenied
from workflow.evaluation.board import board
from workflow.storage.models import History
from workflow.tasks.acknowledge import acknowledge
from workflow.tasks.assignments import add_task, show_assignment
from workflow.tasks.lifecycle import fire


@pytest.fixture
def world(db, office, now):
    with db.session() as s:
        fagui = add_unit(s, office, "法规处", now)
        caiwu = add_unit(s, office, "财务处", now)
        _, rows = add_task(s, office, "修订公开指南", ["法规处", "财务处"], date(2026, 11, 30), now)
        return {
            "法规处": (unit_caller(fagui), rows[0].id),
            "财务处": (unit_caller(caiwu), rows[1].id),
        }


def test_a_unit_signs_once_and_the_history_says_when(db, now, world):
    caller, aid = world["法规处"]
    at = datetime(2026, 3, 2, 10, 30, tzinfo=SHANGHAI)
    with db.session() as s:
        first = acknowledge(s, caller, aid, at)
        assert not first.already and first.assignment.acknowledged_by == "法规处"
    with db.session() as s:
        again = acknowledge(s, caller, aid, datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI))
        assert again.already and again.assignment.acknowledged_at == at  # the first one stays
        rows = s.exec(History.__table__.select().where(History.action == "acknowledge")).all()
        assert len(rows) == 1 and rows[0].actor == "法规处"
        view = show_assignment(s, caller, aid)
        assert view["acknowledged_at"] == at
        assert view["history"][-1]["action_label"] == "签收"


def test_only_the_unit_itself_signs(db, office, now, world):
    caller, _ = world["财务处"]
    _, other = world["法规处"]
    before = snapshot(db.engine)
    with pytest.raises(PermissionDenied), db.session() as s:
        acknowledge(s, caller, other, now)
    with pytest.raises(PermissionDenied), db.session() as s:
        acknowledge(s, office, other, now)
    assert snapshot(db.engine) == before


def test_a_cancelled_task_needs_no_signature(db, office, now, world):
    caller, aid = world["法规处"]
    with db.session() as s:
        fire(s, aid, "cancel", office, now=now, reason="计划调整")
    with pytest.raises(Conflict), db.session() as s:
        acknowledge(s, caller, aid, now)


def test_the_board_lists_who_has_not_signed(db, office, now, world, tmp_path):
    from workflow.config import Config

    config = Config(config_dir=tmp_path, data_dir=tmp_path, database_url="")
    fagui, fagui_id = world["法规处"]
    caiwu, caiwu_id = world["财务处"]
    with db.session() as s:
        acknowledge(s, fagui, fagui_id, now)
        fire(s, caiwu_id, "start", caiwu, now=now)  # started: received, never "unsigned"
    with db.session() as s:
        b = board(s, office, None, date(2026, 3, 2), config=config)
        assert b["totals"]["unsigned"] == 0 and b["unsigned"] == []
    with db.session() as s:
        _, rows = add_task(s, office, "年报", ["财务处"], date(2026, 11, 30), now)
        new = rows[0].id
    with db.session() as s:
        b = board(s, office, None, date(2026, 3, 2), config=config)
    assert [(r["id"], r["unit"]) for r in b["unsigned"]] == [(new, "财务处")]
    assert {u["unit"]: u["unsigned"] for u in b["units"]} == {"法规处": 0, "财务处": 1}


# ------------------------------------------------------------------ CLI, export, page


def test_cli_ack_show_and_export(duban, tmp_path):
    duban.ok("unit", "add", "法规处")
    rows = duban.json("task", "add", "修订公开指南", "--unit", "法规处", "--due", "2026-11-30")
    aid = str(rows[0]["id"])
    token = duban.json("token", "issue", "法规处")["token"]
    assert "未签收" in duban.ok("task", "show", aid).stdout
    out = duban.json("task", "ack", aid, token=token)
    assert out["already"] is False and out["acknowledged_by"] == "法规处"
    again = duban.ok("task", "ack", aid, token=token)
    assert "无需重复签收" in again.stdout
    assert "签收：2026-03-02 09:00 法规处" in duban.ok("task", "show", aid).stdout
    refused = duban("task", "ack", aid)  # the office does not sign for a unit
    assert refused.exit_code == PermissionDenied.exit_code and "Traceback" not in refused.output
    assert "签收" in refused.stderr
    missing = duban("task", "ack", "999", token=token)
    assert missing.exit_code != 0 and "不存在" in missing.stderr


def test_the_ledger_export_has_the_signing_time(duban, tmp_path):
    duban.ok("unit", "add", "法规处")
    duban.ok("unit", "add", "财务处")
    token = duban.json("token", "issue", "法规处")["token"]
    signed = duban.json("event", "add", "政策解读", "--date", "2026-03-02", "--unit", "法规处", "--ref", "文1")  # fmt: skip
    duban.json("event", "add", "政策解读", "--date", "2026-03-02", "--unit", "财务处", "--ref", "文2")  # fmt: skip
    duban.ok("task", "ack", str(signed["id"]), token=token)
    path = tmp_path / "ledger.xlsx"
    duban.ok("export", "ledger", "--plan", "2026", str(path))
    sheet = openpyxl.load_workbook(path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(r for r in rows if r[0] == "序号")
    column = header.index("签收时间")
    by_title = {r[1]: r[column] for r in rows if r[1] and r[1].startswith("政策解读")}
    assert by_title == {"政策解读：文1": "2026-03-02 09:00", "政策解读：文2": None}


@pytest.mark.local_only
def test_the_pages_sign_show_the_board_and_the_clock(duban, cli_env, monkeypatch):
    """The unit's 签收 button, the board's unsigned list, and a stopped 依申请公开 clock on the
    task's page, over the real app (in-process)."""
    import re

    from fastapi.testclient import TestClient

    from workflow.config import load_config
    from workflow.web.app import create_app

    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    duban.ok("leader", "add", "王副主任", "--email", "wang@example.org")
    duban.ok("unit", "add", "法规科", "--email", "fg@example.org", "--leader", "王副主任")
    aid = duban.json("task", "add", "修订办事指南", "--unit", "法规科", "--due", "2026-03-31")[0][
        "id"
    ]
    request = duban.json("event", "add", "依申请公开", "--date", "2026-03-02", "--unit", "法规科", "--ref", "申请 9")  # fmt: skip
    duban.ok("event", "pause", str(request["id"]), "--reason", "补正", "--on", "2026-03-04")
    tokens = {
        "unit": duban.json("token", "issue", "法规科")["token"],
        "leader": duban.json("token", "issue", "王副主任", "--role", "leader")["token"],
    }
    app = create_app(load_config(cli_env))

    def client(role: str) -> TestClient:
        c = TestClient(app)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"token": tokens[role], "csrf_token": csrf})
        return c

    leader, unit = client("leader"), client("unit")
    board_page = leader.get("/board").text
    assert "未签收任务" in board_page and f"#{aid} 修订办事指南" in board_page
    page = unit.get(f"/assignments/{aid}").text
    assert "未签收" in page and f'action="/assignments/{aid}/ack"' in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = unit.post(f"/assignments/{aid}/ack", data={"csrf_token": csrf})
    assert done.status_code == 200 and "已签收" in done.text
    assert f'action="/assignments/{aid}/ack"' not in done.text
    assert "2026-03-02 09:00 · 法规科" in done.text
    assert f"#{aid} 修订办事指南" not in leader.get("/board").text
    clock = unit.get(f"/assignments/{request['id']}").text
    assert "自 2026-03-04 起暂停" in clock and "暂停计时" in clock and "条例第三十条" in clock
    leader_csrf = re.search(r'name="csrf_token" value="([^"]+)"', board_page).group(1)
    refused = leader.post(f"/assignments/{aid}/ack", data={"csrf_token": leader_csrf})
    assert refused.status_code == 403 and "签收" in refused.text

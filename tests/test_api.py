"""The API door over a real HTTP server (uvicorn in a thread): the server alone decides
permission, whatever the request says; bad requests get a Chinese JSON error and the database
stays as it was; history rows record the remote address."""

from __future__ import annotations

import json

import httpx
import pytest
from conftest import Cli
from dbsnap import snapshot
from live_server import ThreadServer

from workflow.calls.table import OPERATIONS


@pytest.fixture
def world(cli_env):
    """Two units with one assignment each (法规处 reported, 海域处 in progress), their tokens,
    a server over that database."""
    office = Cli(cli_env)
    office.ok("leader", "add", "王主任", "--email", "wang@example.org")
    office.ok("unit", "add", "法规处", "--email", "fg@example.org", "--leader", "王主任")
    office.ok("unit", "add", "海域处", "--email", "hy@example.org", "--leader", "王主任")
    rows = office.json(
        "task", "add", "修订指南", "--unit", "法规处", "--unit", "海域处", "--due", "2026-11-30"
    )
    ids = {r["unit"]: r["id"] for r in rows}
    tokens = {u: office.json("token", "issue", u)["token"] for u in ids}
    office.ok("task", "report", ids["法规处"], "--text", "已完成", token=tokens["法规处"])
    office.ok("task", "start", ids["海域处"], token=tokens["海域处"])
    office.json("task", "request-extension", ids["海域处"], "--to", "2026-12-15", "--reason", "等文件",
                token=tokens["海域处"])  # fmt: skip
    server = ThreadServer(cli_env)
    yield {"ids": ids, "tokens": tokens, "url": server.url, "office": cli_env["DUBAN_TOKEN"]}
    server.stop()


def request(world, name, token, /, **params):
    op = OPERATIONS[name]
    path = {k: params.pop(k) for k in op.path_params}
    url = f"{world['url']}/api/v1{op.url_path(path)}"
    headers = {"Authorization": f"Bearer {token}"}
    if op.method == "GET":  # a generous timeout: CI machines can be busy
        return httpx.get(url, params=params, headers=headers, timeout=60)
    return httpx.request(op.method, url, json=params, headers=headers, timeout=60)


# A unit's token (法规处) against every endpoint that names another unit's (海域处) assignment.
OTHERS = [
    ("task.show", {}, 403),
    ("task.start", {}, 403),
    ("task.report", {"text": "冒名报送"}, 403),
    ("task.verify", {}, 403),
    ("task.return", {"reason": "x"}, 403),
    ("task.extend", {"new_due": "2026-12-31", "reason": "x"}, 403),
    ("task.cancel", {"reason": "x"}, 403),
    ("task.reopen", {"reason": "x"}, 403),
    ("extension.request", {"new_due": "2026-12-20", "reason": "x"}, 403),
    ("event.extend", {"days": 5, "reason": "x"}, 403),
    ("notify.preview", {"kind": "reminder"}, 403),
]


@pytest.mark.parametrize(("name", "params", "status"), OTHERS, ids=[o[0] for o in OTHERS])
def test_a_unit_token_cannot_touch_another_units_assignment(world, cli_env, name, params, status):
    before = snapshot(cli_env["DUBAN_DATABASE_URL"])
    r = request(
        world, name, world["tokens"]["法规处"], assignment_id=world["ids"]["海域处"], **params
    )
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
    assert snapshot(cli_env["DUBAN_DATABASE_URL"]) == before


OFFICE_ONLY = [
    ("token.issue", {"holder": "海域处"}),
    ("token.list", {}),
    ("token.revoke", {"token_id": 1}),
    ("unit.add", {"name": "新科"}),
    ("unit.edit", {"name": "海域处", "rename": "改名处"}),
    ("unit.edit", {"name": "法规处", "robot": "wecom", "robot_token": "k" * 20}),
    ("leader.add", {"name": "李四"}),
    ("leader.edit", {"name": "王主任", "robot": "none", "email": ""}),
    ("task.add", {"title": "X", "units": ["海域处"], "due": "2026-12-01"}),
    ("extension.approve", {"request_id": 1}),
    ("extension.refuse", {"request_id": 1, "reason": "x"}),
    ("check", {}),
    ("notify.send", {}),
    ("notify.list", {}),
    ("notify.retry", {"all_failed": True}),
    ("notify.test-robot", {"name": "法规处"}),
    ("mail.test", {"address": "a@example.org"}),
    ("mail.settings", {}),
    ("score.waive", {"row": "2:late", "reason": "x"}),
    ("export.ledger", {"plan": "1", "path": "x.xlsx"}),
    ("export.evaluation", {"path": "x.xlsx"}),
]


@pytest.mark.parametrize(("name", "params"), OFFICE_ONLY, ids=[o[0] for o in OFFICE_ONLY])
def test_office_work_is_refused_to_a_unit_token(world, cli_env, name, params):
    before = snapshot(cli_env["DUBAN_DATABASE_URL"])
    r = request(world, name, world["tokens"]["法规处"], **params)
    assert r.status_code == 403, r.text
    assert "办公室" in r.json()["error"]["message"]
    assert snapshot(cli_env["DUBAN_DATABASE_URL"]) == before


def test_a_unit_sees_only_its_own_whatever_it_asks(world):
    token = world["tokens"]["法规处"]
    mine = request(world, "task.list", token).json()["result"]
    assert [r["unit"] for r in mine] == ["法规处"]
    assert request(world, "task.list", token, unit="海域处").json()["result"] == []


@pytest.mark.parametrize("field", ["caller", "session", "now", "config", "db", "progress"])
def test_a_request_cannot_set_what_the_server_supplies(world, cli_env, field):
    before = snapshot(cli_env["DUBAN_DATABASE_URL"])
    r = request(
        world, "task.start", world["tokens"]["海域处"], assignment_id=world["ids"]["法规处"],
        **{field: "office"},
    )  # fmt: skip
    assert r.status_code == 400 and field in r.json()["error"]["message"]
    assert snapshot(cli_env["DUBAN_DATABASE_URL"]) == before


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [
        (None, 401, "未提供令牌"),
        ("Bearer dbn_wrong", 401, "令牌无效"),
        ("Basic YTpi", 401, "未提供令牌"),
    ],
)
def test_missing_or_wrong_token_is_401(world, token, status, words):
    headers = {"Authorization": token} if token is not None else {}
    r = httpx.get(f"{world['url']}/api/v1/assignments", headers=headers)
    assert r.status_code == status and words in r.json()["error"]["message"]


def test_a_revoked_token_is_401(world):
    office = world["office"]
    listed = request(world, "token.list", office).json()["result"]
    unit_token = next(t for t in listed if t["holder"] == "法规处")
    assert request(world, "token.revoke", office, token_id=unit_token["id"]).status_code == 200
    r = request(world, "task.list", world["tokens"]["法规处"])
    assert r.status_code == 401 and "已吊销" in r.json()["error"]["message"]


def test_history_records_the_remote_address(world):
    token = world["tokens"]["海域处"]
    aid = world["ids"]["海域处"]
    assert request(world, "task.report", token, assignment_id=aid, text="已办").status_code == 200
    history = request(world, "task.show", world["office"], assignment_id=aid).json()["result"][
        "history"
    ]
    assert history[-1]["action"] == "report" and history[-1]["address"] == "127.0.0.1"
    assert history[0]["address"] is None  # made by the office's local CLI


@pytest.mark.parametrize(
    ("content_type", "body", "status", "words"),
    [
        ("application/json", b"{not json", 400, "不是有效的 JSON"),
        ("application/json", b"[1, 2]", 400, "JSON 对象"),
        ("application/json", json.dumps({"text": 5}).encode(), 400, "text"),
        ("text/plain", b"text=hello", 415, "不受支持"),
        ("application/json", b"{" + b'"text": "' + b"x" * (1024 * 1024) + b'"}', 413, "过大"),
    ],
)
def test_bad_bodies(world, cli_env, content_type, body, status, words):
    before = snapshot(cli_env["DUBAN_DATABASE_URL"])
    aid = world["ids"]["海域处"]
    r = httpx.post(
        f"{world['url']}/api/v1/assignments/{aid}/report",
        content=body,
        headers={
            "Authorization": f"Bearer {world['tokens']['海域处']}",
            "Content-Type": content_type,
        },
    )
    assert r.status_code == status and words in r.json()["error"]["message"], r.text
    assert snapshot(cli_env["DUBAN_DATABASE_URL"]) == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing",
        "/api/v1/tasks/../../etc/passwd",
        "/api/v1/assignments/abc",
        "/api/v1/assignments/1/explode",
    ],
)
def test_unknown_routes_are_404(world, path):
    r = httpx.get(f"{world['url']}{path}", headers={"Authorization": f"Bearer {world['office']}"})
    assert r.status_code in (404, 405)
    assert r.json()["error"]["message"]


def test_an_unexpected_failure_shows_no_trace(world, monkeypatch):
    import workflow.directory.calls as calls

    def explode(caller):
        raise RuntimeError("secret internals at /srv/duban/workflow/x.py line 12")

    monkeypatch.setattr(calls, "whoami", explode)
    r = httpx.get(
        f"{world['url']}/api/v1/me", headers={"Authorization": f"Bearer {world['office']}"}
    )
    assert r.status_code == 500
    error = r.json()["error"]
    assert (error["code"], error["reason"], error["field"], error["hint"]) == (
        "internal",
        "internal",
        None,
        None,
    )
    assert error["message"] == "服务器内部错误，请联系办公室查看服务日志"
    assert "Traceback" not in r.text and "secret" not in r.text


def test_cors_stays_closed_and_headers_are_safe(world):
    r = httpx.options(
        f"{world['url']}/api/v1/assignments",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in r.headers
    r = httpx.get(
        f"{world['url']}/api/v1/assignments",
        headers={"Authorization": f"Bearer {world['office']}", "Origin": "https://evil.example"},
    )
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"

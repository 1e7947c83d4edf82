"""The pages' rules over HTTP, in-process: who may open what, and errors as HTML pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from workflow.config import load_config


@pytest.fixture
def office_with_people(duban, cli_env, monkeypatch):
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    duban.ok("leader", "add", "王副主任", "--email", "wang@example.org")
    duban.ok("unit", "add", "法规科", "--email", "fg@example.org", "--leader", "王副主任")
    duban.ok("task", "add", "修订办事指南", "--unit", "法规科", "--due", "2026-03-31")
    tokens = {
        "office": cli_env["DUBAN_TOKEN"],
        "unit": duban.json("token", "issue", "法规科")["token"],
        "leader": duban.json("token", "issue", "王副主任", "--role", "leader")["token"],
    }
    from workflow.web.app import create_app

    app = create_app(load_config(cli_env))

    def client(role: str) -> TestClient:
        c = TestClient(app)
        page = c.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        c.post("/login", data={"token": tokens[role], "csrf_token": csrf})
        return c

    return client


def _csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


OFFICE_PAGES = ["/office/verify", "/office/extensions", "/office/outbox", "/office/import"]


def test_each_role_opens_its_pages_and_is_refused_the_others(office_with_people):
    office, unit, leader = (office_with_people(r) for r in ("office", "unit", "leader"))
    for path in [*OFFICE_PAGES, "/board", "/tasks", "/assignments/1"]:
        r = office.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"] == "text/html; charset=utf-8"
    for path in OFFICE_PAGES:
        for who in (unit, leader):
            r = who.get(path)
            assert r.status_code == 403 and "无权访问" in r.text and "错误：无权" in r.text, path
    assert leader.get("/board").status_code == 200 and unit.get("/board").status_code == 403
    assert unit.get("/tasks").status_code == 200 and leader.get("/assignments/1").status_code == 200


def test_a_leader_cannot_act_even_with_a_valid_form(office_with_people):
    leader = office_with_people("leader")
    csrf = _csrf(leader, "/board")
    r = leader.post("/office/assignments/1/verify", data={"csrf_token": csrf})
    assert r.status_code == 403 and "无权核验通过" in r.text
    r = leader.post("/assignments/1/report", data={"csrf_token": csrf, "text": "代报"})
    assert r.status_code == 403


def test_bad_input_is_a_one_line_error_page_and_nothing_changes(office_with_people):
    unit = office_with_people("unit")
    csrf = _csrf(unit, "/assignments/1")
    r = unit.post("/assignments/1/report", data={"csrf_token": csrf, "text": "  "})
    assert r.status_code == 400 and "需要填写进展落实情况" in r.text
    assert 'action="/assignments/1/report"' in r.text  # the form again, with the error
    r = unit.post("/assignments/1/extension", data={"csrf_token": csrf, "to": "2026-13-01"})
    assert r.status_code == 400 and "申请延至无效" in r.text and "--to" not in r.text
    assert unit.get("/assignments/999").status_code == 404
    assert unit.get("/assignments/abc").status_code == 400
    assert "已分派" in unit.get("/assignments/1").text


def test_a_report_from_a_page_records_the_remote_address(office_with_people, cli_env):
    import sqlalchemy as sa

    unit = office_with_people("unit")
    csrf = _csrf(unit, "/assignments/1")
    r = unit.post("/assignments/1/report", data={"csrf_token": csrf, "text": "已修订"})
    assert r.status_code in (200, 303)
    engine = sa.create_engine(cli_env["DUBAN_DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select actor, address from history where action = 'report'")
        ).one()
    engine.dispose()
    assert row.actor == "法规科" and row.address == "testclient"  # TestClient's client host

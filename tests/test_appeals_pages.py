"""The 申诉 page (/appeals): a unit files an appeal, the office decides it, in-process over HTTP."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from workflow.config import load_config


@pytest.fixture
def people(duban, cli_env, monkeypatch):
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
        c = TestClient(app, follow_redirects=False)
        page = c.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        c.post("/login", data={"token": tokens[role], "csrf_token": csrf})
        return c

    engine = sa.create_engine(cli_env["DUBAN_DATABASE_URL"])
    yield client, engine
    engine.dispose()


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/appeals").text).group(1)


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


@pytest.mark.local_only
def test_unit_files_office_upholds(people):
    client, engine = people
    unit, office, leader = client("unit"), client("office"), client("leader")
    assert 'href="/appeals?assignment=1"' in unit.get("/assignments/1").text
    assert 'value="1"' in unit.get("/appeals?assignment=1").text  # the form is filled in
    page = unit.get("/appeals")
    assert (
        page.status_code == 200 and "对扣分提出申诉" in page.text and 'href="/appeals"' in page.text
    )
    csrf = _csrf(unit)
    r = unit.post("/appeals", data={"csrf_token": csrf, "assignment": "1", "reason": "  "})
    assert r.status_code == 400 and "申诉理由不能为空" in r.text and "--reason" not in r.text
    assert _count(engine, "appeal") == 0
    r = unit.post(
        "/appeals",
        data={
            "csrf_token": csrf,
            "assignment": "1",
            "reason": "文件未印发",
            "evidence": "函 12 号",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/appeals?done=filed"
    text = unit.get("/appeals?done=filed").text
    assert "申诉已提交" in text and "文件未印发" in text and "函 12 号" in text
    assert "申诉成立（免扣）" not in text  # a unit cannot decide
    r = unit.post(
        "/appeals/1/decide", data={"csrf_token": csrf, "outcome": "uphold", "reason": "x"}
    )
    assert r.status_code == 403 and "仅办公室" in r.text

    looking = leader.get("/appeals").text
    assert (
        "文件未印发" in looking and "申诉成立（免扣）" not in looking and "提交申诉" not in looking
    )

    assert "申诉成立（免扣）" in office.get("/appeals").text
    csrf = _csrf(office)
    r = office.post("/appeals/1/decide", data={"csrf_token": csrf, "outcome": "", "reason": "x"})
    assert r.status_code == 400 and "请选择处理结果" in r.text
    r = office.post(
        "/appeals/1/decide", data={"csrf_token": csrf, "outcome": "uphold", "reason": "核实属实"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/appeals?done=upheld"
    assert _count(engine, "waiver") == 1
    text = unit.get("/appeals").text
    assert "申诉成立" in text and "核实属实" in text and "没有待处理的申诉" in text


@pytest.mark.local_only
def test_office_enters_bonus_on_its_page(people):
    client, engine = people
    office, unit = client("office"), client("unit")
    assert unit.get("/office/bonus").status_code == 403
    page = office.get("/office/bonus")
    assert page.status_code == 200 and "登记加分" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {
        "csrf_token": csrf,
        "unit": "法规科",
        "year": "2026",
        "points": "1.5",
        "reason": "被采用",
    }
    r = office.post("/office/bonus", data={**form, "evidence": " "})
    assert r.status_code == 400 and "加分需要写明依据" in r.text and "--evidence" not in r.text
    assert _count(engine, "bonus") == 0
    r = office.post("/office/bonus", data={**form, "evidence": "粤府办〔2026〕3号"})
    assert r.status_code == 303 and r.headers["location"] == "/office/bonus?done=added"
    text = office.get("/office/bonus?done=added").text
    assert "已登记加分" in text and "粤府办〔2026〕3号" in text and "1.5" in text

"""Errors speak the page's language (issue 29): the field as the form labels it, never a
``--flag``; what was typed is kept; a refusal the task's state explains says what to do."""

from __future__ import annotations

import re

import pytest
from conftest import Cli
from fastapi.testclient import TestClient

from workflow.config import load_config


@pytest.fixture
def pages(cli_env, monkeypatch):
    """法规科 has #1 (due 2026-03-31); ``pages(role)`` is a signed-in browser of that role."""
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    cli = Cli(cli_env)
    cli.ok("unit", "add", "法规科", "--email", "fg@example.org")
    cli.ok("task", "add", "修订办事指南", "--unit", "法规科", "--due", "2026-03-31")
    tokens = {
        "office": cli_env["DUBAN_TOKEN"],
        "unit": cli.json("token", "issue", "法规科")["token"],
    }
    from workflow.web.app import create_app

    app = create_app(load_config(cli_env))

    def client(role: str) -> TestClient:
        c = TestClient(app)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"token": tokens[role], "csrf_token": csrf})
        return c

    client.cli = cli
    return client


def csrf(c: TestClient, path: str = "/assignments/1") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text).group(1)


def textarea(html: str, name: str) -> str:
    return re.search(rf'<textarea id="{name}"[^>]*>(.*?)</textarea>', html, re.S).group(1)


def no_flags(html: str) -> None:
    assert not re.search(r"--[a-z]", html.split("<main", 1)[-1]), "a CLI flag on a page"
    assert "状态码" not in html and "Traceback" not in html


def test_a_missing_field_is_named_by_its_label_and_the_rest_is_kept(pages):
    unit = pages("unit")
    r = unit.post(
        "/assignments/1/report",
        data={"csrf_token": csrf(unit), "text": "  ", "evidence": "https://gov.example.cn/a"},
    )
    assert r.status_code == 400
    assert 'id="report-error">进展落实情况：' in r.text
    assert 'id="text" name="text" rows="5" required aria-invalid="true"' in r.text
    assert textarea(r.text, "evidence") == "https://gov.example.cn/a"
    no_flags(r.text)


def test_an_extension_keeps_the_date_and_reason_typed(pages):
    unit = pages("unit")
    token = csrf(unit)
    r = unit.post(
        "/assignments/1/extension",
        data={"csrf_token": token, "to": "2026-13-01", "reason": "需会签"},
    )
    assert r.status_code == 400 and "申请延至：申请延至无效" in r.text
    assert 'value="2026-13-01"' in r.text and textarea(r.text, "reason") == "需会签"
    no_flags(r.text)
    r = unit.post(
        "/assignments/1/extension", data={"csrf_token": token, "to": "2026-04-10", "reason": " "}
    )
    assert r.status_code == 400 and 'id="extension-error">理由：' in r.text
    assert 'value="2026-04-10"' in r.text
    no_flags(r.text)


def test_a_report_on_a_verified_task_says_what_to_do_and_keeps_the_text(pages):
    unit = pages("unit")
    token = csrf(unit)  # the page as the unit opened it, before the office verified
    assert unit.post(
        "/assignments/1/report", data={"csrf_token": token, "text": "已修订"}
    ).status_code in (200, 303)
    pages.cli.ok("task", "verify", "1")
    r = unit.post("/assignments/1/report", data={"csrf_token": token, "text": "补充：已发布解读"})
    assert r.status_code == 409
    assert "该报送已被核验，无需再次报送" in r.text
    assert "操作冲突" not in r.text
    assert textarea(r.text, "kept") == "补充：已发布解读"  # the form is gone; the text is not
    no_flags(r.text)

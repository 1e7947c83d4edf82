"""督办单 pages: the office's list, the task page's download link, each role sees its own."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from fastapi.testclient import TestClient

from workflow.config import load_config


@pytest.fixture
def pages(duban, cli_env, monkeypatch):
    if duban.env.get("DUBAN_SERVER"):
        pytest.skip("pages run in-process; once is enough")
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    duban.ok("leader", "add", "王副主任", "--email", "wang@example.org")
    duban.ok("unit", "add", "法规科", "--email", "fg@example.org", "--leader", "王副主任")
    duban.ok("unit", "add", "海域科", "--email", "hy@example.org")
    duban.ok(
        "task", "add", "修订办事指南", "--unit", "法规科", "--unit", "海域科", "--due", "2026-03-31"
    )
    duban.ok("check", "--as-of", "2026-04-03")  # 3 working days late: 催办 both, 督办 法规科
    tokens = {
        "office": cli_env["DUBAN_TOKEN"],
        "unit": duban.json("token", "issue", "海域科")["token"],
    }
    from workflow.web.app import create_app

    app = create_app(load_config(cli_env))

    def client(role: str) -> TestClient:
        c = TestClient(app)
        page = c.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        c.post("/login", data={"token": tokens[role], "csrf_token": csrf})
        return c

    return client, duban


def test_office_lists_all_and_downloads_the_docx(pages):
    client, duban = pages
    office = client("office")
    page = office.get("/notices")
    assert page.status_code == 200
    for number in ("催办〔2026〕1号", "催办〔2026〕2号", "督办〔2026〕1号"):
        assert number in page.text
    assert 'href="/notices"' in office.get("/office/verify").text  # in the office's menu
    notice = duban.json("notice", "show", "督办〔2026〕1号")
    task_page = office.get(f"/assignments/{notice['assignment_id']}")
    assert f'href="/notices/{notice["id"]}/docx"' in task_page.text
    r = office.get(f"/notices/{notice['id']}/docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert "attachment" in r.headers["content-disposition"]
    doc = Document(io.BytesIO(r.content))
    text = "\n".join([p.text for p in doc.paragraphs])
    assert "督办〔2026〕1号" in text and "法规科" in text


def test_a_unit_sees_and_downloads_only_its_own(pages):
    client, duban = pages
    unit = client("unit")
    page = unit.get("/notices")
    assert page.status_code == 200 and "海域科" in page.text and "法规科" not in page.text
    other = duban.json("notice", "show", "督办〔2026〕1号")  # 法规科's
    r = unit.get(f"/notices/{other['id']}/docx")
    assert r.status_code == 403 and "无权" in r.text
    assert unit.get("/notices/999/docx").status_code == 404

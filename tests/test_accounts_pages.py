"""The sign-in page in-process: the plain-http warning, one-time links, the API's sign-in and
the auditor's page (the browser tests drive a real server: tests/test_accounts_browser.py)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from workflow.accounts import manage
from workflow.accounts.signin import make_link
from workflow.config import load_config
from workflow.directory.roles import Caller
from workflow.storage.db import Database

OFFICE = Caller(role="office", name="办公室")


@pytest.fixture
def app(cli_env, monkeypatch):
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    from workflow.web.app import create_app

    return create_app(load_config(cli_env))


@pytest.fixture
def accounts(cli_env, now):
    db = Database(cli_env["DUBAN_DATABASE_URL"])
    with db.session() as s:
        _, audit_pw = manage.add_account(s, OFFICE, "审计员", "auditor", now)
        manage.add_account(s, OFFICE, "张三", "office", now)
        _, code = make_link(s, "张三", now)
    db.engine.dispose()
    return {"audit": audit_pw, "link": code}


@pytest.mark.parametrize(
    ("base", "warned"),
    [
        ("http://duban.example.gov.cn", True),
        ("http://10.1.2.3:8080", True),
        ("https://duban.example.gov.cn", False),
        ("http://127.0.0.1:8080", False),
        ("http://localhost:8080", False),
    ],
)
def test_plain_http_off_loopback_is_warned(app, base, warned):
    with TestClient(app, base_url=base) as c:
        page = c.get("/login").text
    assert ("连接未加密" in page) is warned
    assert re.search(r'<label for="account">账号</label>', page)
    assert re.search(r'<label for="password">密码</label>', page)


def test_a_sign_in_link_signs_in_once(app, accounts):
    with TestClient(app, base_url="https://duban.example.gov.cn") as c:
        first = c.get(f"/login/link/{accounts['link']}", follow_redirects=False)
        assert first.status_code == 303 and "duban_session" in first.cookies
        c.cookies.clear()
        again = c.get(f"/login/link/{accounts['link']}", follow_redirects=False)
        assert again.status_code == 401 and "登录链接无效或已过期" in again.text


def test_the_api_sign_in_gives_a_personal_token(app, accounts):
    with TestClient(app, base_url="https://duban.example.gov.cn") as c:
        wrong = c.post("/api/v1/sign-in", json={"account": "审计员", "password": "nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "账号或密码错误"
        bad = c.post("/api/v1/sign-in", json={"account": "审计员"})
        assert bad.status_code == 400
        ok = c.post("/api/v1/sign-in", json={"account": "审计员", "password": accounts["audit"]})
        assert ok.status_code == 200
        token = ok.json()["result"]["token"]
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["result"] == {"role": "auditor", "name": "审计员（审计员）"}


def test_the_auditor_reads_the_audit_log_and_the_office_no_longer_does(app, accounts, cli_env):
    with TestClient(app, base_url="https://duban.example.gov.cn") as c:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf})
        assert c.get("/office/audit").status_code == 403
        c.cookies.clear()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        signed = c.post(
            "/login",
            data={"account": "审计员", "password": accounts["audit"], "csrf_token": csrf},
        )
        assert signed.url.path == "/account/password"  # the initial password first
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', signed.text).group(1)
        changed = c.post(
            "/account/password",
            data={
                "old": accounts["audit"],
                "new": "Audit-2026",
                "again": "Audit-2026",
                "csrf_token": csrf,
            },
        )
        assert changed.url.path == "/office/audit" and changed.status_code == 200
        assert "审计日志" in changed.text

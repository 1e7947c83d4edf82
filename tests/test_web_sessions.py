"""Browser sessions: sign in with a token, idle timeout, revocation, sign out, CSRF, cookies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from workflow.config import load_config
from workflow.directory.tokens import issue_token, revoke_token
from workflow.directory.units import add_unit
from workflow.directory.web_sessions import (
    DEFAULT_IDLE_MINUTES,
    idle_timeout,
    resume,
    same_secret,
    session_lifetime,
    sign_in,
    sign_out,
)
from workflow.errors import ConfigError, NotAuthenticated
from workflow.storage.models import WebSession

IDLE = timedelta(minutes=30)


@pytest.fixture
def unit_token(db, office, now):
    with db.session() as s:
        add_unit(s, office, "法规科", now)
        return issue_token(s, office, "法规科", now)


def test_sign_in_then_resume_until_idle_too_long(db, now, unit_token):
    with db.session() as s:
        sid, signed = sign_in(s, unit_token, now, IDLE)
        assert signed.caller.role == "unit" and signed.caller.name == "法规科"
        stored = s.exec(__import__("sqlmodel").select(WebSession)).one()
        assert sid not in (stored.sid_hash, stored.csrf)  # only the hash is stored
    with db.session() as s:
        again = resume(s, sid, now + timedelta(minutes=29), IDLE)
        assert again.csrf == signed.csrf
    with db.session() as s:  # active 29 min later: the idle clock restarted then
        assert resume(s, sid, now + timedelta(minutes=58), IDLE).caller.name == "法规科"
    with db.session() as s, pytest.raises(NotAuthenticated, match="30 分钟未操作"):
        resume(s, sid, now + timedelta(minutes=89), IDLE)


@pytest.mark.parametrize("sid", [None, "", "not-a-session"])
def test_unknown_sessions_are_refused(db, now, sid):
    with db.session() as s, pytest.raises(NotAuthenticated):
        resume(s, sid, now, IDLE)


def test_a_wrong_token_opens_no_session(db, now):
    with db.session() as s, pytest.raises(NotAuthenticated, match="令牌无效"):
        sign_in(s, "dbn_wrong", now, IDLE)
    with db.session() as s:
        assert s.exec(__import__("sqlmodel").select(WebSession)).all() == []


def test_revoking_the_token_ends_its_sessions(db, office, now, unit_token):
    with db.session() as s:
        sid, signed = sign_in(s, unit_token, now, IDLE)
        revoke_token(s, office, signed.caller.token_id, now)
    with db.session() as s, pytest.raises(NotAuthenticated, match="令牌已吊销"):
        resume(s, sid, now + timedelta(minutes=1), IDLE)


def test_sign_out_ends_the_session(db, now, unit_token):
    with db.session() as s:
        sid, _ = sign_in(s, unit_token, now, IDLE)
        other, _ = sign_in(s, unit_token, now, IDLE)
        sign_out(s, sid)
    with db.session() as s:
        with pytest.raises(NotAuthenticated):
            resume(s, sid, now, IDLE)
        assert resume(s, other, now, IDLE).caller.name == "法规科"


def test_csrf_comparison():
    assert same_secret("abc", "abc")
    assert not same_secret("abd", "abc") and not same_secret("", "abc")
    assert not same_secret(None, "abc")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("", DEFAULT_IDLE_MINUTES),
        ("session_idle_minutes = 5", 5),
        ("session_idle_minutes = 480", 480),
    ],
)
def test_idle_minutes_setting(tmp_path, text, minutes):
    (tmp_path / "duban.toml").write_text(f"[server]\n{text}\n", encoding="utf-8")
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_DATA_DIR": str(tmp_path)})
    assert idle_timeout(config) == timedelta(minutes=minutes)


@pytest.mark.parametrize("value", ["0", "-3", '"30"', "true", "1.5", "999999"])
def test_a_wrong_idle_setting_is_a_config_error(tmp_path, value):
    (tmp_path / "duban.toml").write_text(
        f"[server]\nsession_idle_minutes = {value}\n", encoding="utf-8"
    )
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path), "DUBAN_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="session_idle_minutes"):
        idle_timeout(config)


# -- over HTTP, in-process (the browser tests drive a real server) ------------------------------
@pytest.fixture
def client(cli_env, monkeypatch):
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    from workflow.web.app import create_app

    app = create_app(load_config(cli_env))
    with TestClient(app, base_url="https://duban.example.gov.cn") as c:
        yield c


def _login_csrf(client) -> str:
    import re

    page = client.get("/login")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_under_https_the_session_cookie_is_secure_httponly_lax(client, cli_env):
    csrf = _login_csrf(client)
    r = client.post(
        "/login",
        data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf, "next": "/board"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/board"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("duban_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert "max-age" not in cookie.lower()  # ends with the browser, or earlier when idle
    assert client.get("/", follow_redirects=False).headers["location"] == "/office/verify"


def test_login_without_its_csrf_token_is_refused(client, cli_env):
    _login_csrf(client)
    r = client.post("/login", data={"token": cli_env["DUBAN_TOKEN"]}, follow_redirects=False)
    assert r.status_code == 403 and "登录表单已过期" in r.text
    assert "duban_session" not in r.headers.get("set-cookie", "")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_sign_in_never_sends_you_to_another_site(client, cli_env, target):
    csrf = _login_csrf(client)
    r = client.post(
        "/login",
        data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf, "next": target},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_pages_answer_errors_as_pages_and_the_api_keeps_json(client):
    page = client.get("/tasks", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2Ftasks")
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.json()["error"]["message"] == "没有这个地址"
    css = client.get("/static/app.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/static/../app.py").status_code == 404
    assert "default-src 'self'" in client.get("/login").headers["content-security-policy"]


def test_an_idle_session_sends_the_visitor_back_to_login(client, cli_env, monkeypatch):
    csrf = _login_csrf(client)
    client.post("/login", data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf})
    assert client.get("/office/verify").status_code == 200
    monkeypatch.setenv("DUBAN_NOW", "2026-03-02T09:29")  # 29 minutes later: still signed in
    assert client.get("/office/verify").status_code == 200
    monkeypatch.setenv("DUBAN_NOW", "2026-03-02T10:00")  # 31 idle minutes
    r = client.get("/office/verify", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Foffice%2Fverify&why=idle"
    assert "长时间未操作" in client.get(r.headers["location"]).text
    assert "请把令牌发给我" not in client.get("/login?why=请把令牌发给我").text


# -- the failed-token throttle on the sign-in form (issue 13) -----------------------------------
def _post_login(client, token: str):
    return client.post(
        "/login", data={"token": token, "csrf_token": _login_csrf(client)}, follow_redirects=False
    )


def test_many_wrong_tokens_on_the_sign_in_form_are_slowed_then_refused(client, cli_env, caplog):
    throttle = client.app.state.duban.throttle
    throttle.slow_after, throttle.block_after, throttle.delay = 3, 6, 0.001
    caplog.set_level("WARNING", logger="duban.web")
    statuses = [_post_login(client, f"dbn_guess{i:04d}").status_code for i in range(8)]
    assert statuses == [401] * 6 + [429] * 2  # the 6th failure blocks the address
    refused = _post_login(client, cli_env["DUBAN_TOKEN"])  # even the right token, for a while
    assert refused.status_code == 429
    assert "错误：来自该地址的错误令牌过多，已暂停访问，请 15 分钟后再试" in refused.text
    assert "duban_session" not in refused.headers.get("set-cookie", "")
    assert client.get("/office/verify", follow_redirects=False).status_code == 303  # not in
    logged = caplog.text
    assert "failed token from testclient via sign-in page" in logged
    assert "refusing testclient" in logged
    assert "dbn_guess" not in logged and cli_env["DUBAN_TOKEN"] not in logged

    throttle.clock = lambda: datetime.now(UTC) + timedelta(days=1)  # long after the pause
    assert _post_login(client, cli_env["DUBAN_TOKEN"]).status_code == 303


def test_the_api_and_the_sign_in_form_share_one_counter(client, cli_env):
    throttle = client.app.state.duban.throttle
    throttle.block_after, throttle.delay = 4, 0.0
    for i in range(2):
        bad = client.get("/api/v1/assignments", headers={"Authorization": f"Bearer dbn_x{i}"})
        assert bad.status_code == 401
    assert [_post_login(client, f"dbn_y{i}").status_code for i in range(2)] == [401, 401]
    api = client.get(
        "/api/v1/assignments", headers={"Authorization": f"Bearer {cli_env['DUBAN_TOKEN']}"}
    )
    assert api.status_code == 429 and "分钟后再试" in api.json()["error"]["message"]
    assert _post_login(client, cli_env["DUBAN_TOKEN"]).status_code == 429


def test_an_empty_sign_in_is_not_counted(client):
    throttle = client.app.state.duban.throttle
    throttle.block_after = 2
    assert [_post_login(client, " ").status_code for _ in range(4)] == [401] * 4
    assert "请输入账号和密码" in _post_login(client, "").text


# -- the absolute lifetime (issue 27) -------------------------------------------------------------
def test_an_active_session_still_ends_after_its_lifetime(db, now, unit_token):
    week = timedelta(days=7)
    with db.session() as s:
        sid, _ = sign_in(s, unit_token, now, week, timedelta(days=7))
    for day in range(1, 7):  # active every day: the idle clock never runs out
        with db.session() as s:
            resume(s, sid, now + timedelta(days=day), week, timedelta(days=7))
    with db.session() as s, pytest.raises(NotAuthenticated, match="登录已失效（登录已满 7 天）"):
        resume(s, sid, now + timedelta(days=7, minutes=1), week, timedelta(days=7))


@pytest.mark.parametrize(
    ("text", "days"), [("", 7), ("session_max_days = 1", 1), ("session_max_days = 30", 30)]
)
def test_session_max_days_setting(tmp_path, text, days):
    (tmp_path / "duban.toml").write_text(f"[server]\n{text}\n", encoding="utf-8")
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path)})
    assert session_lifetime(config) == timedelta(days=days)


@pytest.mark.parametrize("value", ["0", "400", "1.5", '"7"', "true"])
def test_a_wrong_session_max_days_is_a_config_error(tmp_path, value):
    (tmp_path / "duban.toml").write_text(
        f"[server]\nsession_max_days = {value}\n", encoding="utf-8"
    )
    config = load_config({"DUBAN_CONFIG_DIR": str(tmp_path)})
    with pytest.raises(ConfigError, match="session_max_days"):
        session_lifetime(config)


def test_the_pages_send_a_too_old_session_back_to_login(cli_env, monkeypatch):
    Path(cli_env["DUBAN_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)
    (Path(cli_env["DUBAN_CONFIG_DIR"]) / "duban.toml").write_text(
        "[server]\nsession_idle_minutes = 1440\nsession_max_days = 1\n", encoding="utf-8"
    )
    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)
    from workflow.web.app import create_app

    with TestClient(create_app(load_config(cli_env)), base_url="https://x.gov.cn") as client:
        csrf = _login_csrf(client)
        client.post("/login", data={"token": cli_env["DUBAN_TOKEN"], "csrf_token": csrf})
        monkeypatch.setenv("DUBAN_NOW", "2026-03-02T20:00")
        assert client.get("/office/verify").status_code == 200
        monkeypatch.setenv("DUBAN_NOW", "2026-03-03T08:00")
        assert client.get("/office/verify").status_code == 200
        monkeypatch.setenv("DUBAN_NOW", "2026-03-03T09:01")  # a day after the sign-in
        r = client.get("/office/verify", follow_redirects=False)
        assert r.headers["location"] == "/login?next=%2Foffice%2Fverify&why=expired"

"""The accounts page (/office/accounts, issue 29) in-process: add → the initial password shown
once → sign in with it → change it; lock → sign-in refused; edit, reset, remove; who may open
it (the library's rule: the office until an account holds ``security``, then only those).

One office per module; each test uses account names of its own. The test that adds a security
account runs last (it takes the accounts page away from the office).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from conftest import Cli, fresh_database
from fastapi.testclient import TestClient

from workflow.config import load_config

BASE = "https://duban.example.gov.cn"


class Office:
    def __init__(self, env: dict[str, str], app) -> None:
        self.env = env
        self.app = app
        self.tokens: dict[str, str] = {"office": env["DUBAN_TOKEN"]}

    def scalar(self, sql: str):
        import sqlalchemy as sa

        engine = sa.create_engine(self.env["DUBAN_DATABASE_URL"])
        try:
            with engine.begin() as conn:
                return conn.execute(sa.text(sql)).scalar()
        finally:
            engine.dispose()

    def client(self, who: str = "office") -> TestClient:
        c = TestClient(self.app, base_url=BASE)
        c.post("/login", data={"token": self.tokens[who], "csrf_token": csrf(c, "/login")})
        return c

    def sign_in(self, name: str, password: str) -> tuple[TestClient, object]:
        c = TestClient(self.app, base_url=BASE)
        r = c.post(
            "/login",
            data={"account": name, "password": password, "csrf_token": csrf(c, "/login")},
        )
        return c, r


def csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def once(text: str) -> str:
    return re.search(r'id="new-password">([^<]+)<', text).group(1)


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Iterator[Office]:
    tmp = tmp_path_factory.mktemp("account-pages")
    with fresh_database(tmp, prefix="ap") as url, pytest.MonkeyPatch.context() as mp:
        env = {
            "DUBAN_CONFIG_DIR": str(tmp / "config"),
            "DUBAN_DATA_DIR": str(tmp / "data"),
            "DUBAN_DATABASE_URL": url,
            "DUBAN_TOKEN": "",
            "DUBAN_SERVER": "",
            "DUBAN_NOW": "2026-03-02T09:00",
        }
        env["DUBAN_TOKEN"] = Cli(env).json("init")["token"]
        for key, value in env.items():
            mp.setenv(key, value)
        cli = Cli(env)
        cli.ok("unit", "add", "法规科", "--email", "fg@example.org")
        from workflow.web.app import create_app

        o = Office(env, create_app(load_config(env)))
        o.tokens["unit"] = cli.json("token", "issue", "法规科")["token"]
        yield o


def add(c: TestClient, **fields):
    data = {"csrf_token": csrf(c, "/office/accounts"), **fields}
    return c.post("/office/accounts", data=data)


def account_id(c: TestClient, name: str) -> int:
    page = c.get("/office/accounts", params={"q": name}).text
    return int(re.search(rf'<td data-label="账号名">{name}</td>', page) and
               re.search(r'href="/office/accounts/(\d+)"', page).group(1))  # fmt: skip


def test_add_shows_the_password_once_and_it_signs_in_to_change_it(office):
    c = office.client()
    menu = c.get("/office/verify").text
    assert 'href="/office/accounts"' in menu  # in the office's menu while no one holds security
    r = add(
        c, name="李四", roles=["unit"], unit="法规科", email="li@example.org", mobile="13800000000"
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "只显示这一次" in r.text
    password = once(r.text)
    assert "李四" in r.text and "法规科" in r.text
    listed = c.get("/office/accounts").text
    assert password not in listed and "new-password" not in listed  # once only
    signer, signed = office.sign_in("李四", password)
    assert signed.url.path == "/account/password"  # must change the password first
    assert (
        signer.get("/tasks", follow_redirects=False)
        .headers["location"]
        .startswith("/account/password")
    )
    changed = signer.post(
        "/account/password",
        data={
            "old": password,
            "new": "Lisi-2026-ok",
            "again": "Lisi-2026-ok",
            "csrf_token": csrf(signer, "/account/password"),
        },
    )
    assert changed.status_code == 200 and changed.url.path == "/tasks"
    assert signer.get("/office/accounts").status_code == 403  # a unit's clerk cannot


def test_form_errors_name_the_fields_and_keep_what_was_typed(office):
    c = office.client()
    r = add(c, name="王五", roles=["unit"], email="wang@example.org")
    assert r.status_code == 400 and "所属单位" in r.text and "--unit" not in r.text
    assert 'value="王五"' in r.text and 'value="wang@example.org"' in r.text
    assert re.search(r'value="unit" checked', r.text)
    r = add(c, name="王五", roles=[])
    assert r.status_code == 400 and "“角色”" in r.text
    r = add(c, name="王五", roles=["office", "unit"], unit="法规科")
    assert r.status_code == 400 and "只能勾选一项" in r.text
    r = add(c, name="王五", roles=["office"], email="not-a-mail")
    assert r.status_code == 400 and "电子邮箱" in r.text and 'value="not-a-mail"' in r.text
    assert "王五" not in c.get("/office/accounts").text.split("新增账号")[0]  # nothing written
    add(c, name="王五", roles=["office"])
    r = add(c, name="王五", roles=["office"])
    assert r.status_code == 409 and "账号已存在" in r.text


def test_lock_refuses_sign_in_and_unlock_reset_edit_remove(office):
    c = office.client()
    password = once(add(c, name="赵六", roles=["office"]).text)
    ident = account_id(c, "赵六")
    page = f"/office/accounts/{ident}"
    r = c.post(f"{page}/lock", data={"csrf_token": csrf(c, page)})
    assert r.status_code == 200 and "已锁定账号" in r.text and r.url.path == page
    _, refused = office.sign_in("赵六", password)
    assert refused.status_code == 423 and "账号已锁定" in refused.text
    c.post(f"{page}/unlock", data={"csrf_token": csrf(c, page)})
    reset = c.post(f"{page}/reset-password", data={"csrf_token": csrf(c, page)})
    assert reset.headers["cache-control"] == "no-store"
    new = once(reset.text)
    assert new != password
    _, old_refused = office.sign_in("赵六", password)
    assert old_refused.status_code == 401
    _, signed = office.sign_in("赵六", new)
    assert signed.url.path == "/account/password"
    saved = c.post(
        page,
        data={
            "csrf_token": csrf(c, page),
            "name": "赵六六",
            "roles": ["office", "auditor"],
            "email": "zhao@example.org",
            "mobile": "",
            "unit": "",
        },
    )
    assert saved.url.path == page and "已保存账号信息" in saved.text
    assert "账号 赵六六" in saved.text and 'value="zhao@example.org"' in saved.text
    bad = c.post(page, data={"csrf_token": csrf(c, page), "name": "赵六六", "roles": ["unit"]})
    assert bad.status_code == 400 and "所属单位" in bad.text
    gone = c.post(f"{page}/remove", data={"csrf_token": csrf(c, page)})
    assert gone.url.path == "/office/accounts" and "已删除账号" in gone.text
    assert c.get(page).status_code == 404


def test_search_and_paging(office):
    c = office.client()
    for i in range(33):
        add(c, name=f"批量{i:02d}", roles=["leader"])
    first = c.get("/office/accounts", params={"q": "批量"}).text
    assert "共 33 条" in first and "第 1 / 2 页" in first
    second = c.get("/office/accounts", params={"q": "批量", "page": "2"}).text
    assert "批量32" in second and "批量00" not in second


def test_a_unit_cannot_open_or_post(office):
    unit = office.client("unit")
    assert unit.get("/office/accounts").status_code == 403
    assert 'href="/office/accounts"' not in unit.get("/tasks").text
    r = unit.post(
        "/office/accounts",
        data={"csrf_token": csrf(unit, "/tasks"), "name": "冒名", "roles": ["office"]},
    )
    assert r.status_code == 403 and "无权" in r.text


def test_zz_once_a_security_account_exists_only_it_manages_accounts(office):
    c = office.client()
    password = once(add(c, name="安全员", roles=["security"]).text)
    assert c.get("/office/accounts").status_code == 403  # the office no longer does
    assert 'href="/office/accounts"' not in c.get("/office/verify").text
    sec, signed = office.sign_in("安全员", password)
    sec.post(
        "/account/password",
        data={
            "old": password,
            "new": "Secu-2026-ok",
            "again": "Secu-2026-ok",
            "csrf_token": csrf(sec, "/account/password"),
        },
    )
    home = sec.get("/")
    assert home.url.path == "/office/accounts" and 'href="/office/accounts"' in home.text
    assert "安全员" in home.text


# -- 通过邮件获取登录链接 -------------------------------------------------------------------------
NEUTRAL = "如果该账号存在并登记了电子邮箱，登录链接已发往该邮箱"


@pytest.fixture(scope="module")
def mailing(tmp_path_factory) -> Iterator[tuple[Office, object]]:
    """An office whose [server] url is set, mailing through a real aiosmtpd server; the
    throttle refuses an address after 4 counted attempts (no delay: no wall-clock sleeps)."""
    from smtp_server import SmtpServer

    tmp = tmp_path_factory.mktemp("account-links")
    with (
        SmtpServer() as smtp,
        fresh_database(tmp, prefix="al") as url,
        pytest.MonkeyPatch.context() as mp,
    ):
        env = {
            "DUBAN_CONFIG_DIR": str(tmp / "config"),
            "DUBAN_DATA_DIR": str(tmp / "data"),
            "DUBAN_DATABASE_URL": url,
            "DUBAN_TOKEN": "",
            "DUBAN_SERVER": "",
            "DUBAN_NOW": "2026-03-02T09:00",
        }
        env["DUBAN_TOKEN"] = Cli(env).json("init")["token"]
        (tmp / "config").mkdir(exist_ok=True)
        (tmp / "config" / "duban.toml").write_text(
            '[office]\nname = "江门市政务公开办公室"\n'
            f'\n[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\ntls = "none"\n'
            'from = "督办系统 <duban@office.example.cn>"\ntimeout = 10\n\n'
            f'[server]\nurl = "{BASE}/"\nfailed_tokens_block_after = 4\n'
            "failed_token_delay = 0\n",
            encoding="utf-8",
        )
        for key, value in env.items():
            mp.setenv(key, value)
        from workflow.web.app import create_app

        yield Office(env, create_app(load_config(env))), smtp


def ask_link(c: TestClient, name: str):
    return c.post("/login/link", data={"account": name, "csrf_token": csrf(c, "/login/link")})


def test_a_sign_in_link_is_mailed_through_the_outbox_and_signs_in_once(mailing):
    office, smtp = mailing
    cli = Cli(office.env)
    cli.ok("account", "add", "孙七", "--role", "office", "--email", "sun@example.org")
    cli.ok("account", "add", "无邮箱", "--role", "office")
    c = TestClient(office.app, base_url=BASE)
    assert 'href="/login/link"' in c.get("/login").text
    answers = [ask_link(c, name) for name in ("孙七", "查无此人", "无邮箱")]
    for r in answers:  # the same answer whether or not the account exists
        assert r.status_code == 200 and NEUTRAL in r.text
    assert len({re.sub(r'value="[^"]*"', "", r.text) for r in answers}) == 1
    cli.ok("notify", "send")
    assert [m.rcpt_tos for m in smtp.received] == [("sun@example.org",)]  # one mail, to 孙七
    mail = smtp.received[0]
    assert "登录链接" in mail.subject
    link = re.search(rf"{re.escape(BASE)}(/login/link/[A-Za-z0-9_-]+)", mail.text).group(1)
    visitor = TestClient(office.app, base_url=BASE)
    first = visitor.get(link)
    assert first.status_code == 200 and first.url.path == "/account/password"  # signed in
    assert visitor.get(link).status_code == 401  # once only


def test_asking_for_links_is_throttled_per_address(mailing):
    office, _ = mailing
    c = TestClient(office.app, base_url=BASE)
    codes = [ask_link(c, "查无此人").status_code for _ in range(4)]
    assert codes[0] == 200 and codes[-1] == 429  # 4 counted attempts (3 by the test above)
    refused = ask_link(c, "孙七")
    assert refused.status_code == 429 and "分钟后再试" in refused.text
    assert (
        office.scalar("select count(*) from notification where kind = 'signin_link'") == 1
    )  # nothing more queued


def test_a_link_not_sent_within_its_15_minutes_is_dropped(mailing):
    office, smtp = mailing
    from workflow.accounts.signin import queue_link_mail
    from workflow.dates.clock import SHANGHAI
    from workflow.storage.db import Database

    db = Database(office.env["DUBAN_DATABASE_URL"])
    try:
        with db.session() as s:
            assert queue_link_mail(s, "孙七", datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    finally:
        db.engine.dispose()
    sent = len(smtp.received)
    Cli({**office.env, "DUBAN_NOW": "2026-03-02T09:16"}).ok("notify", "send")
    assert len(smtp.received) == sent  # expired before delivery: not sent
    note = office.scalar(
        "select note from notification where kind = 'signin_link' order by id desc limit 1"
    )
    assert "登录链接已过期" in note

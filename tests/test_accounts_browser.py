"""Signing in as a person in a real browser (Chromium, Playwright) against a real ``duban serve``:
账号 and 密码, the first password change, "remember this device", and the lockout."""

from __future__ import annotations

import time

import pytest
from browser import screenshots
from web_world import running_office

NEW = "Fagui-2026!"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("accounts")) as w:
        for name in ("张三", "李四", "王五"):
            w.tokens[name] = w.cli.json(
                "account", "add", name, "--role", "unit", "--unit", "法规科"
            )["password"]
        yield w


@pytest.fixture
def context(browser, world):
    made = []

    def _new(width: int = 1280):
        ctx = browser.new_context(
            base_url=world.url, viewport={"width": width, "height": 900}, locale="zh-CN"
        )
        made.append(ctx)
        return ctx

    yield _new
    for ctx in made:
        ctx.close()


def _sign_in(page, name: str, password: str, remember: bool = False) -> None:
    page.goto("/login")
    page.get_by_label("账号").fill(name)
    page.get_by_label("密码").fill(password)
    if remember:
        page.get_by_label("在此设备上保持登录").check()
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _first_change(page, world, name: str) -> None:
    assert "/account/password" in page.url
    page.get_by_label("原密码").fill(world.tokens[name])
    page.get_by_label("新密码", exact=True).fill(NEW)
    page.get_by_label("再次输入新密码").fill(NEW)
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_sign_in_page_asks_for_account_and_password(context, world, width):
    page = context(width).new_page()
    page.goto("/login")
    assert page.get_by_label("账号").is_visible() and page.get_by_label("密码").is_visible()
    assert page.get_by_label("令牌").is_visible()  # the second way in
    assert page.get_by_role("button", name="登录").is_visible()
    assert "未加密" not in page.content()  # loopback: no warning
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshots(page, world.tmp / "screenshots", "login-account")


def test_first_sign_in_changes_the_password_then_the_person_works(context, world):
    page = context().new_page()
    _sign_in(page, "张三", world.tokens["张三"])
    page.goto("/tasks")  # every page leads to the change first
    assert page.url.endswith("/account/password?first=1")
    page.get_by_label("原密码").fill(world.tokens["张三"])
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="修改密码").click()
    assert "密码太短" in page.locator(".error").inner_text()
    _first_change(page, world, "张三")
    assert page.url.endswith("/tasks")
    assert "张三（法规科）" in page.locator(".who").inner_text()


def test_remember_this_device_keeps_the_browser_signed_in(context, world):
    kept, plain = context(390), context(390)
    for ctx, remember in ((kept, True), (plain, False)):
        page = ctx.new_page()
        _sign_in(page, "李四", world.tokens["李四"] if remember else NEW, remember)
        if remember:
            _first_change(page, world, "李四")
    cookie = next(c for c in kept.cookies() if c["name"] == "duban_session")
    assert cookie["expires"] > time.time() + 29 * 24 * 3600  # survives closing the browser
    session = next(c for c in plain.cookies() if c["name"] == "duban_session")
    assert session["expires"] == -1  # ends with the browser
    # two hours without a request: past the idle timeout of the plain session only
    world.execute(
        "UPDATE websession SET last_seen_at = created_at - INTERVAL '2 hours'"
        if world.env["DUBAN_DATABASE_URL"].startswith("postgresql")
        else "UPDATE websession SET last_seen_at = datetime(created_at, '-2 hours')"
    )
    page = kept.new_page()
    page.goto("/tasks")
    assert page.url.endswith("/tasks") and "李四（法规科）" in page.locator(".who").inner_text()
    page = plain.new_page()
    page.goto("/tasks")
    assert "/login" in page.url and "长时间未操作" in page.content()


def test_five_wrong_passwords_lock_the_account(context, world):
    page = context().new_page()
    for _ in range(4):
        _sign_in(page, "王五", "Wrong-pass1")
        assert "账号或密码错误" in page.locator(".error").inner_text()
    _sign_in(page, "王五", "Wrong-pass1")
    text = page.locator(".error").inner_text()
    assert "账号已锁定" in text and "之后再试" in text
    assert page.get_by_label("账号").input_value() == "王五"  # what was typed is kept
    _sign_in(page, "王五", world.tokens["王五"])  # the right password too, until then
    assert "账号已锁定" in page.locator(".error").inner_text()
    screenshots(page, world.tmp / "screenshots", "login-locked")

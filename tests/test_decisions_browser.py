"""退回 → mail → link → report, in a real browser at 390 px and 1280 px (issue 29).

A real ``duban serve`` (tests/web_world.py), the office returns a report on the task's page in
Chromium, ``duban notify send`` delivers the decision to a real aiosmtpd, and the unit follows
the mail's link: signed out, it goes through sign-in and lands on the task, sees the reason,
and reports again.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import screenshots
from smtp_server import SmtpServer
from web_world import running_office

# width → (the unit, its assignment, its address); one assignment per run, each on its own
CASES = {390: ("法规科", 2, "u2@example.org"), 1280: ("财务审计科", 3, "u1@example.org")}


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as s:
        yield s


@pytest.fixture(scope="module")
def world(tmp_path_factory, smtp):
    with running_office(tmp_path_factory.mktemp("decisions")) as w:
        config = Path(w.env["DUBAN_CONFIG_DIR"]) / "duban.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        old = config.read_text(encoding="utf-8") if config.exists() else ""
        config.write_text(
            old + f'\n[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\ntls = "none"\n'
            'from = "督办系统 <duban@example.org>"\ntimeout = 10\n\n'
            f'[server]\nurl = "{w.url}"\n',
            encoding="utf-8",
        )
        yield w


def signed_in(browser, world, holder: str | None, width: int):
    context = browser.new_context(
        base_url=world.url, viewport={"width": width, "height": 900}, locale="zh-CN"
    )
    page = context.new_page()
    if holder is not None:
        page.goto("/login")
        sign_in_here(page, world, holder)
    return context, page


def sign_in_here(page, world, holder: str) -> None:
    page.get_by_label("令牌").fill(world.tokens[holder])
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", sorted(CASES))
def test_a_return_reaches_the_unit_whose_link_leads_to_the_report(browser, world, smtp, width):
    unit, number, address = CASES[width]
    world.cli.ok("task", "report", str(number), "--text", "已完成初稿", token=world.tokens[unit])

    office_ctx, office = signed_in(browser, world, "office", width)
    office.goto(f"/assignments/{number}")
    office.get_by_label("退回理由").fill("请补充政策解读的发布链接")
    office.get_by_role("button", name="退回").click()
    office.wait_for_load_state()
    assert "退回" in office.locator("main").inner_text()
    office_ctx.close()

    # its own process: Playwright's sync API holds an event loop in this thread
    sent = subprocess.run(
        [sys.executable, "-m", "cli.main", "notify", "send"],
        env={**os.environ, **world.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stderr
    (mail,) = [
        m for m in smtp.received if address in m.rcpt_tos and m.subject.startswith("【退回】")
    ]
    assert "请补充政策解读的发布链接" in mail.text
    link = re.search(rf"{re.escape(world.url)}/assignments/\d+", mail.text).group(0)
    assert link.endswith(f"/assignments/{number}")
    assert f'href="{link}"' in mail.html

    unit_ctx, page = signed_in(browser, world, None, width)
    page.goto(link)  # signed out: through the sign-in page and back to the task
    assert "/login" in page.url
    sign_in_here(page, world, unit)
    assert page.url == link
    reason = page.locator("section.warn", has_text="办公室退回理由")
    assert "请补充政策解读的发布链接" in reason.inner_text()
    width_of_page = page.evaluate("document.documentElement.scrollWidth")
    assert width_of_page <= width  # nothing wider than the phone
    screenshots(page, world.tmp / "screenshots", f"returned-{number}")
    page.get_by_label("进展落实情况").fill("已补充发布链接")
    page.get_by_label("佐证材料（链接或文号，每行一个）").fill("https://www.example.gov.cn/zcjd/1")
    page.get_by_role("button", name="报送", exact=True).click()
    page.wait_for_load_state()
    assert "已报送，等待办公室核验" in page.locator("main").inner_text()
    unit_ctx.close()
    state = world.scalar("select state from assignment where id = :i", i=number)
    assert state == "reported"

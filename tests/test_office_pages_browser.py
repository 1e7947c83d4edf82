"""The office's directory and bulk verification in a real browser (issue 29): Chromium
(Playwright) against a real ``duban serve`` (tests/web_world.py), at 390 px and 1280 px.

A phone never scrolls sideways, and a long list is a page of 30 rows with a pager.
"""

from __future__ import annotations

import pytest
from browser import WIDTHS, screenshots
from web_world import running_office


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("office-pages")) as w:
        yield w


@pytest.fixture
def office_page(browser, world):
    """``office_page(width)`` → a page signed in as the office, ``width`` px wide."""
    contexts = []

    def _open(width: int):
        height = dict(WIDTHS.values())[width]
        context = browser.new_context(
            base_url=world.url, viewport={"width": width, "height": height}, locale="zh-CN"
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("令牌").fill(world.tokens["office"])
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return page

    yield _open
    for context in contexts:
        context.close()


def shot(page, world, name: str) -> None:
    """Screenshots at both widths, then the page back at its own size."""
    size = page.viewport_size
    screenshots(page, world.tmp / "screenshots", name)
    page.set_viewport_size(size)


def no_sideways_scroll(page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url}: {overflow} px wide at {width} px"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_directory_sheet_then_the_paged_unit_list(office_page, world, width):
    page = office_page(width)
    sheet = world.tmp / f"名录-{width}.csv"
    rows = [
        f"名录{width}-{i:02d}科,,名录{width}组,m{width}-{i}@example.org,王副主任" for i in range(35)
    ]
    sheet.write_text("单位名称,别名,分组,邮箱,分管领导\n" + "\n".join(rows) + "\n", "utf-8-sig")
    page.goto("/office/units")
    assert page.get_by_role("link", name="单位名录").get_attribute("aria-current") == "page"
    page.get_by_role("link", name="导入名录表").click()
    page.get_by_label("名录表（.xlsx / .csv）").set_input_files(str(sheet))
    page.get_by_role("button", name="预览").click()
    assert "新增 35 个" in page.locator(".card").first.inner_text()
    no_sideways_scroll(page, width)
    shot(page, world, f"directory-preview-{width}")
    page.get_by_role("button", name="确认导入").click()
    assert "已导入名录表：新增 35 个单位" in page.locator(".notice").inner_text()

    page.goto("/office/units")
    page.get_by_label("按分组筛选").select_option(f"名录{width}组")
    page.get_by_role("button", name="查找").click()
    assert page.locator("table.list tbody tr").count() == 30
    assert "共 35 条" in page.locator(".pager").inner_text()
    no_sideways_scroll(page, width)
    shot(page, world, f"units-{width}")
    page.get_by_role("link", name="下一页").click()
    assert page.locator("table.list tbody tr").count() == 5
    # edit one: its e-mail replaced
    page.get_by_role("link", name="修改").first.click()
    page.get_by_label("邮箱").fill(f"changed{width}@example.org")
    page.get_by_role("button", name="保存").click()
    assert "已保存单位信息" in page.locator(".notice").inner_text()
    page.get_by_label("搜索").fill(f"changed{width}@example.org")
    page.get_by_role("button", name="查找").click()
    assert page.locator("table.list tbody tr").count() == 1


@pytest.mark.parametrize("width", [390, 1280])
def test_bulk_verify_reports_the_row_that_fails(office_page, world, width):
    cli = world.cli
    ids = []
    for i, unit in enumerate(("法规科", "财务审计科", "办公室")):
        cli.ok("task", "add", f"批量{width}-{i}", "--unit", unit, "--due", "2026-05-29")
        listed = cli.json("task", "list")
        aid = max(a["id"] for a in listed if a["title"] == f"批量{width}-{i}")
        cli.ok("task", "report", str(aid), "--text", f"已完成 {i}", token=world.tokens[unit])
        ids.append(aid)
    page = office_page(width)
    page.goto("/office/verify")
    page.get_by_label("搜索").fill(f"批量{width}")
    page.get_by_role("button", name="查找").click()
    for aid in ids:
        page.get_by_label(f"选择 #{aid}").check()
    no_sideways_scroll(page, width)
    shot(page, world, f"bulk-verify-{width}")
    cli.ok("task", "verify", str(ids[1]))  # verified elsewhere after the page was shown
    page.get_by_role("button", name="批量核验通过所选").click()
    assert f"已核验通过 2 项：#{ids[0]}、#{ids[2]}" in page.locator(".notice").inner_text()
    failed = page.locator(".bulk-failed li")
    assert failed.count() == 1 and f"#{ids[1]}" in failed.inner_text()
    no_sideways_scroll(page, width)
    states = {a["id"]: a["state"] for a in cli.json("task", "list") if a["id"] in ids}
    assert set(states.values()) == {"verified"}

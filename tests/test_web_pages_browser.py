"""The pages in a real browser: Chromium (Playwright) against a real ``duban serve``.

One browser for the session, one server and office for this module (tests/web_world.py). Each
test signs in its own people in fresh browser contexts; screenshots of every page at 390 px and
1280 px go to the module's tmp dir (and to ``$DUBAN_SCREENSHOTS`` when set: docs/ pictures).
"""

from __future__ import annotations

import re

import pytest
from browser import screenshots
from web_world import running_office, write_ledger


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("pages")) as w:
        yield w


@pytest.fixture
def sign_in(browser, world):
    """``sign_in(holder)`` → a page signed in as that holder, in its own browser context."""
    contexts = []

    def _sign_in(holder: str):
        context = browser.new_context(
            base_url=world.url, viewport={"width": 1280, "height": 900}, locale="zh-CN"
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("令牌").fill(world.tokens[holder])
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return page

    yield _sign_in
    for context in contexts:
        context.close()


def shots(world, page, name):
    return screenshots(page, world.tmp / "screenshots", name)


def assignment_links(page) -> set[int]:
    hrefs = page.locator("table.list a[href^='/assignments/']").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    return {int(h.rsplit("/", 1)[1]) for h in hrefs}


def test_login_page_and_wrong_token(browser, world):
    context = browser.new_context(base_url=world.url, locale="zh-CN")
    page = context.new_page()
    response = page.goto("/tasks")
    assert page.url.endswith("/login?next=%2Ftasks")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert page.get_by_label("令牌").is_visible()
    shots(world, page, "login")
    page.get_by_label("令牌").fill("dbn_not-a-real-token")
    page.get_by_role("button", name="登录").click()
    assert "错误：令牌无效" in page.locator(".error").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "duban_session"]
    context.close()


def test_a_unit_sees_only_its_own_assignments_and_reports(sign_in, world):
    page = sign_in("财务审计科")
    assert page.url == f"{world.url}/tasks"
    assert page.locator("h1").inner_text() == "我的任务"
    assert assignment_links(page) == {1, 3}  # #2 is 法规科's, #4 办公室's
    row = page.locator("tr", has=page.locator("a[href='/assignments/1']"))
    assert "已逾期" in row.inner_text() and "逾期 7 个工作日" in row.inner_text()
    assert row.locator(".grade-red").inner_text() == "红"
    shots(world, page, "tasks")

    page.locator(".chips a", has_text="已逾期").click()
    assert assignment_links(page) == {1}
    assert "state=overdue" in page.url

    page.goto("/assignments/3")
    assert "对新出台的规范性文件开展政策解读" in page.locator(".prose").first.inner_text()
    assert "一、围绕重点领域" in page.locator("main").inner_text()
    shots(world, page, "assignment")
    page.get_by_label("进展落实情况").fill("已对3件规范性文件发布政策解读")
    page.get_by_label("佐证材料（链接或文号，每行一个）").fill(
        "https://wjw.example.gov.cn/jd/1.html\n\n某卫发〔2026〕3号"
    )
    page.get_by_role("button", name="报送", exact=True).click()
    assert page.url.endswith("/assignments/3?done=reported")
    assert "已报送" in page.locator("dl.facts").inner_text()
    assert "已报送，等待办公室核验" in page.locator(".notice").inner_text()
    evidence = page.locator("ul.evidence li").all_inner_texts()
    assert evidence == ["https://wjw.example.gov.cn/jd/1.html", "某卫发〔2026〕3号"]
    shots(world, page, "assignment-reported")
    assert world.scalar("SELECT state FROM assignment WHERE id = 3") == "reported"


def test_another_units_assignment_is_a_403_page(sign_in, world):
    page = sign_in("财务审计科")
    response = page.goto("/assignments/2")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "无权访问"
    assert "不属于财务审计科" in page.locator(".error").inner_text()
    shots(world, page, "error-403")
    assert page.goto("/board").status == 403  # the board is for leaders and the office


def test_a_post_without_the_csrf_token_is_refused(sign_in, world):
    page = sign_in("法规科")
    before = world.scalar("SELECT version FROM assignment WHERE id = 2")
    for form in ({"text": "伪造的报送"}, {"text": "伪造的报送", "csrf_token": "guessed"}):
        response = page.request.post(f"{world.url}/assignments/2/report", form=form)
        assert response.status == 403
        assert "安全校验码" in response.text()
    assert world.scalar("SELECT state FROM assignment WHERE id = 2") == "assigned"
    assert world.scalar("SELECT version FROM assignment WHERE id = 2") == before


def test_the_office_verifies_and_the_board_counts_change(sign_in, world):
    unit = sign_in("财务审计科")
    if world.scalar("SELECT state FROM assignment WHERE id = 3") != "reported":
        unit.goto("/assignments/3")
        unit.get_by_label("进展落实情况").fill("已完成")
        unit.get_by_role("button", name="报送", exact=True).click()

    leader = sign_in("王副主任")
    assert leader.url == f"{world.url}/board"

    def row_counts() -> dict[str, str]:
        row = leader.locator("table.board tr", has=leader.locator("a", has_text="财务审计科"))
        cells = row.locator("td")
        labels = cells.evaluate_all("els => els.map(e => e.dataset.label)")
        return dict(zip(labels, cells.all_inner_texts(), strict=True))

    before = row_counts()
    assert (before["已报送"], before["已核验"], before["红色预警"]) == ("1", "0", "1")
    overdue = leader.locator("section", has_text="逾期清单").locator("tbody tr").all_inner_texts()
    assert len(overdue) == 1 and "7 个工作日" in overdue[0] and "公开部门预算" in overdue[0]
    assert leader.locator("svg.chart rect").count() == 3
    shots(world, leader, "board")

    office = sign_in("office")
    assert office.url == f"{world.url}/office/verify"
    card = office.locator("section.card", has=office.locator("a[href='/assignments/3']"))
    assert "已" in card.locator(".prose").inner_text()
    shots(world, office, "office-verify")
    card.get_by_role("button", name="核验通过").click()
    assert "已核验通过" in office.locator(".notice").inner_text()
    assert office.locator("a[href='/assignments/3']").count() == 0

    leader.reload()
    after = row_counts()
    assert (after["已报送"], after["已核验"]) == ("0", "1")

    leader.locator("table.board a", has_text="财务审计科").click()
    assert assignment_links(leader) == {1, 3}  # the unit's row opens its assignments
    assert leader.locator("form[method=post]").count() == 1  # read only: nothing but 退出


def test_a_return_reason_reaches_the_unit(sign_in, world):
    unit = sign_in("办公室")
    unit.goto("/assignments/4")
    unit.get_by_label("进展落实情况").fill("专栏已更新")
    unit.get_by_role("button", name="报送", exact=True).click()

    office = sign_in("office")
    office.goto("/office/verify")
    card = office.locator("section.card", has=office.locator("a[href='/assignments/4']"))
    card.get_by_label("退回理由").fill("请补充专栏链接")
    card.get_by_role("button", name="退回").click()
    assert "已退回" in office.locator(".notice").inner_text()

    unit.goto("/assignments/4")
    assert "办公室退回理由" in unit.locator("main").inner_text()
    assert "请补充专栏链接" in unit.locator("section.warn").inner_text()
    assert "办理中" in unit.locator("dl.facts").inner_text()


def test_extension_request_and_the_offices_decision(sign_in, world):
    unit = sign_in("法规科")
    unit.goto("/assignments/2")
    unit.get_by_label("申请延至").fill("2026-04-30")
    unit.get_by_label("理由").fill("等待上级文件")
    unit.get_by_role("button", name="申请延期").click()
    assert "延期申请已提交" in unit.locator(".notice").inner_text()

    late = sign_in("财务审计科")  # #1 is past its due date: refused as in the CLI
    late.goto("/assignments/1")
    response = late.request.get(f"{world.url}/assignments/1")
    assert response.ok
    csrf = late.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = late.request.post(
        f"{world.url}/assignments/1/extension",
        form={"to": "2026-04-30", "reason": "来不及", "csrf_token": csrf},
    )
    # the form comes back with the refusal beside it (issue 29: errors in the page's language)
    assert refused.status == 400
    assert re.search(r'class="error"[^>]*>[^<]*任务 #1 当前为“已逾期”', refused.text())

    office = sign_in("office")
    office.goto("/office/extensions")
    assert "等待上级文件" in office.locator("main").inner_text()
    shots(world, office, "office-extensions")
    office.get_by_role("button", name="批准", exact=True).click()
    assert "已批准延期" in office.locator(".notice").inner_text()
    assert str(world.scalar("SELECT due FROM assignment WHERE id = 2")).startswith("2026-04-30")


def test_the_outbox_shows_failures_and_sends_again(sign_in, world):
    world.execute(
        "UPDATE notification SET state = 'failed', last_error = '550 5.1.1 邮箱不存在' "
        "WHERE id = (SELECT MIN(id) FROM notification)"
    )
    failed_id = world.scalar("SELECT MIN(id) FROM notification")
    office = sign_in("office")
    office.goto("/office/outbox")
    assert office.locator("table.list tbody tr").count() >= 1  # pending rows from the check
    shots(world, office, "office-outbox")
    office.locator(".chips a", has_text="发送失败").click()
    assert "550 5.1.1 邮箱不存在" in office.locator("main").inner_text()
    office.get_by_role("button", name="重新发送").first.click()
    assert "已重新排入发送队列" in office.locator(".notice").inner_text()
    assert world.scalar("SELECT state FROM notification WHERE id = :i", i=failed_id) == "pending"


def test_the_office_imports_a_ledger_after_a_dry_run(sign_in, world):
    tasks_before = world.scalar("SELECT COUNT(*) FROM task")
    office = sign_in("office")
    office.goto("/office/import")
    shots(world, office, "office-import")
    office.get_by_label("台账文件（.xlsx / .docx / .csv）").set_input_files(
        str(write_ledger(world.tmp / "台账-修订.csv", extra=True))
    )
    office.get_by_role("button", name="预览").click()
    assert "预览（尚未写入）" in office.locator("main").inner_text()
    row = office.locator("tr", has_text="依申请公开年度统计")
    assert "新增" in row.inner_text() and "2026-11-30" in row.inner_text()
    shots(world, office, "office-import-preview")
    assert world.scalar("SELECT COUNT(*) FROM task") == tasks_before  # a dry run writes nothing
    office.get_by_role("button", name=re.compile("确认导入")).click()
    assert "已导入“台账-修订.csv”" in office.locator(".notice").inner_text()
    assert world.scalar("SELECT COUNT(*) FROM task") == tasks_before + 1


def test_sign_out_ends_the_session(sign_in, world):
    page = sign_in("法规科")
    cookie = next(c for c in page.context.cookies() if c["name"] == "duban_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    page.get_by_role("button", name="退出").click()
    assert "/login" in page.url and "已退出登录" in page.locator("main").inner_text()
    page.context.add_cookies([cookie])  # the old cookie is worthless now
    page.goto("/tasks")
    assert "/login" in page.url

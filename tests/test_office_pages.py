"""The office's whole job in the browser (issue 29): units, leaders, tokens, the directory
sheet, plans, the check, scores and the evaluation, bulk verification, lists with search,
unit filter and paging — over HTTP in-process, as the office, a unit and a leader.

One office per module (the fixture is shared); each test adds the rows it needs with names of
its own, so the tests do not depend on their order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from conftest import Cli, fresh_database
from fastapi.testclient import TestClient

from workflow.config import load_config

NEW_PAGES = [
    "/office/units",
    "/office/leaders",
    "/office/tokens",
    "/office/directory/import",
    "/office/plans",
    "/office/check",
    "/office/scores",
]


class Office:
    def __init__(self, env: dict[str, str], app) -> None:
        self.env = env
        self.app = app
        self.cli = Cli(env)
        self.tokens: dict[str, str] = {"office": env["DUBAN_TOKEN"]}

    def client(self, who: str = "office") -> TestClient:
        return self.client_with(self.tokens[who])

    def client_with(self, token: str) -> TestClient:
        c = TestClient(self.app)
        c.post("/login", data={"token": token, "csrf_token": csrf(c, "/login")})
        return c

    def scalar(self, sql: str, **params):
        engine = sa.create_engine(self.env["DUBAN_DATABASE_URL"])
        try:
            with engine.begin() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()


def csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Iterator[Office]:
    tmp = tmp_path_factory.mktemp("office-pages")
    with fresh_database(tmp, prefix="op") as url, pytest.MonkeyPatch.context() as mp:
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
        cli.ok("leader", "add", "王副主任", "--email", "wang@example.org")
        cli.ok("unit", "add", "法规科", "--email", "fg@example.org", "--leader", "王副主任")
        from workflow.web.app import create_app

        o = Office(env, create_app(load_config(env)))
        o.tokens["unit"] = cli.json("token", "issue", "法规科")["token"]
        o.tokens["leader"] = cli.json("token", "issue", "王副主任", "--role", "leader")["token"]
        yield o


def test_only_the_office_opens_or_posts_the_new_pages(office):
    boss, unit, leader = (office.client(r) for r in ("office", "unit", "leader"))
    for path in NEW_PAGES:
        r = boss.get(path)
        assert r.status_code == 200, path
        assert (
            f'href="{path}"' in r.text or path.startswith("/office/leaders") or "directory" in path
        )
        for who in (unit, leader):
            assert who.get(path).status_code == 403, path
    token = csrf(unit, "/tasks")
    for path, data in [
        ("/office/units", {"name": "冒名科"}),
        ("/office/leaders", {"name": "冒名领导"}),
        ("/office/tokens", {"role": "office", "holder": "x"}),
        ("/office/tokens/1/revoke", {}),
        ("/office/check", {"mode": "run"}),
        ("/office/verify/bulk", {"ids": "1"}),
        ("/office/units/1", {"name": "改名"}),
    ]:
        r = unit.post(path, data={"csrf_token": token, **data})
        assert r.status_code == 403 and "无权" in r.text, path
    assert unit.get("/office/scores/evaluation.xlsx").status_code == 403
    denied = office.scalar(
        "select count(*) from auditevent where action = 'token.issue' and outcome = 'denied'"
    )
    assert denied >= 1  # the refusal is in the audit log, as on the CLI
    assert office.scalar("select count(*) from unit where name = '冒名科'") == 0


def test_units_add_edit_search_filter_and_paging(office):
    c = office.client()
    token = csrf(c, "/office/units")
    for i in range(33):
        r = c.post(
            "/office/units",
            data={
                "csrf_token": token,
                "name": f"分页{i:02d}科",
                "groups": "分页组" if i % 2 else "",
                "emails": f"p{i}@example.org",
                "leader": "王副主任" if i == 0 else "",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/office/units?done=added"
    first = c.get("/office/units", params={"q": "分页"})
    assert first.text.count('href="/office/units/') == 30  # one page
    assert "共 33 条" in first.text and "第 1 / 2 页" in first.text and "下一页" in first.text
    second = c.get("/office/units", params={"q": "分页", "page": "2"})
    assert second.text.count('href="/office/units/') == 3 and "上一页" in second.text
    grouped = c.get("/office/units", params={"q": "分页", "unit": "分页组"})
    assert "共 16 条" in grouped.text
    assert "共 1 条" in c.get("/office/units", params={"q": "p7@example.org"}).text
    # a duplicate: one-line error page, nothing added
    r = c.post("/office/units", data={"csrf_token": token, "name": "分页00科"})
    assert r.status_code == 409 and "已存在" in r.text
    # edit: rename, emails replaced, a group added, deactivated
    uid = office.scalar("select id from unit where name = '分页00科'")
    page = c.get(f"/office/units/{uid}")
    assert page.status_code == 200 and 'value="p0@example.org"' in page.text
    r = c.post(
        f"/office/units/{uid}",
        data={
            "csrf_token": token,
            "name": "改名科",
            "aliases": "改名",
            "groups": "分页组",
            "emails": "new@example.org",
            "leader": "",
            "inactive": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    listed = c.get("/office/units", params={"q": "改名科"}).text
    assert "new@example.org" in listed and "p0@example.org" not in listed and "已停用" in listed
    assert office.scalar("select leader_id from unit where id = :i", i=uid) is None
    assert c.get("/office/units/99999").status_code == 404
    r = c.post(f"/office/units/{uid}", data={"csrf_token": token, "name": "改名科", "emails": "坏"})
    assert r.status_code == 400 and "邮箱" in r.text
    r = c.post(  # re-activated: 停用 unticked
        f"/office/units/{uid}",
        data={"csrf_token": token, "name": "改名科", "aliases": "改名", "groups": "分页组",
              "emails": "new@example.org"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303 and office.scalar("select active from unit where id = :i", i=uid)


def test_leaders_add_and_edit(office):
    c = office.client()
    token = csrf(c, "/office/leaders")
    r = c.post(
        "/office/leaders",
        data={"csrf_token": token, "name": "李主任", "title": "主任", "principal": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    lid = office.scalar("select id from person where name = '李主任'")
    r = c.post(
        f"/office/leaders/{lid}",
        data={"csrf_token": token, "title": "主任", "email": "li@example.org"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = c.get("/office/leaders", params={"q": "李主任"}).text
    assert 'value="li@example.org"' in page and "主要领导" in page and "共 1 条" in page


def test_a_token_is_shown_once_and_can_be_revoked(office):
    c = office.client()
    token = csrf(c, "/office/tokens")
    r = c.post("/office/tokens", data={"csrf_token": token, "role": "unit", "unit": "法规科"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    issued = re.search(r'id="new-token">([^<]+)<', r.text).group(1)
    assert "只显示这一次" in r.text
    listing = c.get("/office/tokens").text
    assert issued not in listing and issued[:8] in listing  # the prefix only
    assert office.client_with(issued).get("/tasks").status_code == 200
    assert (
        office.scalar(
            "select count(*) from auditevent where action = 'token.issue' and door = 'page'"
            " and outcome = 'ok'"
        )
        >= 1
    )
    tid = office.scalar("select max(id) from token")
    r = c.post(f"/office/tokens/{tid}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert office.client_with(issued).get("/tasks", follow_redirects=False).status_code == 303
    r = c.post("/office/tokens", data={"csrf_token": token, "role": "unit", "unit": ""})
    assert r.status_code == 400 and "持有者" in r.text


def test_the_directory_sheet_is_previewed_then_written(office, tmp_path):
    c = office.client()
    token = csrf(c, "/office/directory/import")
    sheet = "单位名称,别名,分组,邮箱,分管领导\n名录甲科,甲科,名录组,a@example.org,王副主任\n法规科,,名录组,fg2@example.org,\n"
    before = office.scalar("select count(*) from unit")
    r = c.post(
        "/office/directory/import",
        data={"csrf_token": token},
        files={"sheet": ("名录.csv", sheet.encode("utf-8-sig"), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert (
        "预览" in r.text and "新增 1 个，补充 1 个" in r.text and "邮箱 +fg2@example.org" in r.text
    )
    assert office.scalar("select count(*) from unit") == before  # nothing written yet
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', r.text).group(1)
    r = c.post("/office/directory/import/confirm", data={"csrf_token": token, "digest": digest})
    assert r.status_code == 200 and "已导入名录表：新增 1 个单位，补充 1 个单位" in r.text
    assert office.scalar("select count(*) from unit") == before + 1
    listed = c.get("/office/units", params={"unit": "名录组"}).text
    assert "名录甲科" in listed and "fg2@example.org" in listed and "共 2 条" in listed
    # confirmed once: the upload is gone
    r = c.post("/office/directory/import/confirm", data={"csrf_token": token, "digest": digest})
    assert r.status_code == 404
    # a row in error: shown, and nothing can be written
    bad = "单位名称,邮箱,分管领导\n名录乙科,b@example.org,\n名录丙科,坏地址,\n名录丁科,,不存在的领导\n"
    r = c.post(
        "/office/directory/import",
        data={"csrf_token": token},
        files={"sheet": ("名录.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 200 and "有误 2 行" in r.text and "确认导入" not in r.text
    assert "邮箱“坏地址”格式不正确" in r.text and "不在领导名录中" in r.text
    digest = re.search(r"uploads", r.text)  # no confirmation form was offered
    assert digest is None
    r = c.post(
        "/office/directory/import",
        data={"csrf_token": token},
        files={"sheet": ("名录.txt", b"x", "text/plain")},
    )
    assert r.status_code == 400 and ".xlsx 或 .csv" in r.text
    r = c.post(
        "/office/directory/import",
        data={"csrf_token": token},
        files={"sheet": ("名录.csv", "姓名,电话\n张三,1\n".encode(), "text/csv")},
    )
    assert r.status_code == 400 and "单位名称" in r.text
    assert office.scalar("select count(*) from unit where name like '名录%'") == 1


def test_the_directory_sheet_reads_xlsx(office, tmp_path):
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某委单位名录"])
    sheet.append(["序号", "科室", "电子邮箱"])
    sheet.append([1, "表格科（表格处）", "x1@example.org、x2@example.org"])
    buf = io.BytesIO()
    book.save(buf)
    c = office.client()
    token = csrf(c, "/office/directory/import")
    r = c.post(
        "/office/directory/import",
        data={"csrf_token": token},
        files={"sheet": ("名录.xlsx", buf.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 200 and "表格科" in r.text and "别名 表格处" in r.text
    assert "x2@example.org" in r.text and '<td data-label="行">3</td>' in r.text


def test_plans_check_preview_and_run_now(office, tmp_path):
    office.cli.ok("task", "add", "检查页任务", "--unit", "法规科", "--due", "2026-02-20", "--past")
    c = office.client()
    assert "2026" in c.get("/office/plans").text
    token = csrf(c, "/office/check")
    state = "select state from assignment a join task t on t.id = a.task_id where t.title = '检查页任务'"
    r = c.post("/office/check", data={"csrf_token": token, "mode": "preview"})
    assert r.status_code == 200 and "预览结果" in r.text and "（演练，未写入）" in r.text
    assert "标记逾期 1 项" in r.text
    assert office.scalar(state) == "assigned"
    r = c.post("/office/check", data={"csrf_token": token, "mode": "run"})
    assert r.status_code == 200 and "已运行" in r.text and "演练" not in r.text
    assert office.scalar(state) == "overdue"
    outbox = c.get("/office/outbox", params={"state": "pending", "q": "法规科"})
    assert outbox.status_code == 200 and "共 " in outbox.text


def test_scores_and_the_evaluation_downloads(office):
    office.cli.ok("task", "add", "得分页任务", "--unit", "法规科", "--due", "2026-02-10", "--past")
    c = office.client()
    r = c.get("/office/scores")
    assert r.status_code == 200 and "各单位得分" in r.text and "法规科" in r.text
    assert "下载考核结果（.xlsx）" in r.text
    x = c.get("/office/scores/evaluation.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert "attachment" in x.headers["content-disposition"]
    h = c.get("/office/scores/evaluation.html")
    assert h.status_code == 200 and "法规科" in h.content.decode("utf-8")
    assert c.get("/office/scores/evaluation.pdf").status_code == 404
    # a second year's plan: the page shows the newest, the chips choose
    office.cli.ok("task", "add", "去年任务", "--unit", "法规科", "--due", "2025-12-01", "--past")
    r = c.get("/office/scores")
    assert r.status_code == 200 and 'aria-current="true">2026' in r.text
    old = office.scalar("select id from plan where year = 2025")
    r = c.get("/office/scores", params={"plan": str(old)})
    assert r.status_code == 200 and f'href="/office/scores/evaluation.xlsx?plan={old}"' in r.text
    filtered = c.get("/office/scores", params={"unit": "不存在科"}).text
    assert "没有扣分" in filtered


def test_bulk_verify_goes_through_each_and_reports_the_ones_that_fail(office):
    cli = office.cli
    ids = []
    for i in range(3):
        cli.ok("task", "add", f"批量核验{i}", "--unit", "法规科", "--due", "2026-04-30")
        aid = office.scalar(
            "select a.id from assignment a join task t on t.id = a.task_id where t.title = :t",
            t=f"批量核验{i}",
        )
        cli.ok("task", "report", str(aid), "--text", f"已完成{i}", token=office.tokens["unit"])
        ids.append(aid)
    c = office.client()
    page = c.get("/office/verify", params={"q": "批量核验"})
    assert page.text.count('name="ids"') == 3 and "批量核验通过所选" in page.text
    token = csrf(c, "/office/verify")
    cli.ok("task", "verify", str(ids[1]))  # verified meanwhile, elsewhere
    r = c.post(
        "/office/verify/bulk",
        data={"csrf_token": token, "ids": [str(i) for i in ids], "q": "批量核验"},
    )
    assert r.status_code == 200, r.text
    assert f"已核验通过 2 项：#{ids[0]}、#{ids[2]}" in r.text
    failed = re.search(r'<ul class="bulk-failed">(.*?)</ul>', r.text, re.S).group(1)
    assert f"#{ids[1]}" in failed and f"#{ids[0]}" not in failed
    states = [office.scalar("select state from assignment where id = :i", i=i) for i in ids]
    assert states == ["verified", "verified", "verified"]
    history = office.scalar(
        "select count(*) from history where assignment_id = :i and action = 'verify'", i=ids[0]
    )
    assert history == 1
    r = c.post("/office/verify/bulk", data={"csrf_token": token})
    assert r.status_code == 400 and "请先勾选" in r.text
    r = c.post("/office/verify/bulk", data={"csrf_token": token, "ids": "abc"})
    assert r.status_code == 400


def test_the_cli_imports_the_same_sheet(duban, tmp_path):
    """``duban unit import`` (locally and over HTTP) is the pages' import: a dry run, then the
    write; a sheet with an error row writes nothing and exits non-zero."""
    duban.ok("leader", "add", "赵主任")
    sheet = tmp_path / "名录.csv"
    sheet.write_text("单位名称,邮箱,分管领导\n命令甲科,a@example.org,赵主任\n", "utf-8-sig")
    preview = duban.json("unit", "import", str(sheet), "--dry-run")
    assert preview["added"] == 1 and not preview["written"]
    assert duban.json("unit", "list") == []
    out = duban.ok("unit", "import", str(sheet)).output
    assert "已导入：新增 1 个单位" in out
    assert [u["leader"] for u in duban.json("unit", "list")] == ["赵主任"]
    bad = tmp_path / "坏.csv"
    bad.write_text("单位名称,邮箱\n命令乙科,坏\n", "utf-8")
    result = duban("unit", "import", str(bad))
    assert result.exit_code != 0 and "第 2 行：邮箱“坏”格式不正确" in result.output + result.stderr
    assert len(duban.json("unit", "list")) == 1


def test_the_task_list_is_paged_searched_and_filtered(office):
    for i in range(31):
        office.cli.ok("task", "add", f"翻页任务{i:02d}", "--unit", "法规科", "--due", "2026-06-30")
    c = office.client()
    r = c.get("/tasks", params={"q": "翻页任务"})
    assert r.status_code == 200 and "共 31 条" in r.text and "第 1 / 2 页" in r.text
    assert r.text.count("翻页任务") == 30 + 1  # 30 rows, and the search box's value
    nxt = re.search(r'href="([^"]+)" rel="next"', r.text).group(1).replace("&amp;", "&")
    assert "q=" in nxt and "page=2" in nxt
    assert c.get(nxt).text.count("翻页任务") == 1 + 1
    r = c.get("/tasks", params={"q": "翻页任务05", "unit": "法规科", "state": "assigned"})
    assert "共 1 条" in r.text and '<option value="法规科" selected>' in r.text
    # a unit sees its own, with the search and pager but no unit filter
    unit = office.client("unit").get("/tasks", params={"q": "翻页任务"})
    assert "共 31 条" in unit.text and 'name="unit"' not in unit.text


def test_hostile_path_values_are_refused_on_the_new_routes(office):
    """As tests/test_hostile_input.py does for the older pages: never a 500, nothing changed."""
    from urllib.parse import quote

    from workflow.web.pages import directory, running

    c = office.client()
    token = csrf(c, "/office/units")
    routes = [
        (method, route.path)
        for module in (directory, running)
        for route in module.router.routes
        for method in sorted(getattr(route, "methods", ()) or ())
        if "{" in route.path
    ]
    assert len(routes) >= 4
    before = office.scalar("select count(*) from history") + office.scalar(
        "select count(*) from token where revoked_at is not null"
    )
    for method, path in routes:
        for value in ("99999999999999999999", "-2147483649", "%00", "%ED%A0%80"):
            url = re.sub(r"{[^}]+}", value, path)
            if method == "GET":
                r = c.get(url)
            else:
                body = f"csrf_token={token}&name={quote('名' + chr(0))}&email=x"
                r = c.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            assert 400 <= r.status_code < 500, (method, url, r.status_code, r.text[:300])
    after = office.scalar("select count(*) from history") + office.scalar(
        "select count(*) from token where revoked_at is not null"
    )
    assert after == before

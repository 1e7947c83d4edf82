"""Two ``duban serve`` processes on two ports over one database (SQLite file or PostgreSQL),
and one ``duban serve --workers 2``: nothing a request relies on lives in one process's memory.

Signed in on one server, the session works on the other; failed tokens counted by one are
counted by both; a report made through one is seen through the other; a page of the task list
started on one is continued on the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import serve
from web_world import World, running_office


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> Iterator[tuple[World, str]]:
    tmp = tmp_path_factory.mktemp("two")
    # a small limit, so the shared count shows within a few guesses
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    (tmp / "config" / "duban.toml").write_text(
        "[server]\nfailed_tokens_block_after = 4\nfailed_token_delay = 0\n", encoding="utf-8"
    )
    with running_office(tmp) as world:  # noqa: SIM117 - the second needs the first
        with serve(world.env, tmp / "serve2.log", ("--workers", "2")) as second:
            yield world, second


def _csrf(client: httpx.Client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_session_made_on_one_server_works_on_the_other(two):
    world, second = two
    with httpx.Client(base_url=world.url) as a:
        r = a.post(
            "/login",
            data={"token": world.tokens["财务审计科"], "csrf_token": _csrf(a), "next": "/tasks"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        cookies = a.cookies
    with httpx.Client(base_url=second, cookies=cookies) as b:
        for _ in range(4):  # whichever worker of the second server answers
            page = b.get("/tasks", follow_redirects=False)
            assert page.status_code == 200 and "公开部门预算" in page.text


def test_failed_tokens_are_counted_across_servers(two):
    world, second = two
    headers = {"Authorization": "Bearer wrong-token"}
    # each answer has its own connection, so the second server's two workers both count
    statuses = []
    for i in range(6):
        url = world.url if i % 2 == 0 else second
        statuses.append(httpx.get(f"{url}/api/v1/assignments", headers=headers).status_code)
    assert statuses == [401] * 4 + [429] * 2  # the limit of 4 counted once, on both
    right = {"Authorization": f"Bearer {world.tokens['office']}"}
    assert httpx.get(f"{second}/api/v1/assignments", headers=right).status_code == 429
    world.execute("DELETE FROM failedguess")  # forgiven, for the other tests


def test_a_report_through_one_is_seen_through_the_other(two):
    world, second = two
    token = {"Authorization": f"Bearer {world.tokens['法规科']}"}
    mine = httpx.get(f"{world.url}/api/v1/assignments", headers=token).json()["result"]
    aid = mine[0]["id"]
    r = httpx.post(
        f"{world.url}/api/v1/assignments/{aid}/report", headers=token, json={"text": "已办结"}
    )
    assert r.status_code == 200, r.text
    office = {"Authorization": f"Bearer {world.tokens['office']}"}
    for _ in range(3):
        seen = httpx.get(f"{second}/api/v1/assignments/{aid}", headers=office).json()["result"]
        assert seen["state"] == "reported"


def test_a_page_started_on_one_is_continued_on_the_other(two):
    world, second = two
    office = {"Authorization": f"Bearer {world.tokens['office']}"}
    whole = httpx.get(f"{world.url}/api/v1/assignments?limit=1000", headers=office).json()
    first = httpx.get(f"{world.url}/api/v1/assignments?limit=2", headers=office).json()
    assert len(first["result"]) == 2 and first["next"]
    rest = httpx.get(
        f"{second}/api/v1/assignments",
        params={"limit": 1000, "cursor": first["next"]},
        headers=office,
    ).json()
    assert rest["next"] is None
    assert [r["id"] for r in first["result"] + rest["result"]] == [r["id"] for r in whole["result"]]


def test_the_log_names_two_workers(two, tmp_path_factory):
    world, _ = two
    log = Path(world.tmp, "serve2.log").read_text(errors="replace")
    assert len(set(re.findall(r"Started server process \[(\d+)\]", log))) == 2

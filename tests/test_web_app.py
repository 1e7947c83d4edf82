"""The server door's frame: a real ``duban serve``, errors as JSON in Chinese, safe headers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import Cli
from dbsnap import snapshot
from live_server import serve


@pytest.fixture
def server(cli_env, tmp_path):
    with serve(cli_env, tmp_path / "serve.log") as url:
        yield url


def test_health_and_headers(server):
    r = httpx.get(f"{server}/api/v1/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "server" not in r.headers


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/tasks/../../etc/passwd", "/etc/passwd"]
)
def test_unknown_route_is_a_chinese_json_404(server, path):
    r = httpx.get(f"{server}{path}")
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "没有这个地址"


def test_openapi_is_served(server):
    r = httpx.get(f"{server}/api/v1/openapi.json")
    assert r.status_code == 200 and r.json()["info"]["title"].startswith("duban")


@pytest.fixture
def guarded(cli_env, tmp_path):
    """``duban serve`` with a small upload limit and a quick throttle (settings in duban.toml)."""
    config = Path(cli_env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "[server]\nmax_upload_mb = 0.01\nfailed_token_delay = 0.001\n", encoding="utf-8"
    )
    log = tmp_path / "serve.log"
    with serve(cli_env, log) as url:
        yield url, log


def test_oversized_upload_is_413_and_nothing_is_imported(guarded, cli_env, tmp_path):
    url, _ = guarded
    big = tmp_path / "台账.csv"
    big.write_bytes(b"x" * 20_000)
    before = snapshot(cli_env["DUBAN_DATABASE_URL"])
    r = httpx.post(
        f"{url}/api/v1/imports",
        headers={"Authorization": f"Bearer {cli_env['DUBAN_TOKEN']}"},
        data={"params": json.dumps({"file": "台账.csv"})},
        files={"file": ("台账.csv", big.read_bytes())},
    )
    assert r.status_code == 413 and "上传文件过大" in r.json()["error"]["message"], r.text
    assert snapshot(cli_env["DUBAN_DATABASE_URL"]) == before
    cli = Cli({**cli_env, "DUBAN_SERVER": url})
    result = cli("import", str(big))
    assert result.exit_code == 2 and result.stderr.startswith("错误：上传文件过大")


def test_a_thousand_bad_tokens_are_slowed_then_refused(guarded, cli_env):
    url, log = guarded
    statuses = []
    with httpx.Client() as http:
        for i in range(1000):
            r = http.get(
                f"{url}/api/v1/assignments", headers={"Authorization": f"Bearer dbn_guess{i:04d}"}
            )
            statuses.append(r.status_code)
        good = http.get(
            f"{url}/api/v1/assignments",
            headers={"Authorization": f"Bearer {cli_env['DUBAN_TOKEN']}"},
        )
    assert statuses[:19] == [401] * 19 and set(statuses[20:]) == {429}
    assert good.status_code == 429 and "分钟后再试" in good.json()["error"]["message"]
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "refusing 127.0.0.1" in text and "GET /api/v1/assignments" in text
    assert "dbn_guess" not in text and cli_env["DUBAN_TOKEN"] not in text


def test_the_cli_over_a_real_duban_serve(server, cli_env):
    office = Cli(cli_env)
    office.ok("unit", "add", "法规处")
    office.ok("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-11-30")
    remote = Cli({**cli_env, "DUBAN_SERVER": server})
    assert remote.ok("task", "list").stdout == office.ok("task", "list").stdout
    assert remote.json("task", "show", "1") == office.json("task", "show", "1")
    missing = remote("task", "show", "99")
    assert missing.exit_code == 3 and missing.stderr == office("task", "show", "99").stderr

"""The server door's frame: a real ``duban serve``, errors as JSON in Chinese, safe headers."""

from __future__ import annotations

import httpx
import pytest
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

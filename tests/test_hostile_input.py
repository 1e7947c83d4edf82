"""Hostile values on every door: a 4xx with a Chinese message, never a 500, never a change.

Ids beyond the database integer, lone UTF-16 surrogates, NUL and other control characters,
texts beyond their documented limit (``workflow/calls/inputs.py``) and deeply nested JSON are
sent by hypothesis to every API route of the operation table and to every page route of a real
``duban serve`` (SQLite, or PostgreSQL with ``DUBAN_TEST_DATABASE_URL``: the same answers);
the CLI refuses them with one line and exit 2.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from conftest import Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_world import running_office

from workflow.calls.inputs import INT_MAX, INT_MIN, MAX_DEPTH, check_params, check_text, limit_of
from workflow.calls.models import input_model
from workflow.calls.table import OPERATIONS
from workflow.errors import InvalidInput

# Errors a configured office may legitimately answer with a 5xx (no SMTP server in this world).
CONFIGURED_5XX = {"delivery_error", "mail_settings_error", "config_error"}

HUGE_INTS = [INT_MAX + 1, INT_MIN - 1, 2**63, -(2**63) - 1, 10**20, 10**40]
BAD_TEXTS = ["\ud800", "a\udfffb", "a\x00b", "\x00", "x\x07y", "x\x1b[31m", "\x7f", "\x85"]


def long_text(name: str, op: str) -> str:
    return "长" * (limit_of(name, op) + 1)


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def hostile(name: str, kind: str, op: str) -> st.SearchStrategy:
    """Values of parameter ``name`` (declared ``kind``): hostile ones and plain ones."""
    texts = st.sampled_from([*BAD_TEXTS, long_text(name, op), "法规科", "2026-03-31", "1"])
    ints = st.sampled_from([*HUGE_INTS, 1, 0, -1])
    if "list" in kind:
        return st.one_of(
            st.lists(texts, max_size=3), st.just(nested(MAX_DEPTH + 2)), st.just(["x"] * 1001)
        )
    if re.search(r"\bint\b", kind):
        return ints
    if re.search(r"\bbool\b", kind):
        return st.booleans()
    return st.one_of(texts, ints, st.just(nested(50)))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("hostile")) as w:
        yield w


def snapshot_counts(world) -> dict[str, int]:
    tables = ("unit", "person", "task", "assignment", "report", "history", "token", "notification")
    return {t: world.scalar(f'select count(*) from "{t}"') for t in tables}  # noqa: S608


def assert_refused_cleanly(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500 or r.json()["error"]["code"] in CONFIGURED_5XX, (what, r.text)
    if r.status_code >= 400 and r.headers.get("content-type", "").startswith("application/json"):
        message = r.json()["error"]["message"]
        assert re.search(r"[\u4e00-\u9fff]", message) and "\n" not in message, (what, message)


def call(world, name: str, values: dict, token: str) -> httpx.Response:
    op = OPERATIONS[name]
    path = {k: values.pop(k, 1) for k in op.path_params}
    url = f"{world.url}/api/v1{op.url_path({k: _segment(v) for k, v in path.items()})}"
    headers = {"Authorization": f"Bearer {token}"}
    if op.method == "GET":
        query = {
            k: v if isinstance(v, str | int | list) else json.dumps(v) for k, v in values.items()
        }
        query = {
            k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v
            for k, v in query.items()
        }
        return httpx.get(url, params=query, headers=headers, timeout=60)
    body = json.dumps(values)  # ensure_ascii: a lone surrogate travels as \\ud800
    if op.uploads:
        files = {u: ("x.csv", b"a,b\n") for u in op.uploads}
        return httpx.post(url, data={"params": body}, files=files, headers=headers, timeout=60)
    headers["Content-Type"] = "application/json"
    return httpx.request(op.method, url, content=body, headers=headers, timeout=60)


def _segment(value) -> str:
    """A path segment as a client could send it: a surrogate as its (invalid) UTF-8 bytes."""
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if not isinstance(value, int)
        else str(value)
    )
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


@pytest.mark.parametrize("name", sorted(OPERATIONS))
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_api_route_refuses_hostile_values_without_a_500(world, name, data):
    op = OPERATIONS[name]
    params = {k: str(f.annotation) for k, f in input_model(name).model_fields.items()}
    values = {k: data.draw(hostile(k, kind, name), label=k) for k, kind in params.items()}
    for k in op.path_params:
        values[k] = data.draw(st.sampled_from([*HUGE_INTS, *BAD_TEXTS[2:], "1"]), label=f"path {k}")
    r = call(world, name, dict(values), world.tokens["office"])
    assert_refused_cleanly(r, f"{name} {values!r:.300}")


@pytest.mark.parametrize("name", sorted(n for n, op in OPERATIONS.items() if op.method != "GET"))
def test_deeply_nested_json_is_a_400(world, name):
    op = OPERATIONS[name]
    url = f"{world.url}/api/v1{op.url_path({k: 1 for k in op.path_params})}"
    deep = '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    headers = {"Authorization": f"Bearer {world.tokens['office']}"}
    if op.uploads:
        r = httpx.post(url, data={"params": deep}, files={"f": ("x", b"")}, headers=headers)
    else:
        headers["Content-Type"] = "application/json"
        r = httpx.request(op.method, url, content=deep, headers=headers, timeout=60)
    assert r.status_code == 400, r.text
    assert "嵌套过深" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("assignment_id", 10**20, "超出范围"),
        ("reason", "a\x00b", "控制字符 NUL"),
        ("reason", "a\ud800", "无效的 Unicode"),
        ("title", "长" * 501, "上限 500"),
        ("units", ["法规科", "x" * 101], "上限 100"),
    ],
)
def test_the_one_check_names_the_parameter_and_the_limit(name, value, words):
    with pytest.raises(InvalidInput) as caught:
        check_params({name: value}, "task.add")
    assert name in caught.value.message and words in caught.value.message


@pytest.mark.parametrize(
    ("name", "text", "ok"),
    [
        ("reason", "第一行\n第二行\t附注\r\n", True),  # multi-line texts keep their line breaks
        ("text", "报告\n", True),
        ("title", "标题\n第二行", False),  # single-line texts take no control character at all
        ("reason", "响铃\x07", False),
        ("reason", "垂直制表\x0b", False),
        ("name", "法规科\t", False),
        ("name", "正常的名字 (A-1)", True),
    ],
)
def test_control_characters_are_refused_except_line_breaks_in_long_texts(name, text, ok):
    if ok:
        assert check_text(name, text) == text
    else:
        with pytest.raises(InvalidInput):
            check_text(name, text)


@pytest.mark.parametrize(
    "args",
    [
        ("task", "show", "99999999999999999999"),
        ("task", "start", "-99999999999"),
        ("task", "add", "长" * 501, "--unit", "法规科", "--due", "2026-03-31"),
        ("task", "report", "1", "--text", "含\x00空字符"),
        ("task", "return", "1", "--reason", "含\x1b转义"),
        ("unit", "add", "x" * 101),
        ("notify", "list", "--limit", "3000000000"),
        ("task", "list", "--plan", "99999999999999999999"),  # the local read path too
    ],
)
def test_the_cli_refuses_hostile_values_in_one_line(world, args):
    before = snapshot_counts(world)
    for env in (world.env, {**world.env, "DUBAN_SERVER": world.url}):  # local and client mode
        result = Cli(env)(*args)
        assert result.exit_code == 2, (args, result.output, result.stderr)
        assert result.stderr.startswith("错误：") and result.stderr.count("\n") == 1, result.stderr
    assert snapshot_counts(world) == before


def _page_routes(world) -> list[tuple[str, str]]:
    from workflow.web.pages import auth, board, ledger, office, tasks

    return [
        (method, route.path)
        for module in (auth, tasks, board, office, ledger)
        for route in module.router.routes
        for method in sorted(getattr(route, "methods", ()) or ())
        if "{" in route.path
    ]


def test_every_page_route_refuses_hostile_path_values(world):
    client = httpx.Client(base_url=world.url, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"token": world.tokens["office"], "csrf_token": csrf})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/tasks").text).group(1)
    before = snapshot_counts(world)
    routes = _page_routes(world)
    assert routes
    for method, path in routes:
        for value in ("99999999999999999999", "-2147483649", "%00", "%ED%A0%80", "1"):
            url = re.sub(r"{[^}]+}", value, path)
            if method == "GET":
                r = client.get(url)
            else:
                form = {"csrf_token": csrf, "reason": "理由\x00", "text": "报告\ud800", "to": "x"}
                body = "&".join(f"{k}={_quote(v)}" for k, v in form.items())
                r = client.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            assert r.status_code < 500, (method, url, r.text[:500])
    assert snapshot_counts(world) == before


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text.encode("utf-8", "surrogatepass"), safe="")

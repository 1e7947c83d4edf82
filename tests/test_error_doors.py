"""One error, three doors: the CLI names the flag, the page the form label, the API answers
JSON with the reason code and the field; the database is unchanged and nothing shows another
door's words (no ``--text`` on a page, no form label on the command line)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Cli, fresh_database
from dbsnap import snapshot
from fastapi.testclient import TestClient

from workflow.config import load_config
from workflow.errors import DubanError, InvalidInput
from workflow.web.pages.fields import FIELD_LABELS, error_text


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("doors")
    with fresh_database(tmp, "doors") as url:
        env = {
            "DUBAN_CONFIG_DIR": str(tmp / "config"),
            "DUBAN_DATA_DIR": str(tmp / "data"),
            "DUBAN_DATABASE_URL": url,
            "DUBAN_TOKEN": "",
            "DUBAN_SERVER": "",
            "DUBAN_NOW": "2026-03-02T09:00",
        }
        env["DUBAN_TOKEN"] = Cli(env).json("init")["token"]
        cli = Cli(env)
        cli.ok("unit", "add", "法规科", "--email", "fg@example.org")
        cli.ok("task", "add", "修订办事指南", "--unit", "法规科", "--due", "2026-03-31")
        unit = cli.json("token", "issue", "法规科")["token"]
        from workflow.web.app import create_app

        app = create_app(load_config(env))
        yield {
            "cli": cli,
            "env": env,
            "app": app,
            "tokens": {"office": env["DUBAN_TOKEN"], "unit": unit},
        }


def _page_client(world, role: str) -> TestClient:
    c = TestClient(world["app"], follow_redirects=False)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"token": world["tokens"][role], "csrf_token": csrf})
    return c


def _csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _rows(world) -> dict:
    """Every table but the sign-ins (the page door signs in first)."""
    rows = snapshot(world["env"]["DUBAN_DATABASE_URL"])
    rows.pop("websession", None)
    return rows


# case: who acts, the CLI arguments, the API call, the page's form post, the field, the reason,
# what each door must say
CASES = {
    "report without text": dict(
        role="unit",
        cli=["task", "report", "1"],
        api=("/api/v1/assignments/1/report", {}),
        page=("/assignments/1/report", "/assignments/1", {"text": " ", "evidence": ""}),
        field="text",
        reason="text_missing",
        cli_says="报送任务 #1 需要填写进展落实情况（--text）",
        page_says="报送任务 #1 需要填写进展落实情况",
        api_says="报送任务 #1 需要填写进展落实情况",
    ),
    "return without reason": dict(
        role="office",
        cli=["task", "return", "1"],
        api=("/api/v1/assignments/1/return", {}),
        page=("/office/assignments/1/return", "/office/verify", {"reason": ""}),
        field="reason",
        reason="reason_missing",
        cli_says="退回任务 #1 需要说明理由（--reason）",
        page_says="退回任务 #1 需要说明理由",  # the label is in the message already
        api_says="退回任务 #1 需要说明理由",
    ),
    "control character in a text": dict(
        role="unit",
        cli=["task", "report", "1", "--text", "进展\x01"],
        api=("/api/v1/assignments/1/report", {"text": "进展\x01"}),
        page=("/assignments/1/report", "/assignments/1", {"text": "进展\x01", "evidence": ""}),
        field="text",
        reason="control_character",
        cli_says="--text 含有不允许的控制字符 U+0001（第 3 个字符）",
        page_says="“进展落实情况” 含有不允许的控制字符 U+0001（第 3 个字符）",
        api_says="参数 text 含有不允许的控制字符 U+0001（第 3 个字符）",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_each_door_names_the_field_its_own_way(world, case):
    before = _rows(world)
    token = world["tokens"][case["role"]]

    result = world["cli"](*case["cli"], token=token)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"错误：{case['cli_says']}"

    path, body = case["api"]
    with TestClient(world["app"]) as api:
        r = api.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_input"  # the class: what a client raises again
    assert error["reason"] == case["reason"] and error["field"] == case["field"]
    assert error["message"] == case["api_says"] and "hint" in error

    action, form_page, form = case["page"]
    page = _page_client(world, case["role"])
    r = page.post(action, data={"csrf_token": _csrf(page, form_page), **form})
    assert r.status_code == 400
    shown = re.search(r'<p class="error" role="alert"[^>]*>(?:错误：)?([^<]*)<', r.text)
    assert shown is not None and case["page_says"] in shown.group(1), r.text
    assert "--" + case["field"] not in r.text

    assert _rows(world) == before


def test_the_cli_over_http_keeps_reason_and_field(world):
    """The HTTP client raises the server's error again, with its reason, field and hint."""
    from cli.client import _error

    class Answer:
        status_code = 400

    exc = _error(
        Answer(),
        {
            "error": {
                "code": "invalid_input",
                "reason": "reason_missing",
                "field": "reason",
                "message": "退回任务 #1 需要说明理由",
                "hint": None,
            }
        },
    )
    assert isinstance(exc, InvalidInput)
    assert (exc.reason, exc.field, exc.hint) == ("reason_missing", "reason", None)


def test_a_field_in_its_place_or_after_the_message():
    templated = InvalidInput("{field} 过长", reason="too_long", field="due")
    assert templated.message == "参数 due 过长" and templated.text("--due") == "--due 过长"
    assert error_text(templated) == f"“{FIELD_LABELS['due']}” 过长"
    plain = DubanError("出错了", field="unit", hint="请检查单位名称")
    assert error_text(plain) == "出错了（“单位”）；请检查单位名称"
    assert error_text(plain, {"unit": "责任单位"}) == "出错了（“责任单位”）；请检查单位名称"
    assert (
        DubanError("出错了").reason == "duban_error" and InvalidInput("x").reason == "invalid_input"
    )


def test_sign_out_reasons_are_codes_not_texts():
    from workflow.web.pages.auth import SIGN_IN_REFUSED
    from workflow.web.pages.frame import SIGNED_OUT_TEXT, SIGNED_OUT_WHY

    assert set(SIGNED_OUT_WHY.values()) <= set(SIGNED_OUT_TEXT)
    assert all("_" in reason for reason in [*SIGNED_OUT_WHY, *SIGN_IN_REFUSED])


def test_the_cli_names_an_argument_not_the_python_parameter(world):
    """The old wart: a generic input error said “参数 address”, a name no user ever typed."""
    result = world["cli"]("mail", "test", "a\x01b@example.org")
    assert result.exit_code == 2
    assert result.stderr.strip() == "错误：ADDRESS 含有不允许的控制字符 U+0001（第 2 个字符）"
    result = world["cli"]("task", "list", "--due-before", "2026-02-30")
    assert result.stderr.startswith("错误：--due-before 日期无效：“2026-02-30”")

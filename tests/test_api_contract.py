"""The API as a contract: every operation's route documents its parameters, body, answer and
authentication in ``/api/v1/openapi.json`` (served by a real ``duban serve``), and the example
client built from the operations' models performs a unit's report against that server."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from conftest import Cli, fresh_database
from live_server import ROOT, serve

from workflow.calls.models import body_model, input_model, result_model
from workflow.calls.table import OPERATIONS


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """An office with one unit, one assignment and the unit's token, behind ``duban serve``."""
    tmp = tmp_path_factory.mktemp("contract")
    with fresh_database(tmp) as url:
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
        cli.ok("unit", "add", "法规处", "--email", "fg@example.org")
        rows = cli.json("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-11-30")
        unit_token = cli.json("token", "issue", "法规处")["token"]
        with serve(env, tmp / "serve.log") as server:
            schema = httpx.get(f"{server}/api/v1/openapi.json", timeout=60).json()
            yield {
                "url": server,
                "env": env,
                "schema": schema,
                "unit_token": unit_token,
                "assignment": rows[0]["id"],
            }


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:  # an optional body: the model or null
        node = next(_resolve(schema, n) for n in node["anyOf"] if n.get("type") != "null")
    return node


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_route_documents_its_parameters_body_and_answer(office, name):
    schema = office["schema"]
    op = OPERATIONS[name]
    path = "/api/v1" + op.path.replace(":int", "")
    doc = schema["paths"][path][op.method.lower()]
    assert doc["operationId"] == name and doc["summary"] == name
    assert doc["security"] == [{"token": []}]
    params = {p["name"]: p for p in doc.get("parameters", [])}
    fields = input_model(name).model_fields
    for key in op.path_params:
        assert params[key]["in"] == "path" and params[key]["required"] is True
        assert params[key]["schema"].get("type") or params[key]["schema"].get("anyOf")
    body_names = [k for k in fields if k not in op.path_params]
    if op.method == "GET":
        for key in body_names:
            assert params[key]["in"] == "query" and params[key]["schema"], key
            assert params[key]["required"] is fields[key].is_required()
    elif op.uploads:
        form = _resolve(schema, doc["requestBody"]["content"]["multipart/form-data"]["schema"])
        assert {"params", *op.uploads} <= set(form["properties"])
        assert all(k in form["properties"]["params"]["description"] for k in body_names)
    else:
        body = _resolve(schema, doc["requestBody"]["content"]["application/json"]["schema"])
        assert body["additionalProperties"] is False
        assert set(body.get("properties", {})) == set(body_names)
        assert all(body["properties"][k] for k in body_names)
        assert set(body.get("required", [])) == {k for k in body_names if fields[k].is_required()}
    answer = _resolve(schema, doc["responses"]["200"]["content"]["application/json"]["schema"])
    result = answer["properties"]["result"]
    assert result.get("type") or result.get("anyOf") or result.get("$ref"), result
    for status in ("400", "401", "403"):
        error = doc["responses"][status]["content"]["application/json"]["schema"]
        assert _resolve(schema, error)["properties"]["error"]
    assert "422" not in doc["responses"]


def test_the_token_scheme_is_documented(office):
    schemes = office["schema"]["components"]["securitySchemes"]
    assert schemes["token"] == {**schemes["token"], "type": "http", "scheme": "bearer"}


def test_the_models_refuse_what_the_server_refuses(office):
    with pytest.raises(ValueError):
        body_model("task.report").model_validate({"text": 5})
    with pytest.raises(ValueError):
        body_model("task.report").model_validate({"caller": "office"})
    assert result_model("task.list").model_fields["result"].annotation is not None


def test_the_example_client_reports_for_a_unit(office):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from report_client import ApiError, DubanClient, report
    finally:
        sys.path.remove(str(ROOT / "examples"))
    client = DubanClient(office["url"], office["unit_token"])
    answer = report(client, office["assignment"], "已在门户网站公开", ["https://example.org/a"])
    assert answer["state"] == "reported"
    shown = client.call("task.show", assignment_id=office["assignment"]).result
    assert shown["state"] == "reported"
    with pytest.raises(ApiError) as refused:
        client.call("task.verify", assignment_id=office["assignment"])
    assert refused.value.status == 403 and "办公室" in refused.value.message


def test_the_example_client_runs_as_a_command(office):
    """(After the report above.) The server's refusal comes back as its Chinese line."""
    env = {**os.environ, "DUBAN_TOKEN": office["unit_token"], "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "examples/report_client.py", office["url"], str(office["assignment"]),
         "--text", "再次报送"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("错误：") and "已报送" in done.stderr

"""An integration's client of the duban API: httpx plus the operations' own pydantic models.

A unit's system (an OA system, a script) reports its work on an assignment::

    DUBAN_TOKEN=dbn_… python examples/report_client.py https://duban.example.gov.cn 42 \\
        --text "已按要求公开" --evidence https://www.example.gov.cn/xxgk/1.html

The token is read from ``DUBAN_TOKEN`` (never from the command line). Each request body is
built with the operation's body model (so a wrong name or type fails here, before any
request), and each answer is parsed with its result model; a refusal raises
:class:`ApiError` with the server's Chinese message. See ``docs/api.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import httpx

from workflow.calls.models import body_model, result_model
from workflow.calls.table import OPERATIONS

API_PREFIX = "/api/v1"


class ApiError(Exception):
    """A refusal of the server: its HTTP status, reason code and Chinese message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class DubanClient:
    """Calls any operation of ``workflow/calls/table.py`` by name over HTTP."""

    def __init__(self, url: str, token: str, http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = http or httpx.Client(timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, name: str, **params: Any) -> Any:
        """Operation ``name``'s validated result model (``.result`` holds the data)."""
        op = OPERATIONS[name]
        path = {k: params.pop(k) for k in op.path_params}
        body = body_model(name).model_validate(params)  # checked here, before any request
        values = body.model_dump(exclude_unset=True)
        url = f"{self.url}{API_PREFIX}{op.url_path(path)}"
        if op.method == "GET":
            response = self.http.get(url, params=_query(values), headers=self.headers)
        else:
            response = self.http.request(op.method, url, json=values, headers=self.headers)
        if response.status_code >= 400:
            error = response.json()["error"]
            raise ApiError(response.status_code, error["code"], error["message"])
        return result_model(name).model_validate(response.json())


def _query(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Query parameters: a list repeats its name, a boolean is ``true`` / ``false``."""
    out = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                out.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return out


def report(
    client: DubanClient, assignment_id: int, text: str, evidence: list[str] | None = None
) -> dict[str, Any]:
    """Report on ``assignment_id`` (from 已分派, 办理中 or 已逾期): the server's answer."""
    return client.call(
        "task.report", assignment_id=assignment_id, text=text, evidence=evidence or None
    ).result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Report on a duban assignment.")
    parser.add_argument("server")
    parser.add_argument("assignment_id", type=int)
    parser.add_argument("--text", required=True)
    parser.add_argument("--evidence", action="append")
    args = parser.parse_args(argv)
    token = os.environ.get("DUBAN_TOKEN", "")
    if not token:
        print("错误：请在环境变量 DUBAN_TOKEN 中提供令牌", file=sys.stderr)
        return 2
    try:
        result = report(
            DubanClient(args.server, token), args.assignment_id, args.text, args.evidence
        )
    except ApiError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Client mode: the CLI as a client of ``duban serve``, over HTTP with a bearer token.

A server is configured by ``DUBAN_SERVER`` (an empty value forces local mode) or by the URL
``duban login --server`` saved in the config directory; the token is ``DUBAN_TOKEN`` or the
saved one. Every operation of ``workflow/calls/table.py`` is one request; the answer is the
same plain data a local run returns, and an error comes back as the same
:mod:`workflow.errors` class with the same Chinese line, so the CLI prints exactly what it
prints locally. Nothing here imports database code (SQLAlchemy, SQLModel, alembic, openpyxl).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from workflow.config import SERVER_FILE, TOKEN_FILE, config_dir_of, os_error_text
from workflow.errors import FIELD, HTTP_STATUS, DatabaseError, DubanError, InvalidInput, by_code
from workflow.writing.files import refuse_same_file

API_PREFIX = "/api/v1"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def settings() -> Remote | None:
    """The configured server, or None (local mode)."""
    env = os.environ
    folder = config_dir_of(env)
    if "DUBAN_SERVER" in env:
        url = env["DUBAN_SERVER"].strip() or None
    else:
        url = _read(folder / SERVER_FILE)
    if not url:
        return None
    token = env.get("DUBAN_TOKEN", "").strip() or _read(folder / TOKEN_FILE)
    return Remote(url=url.rstrip("/"), token=token)


def save_login(url: str, token: str, *, server_given: bool) -> Path:
    """Save the token (and, given ``--server``, the URL) in the config dir, mode 0600."""
    folder = config_dir_of(os.environ)
    folder.mkdir(parents=True, exist_ok=True)
    items = [(TOKEN_FILE, token)] + ([(SERVER_FILE, url)] if server_given else [])
    for name, value in items:
        path = folder / name
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(value + "\n", encoding="utf-8")
    return folder / TOKEN_FILE


def forget_login() -> list[Path]:
    folder = config_dir_of(os.environ)
    removed = []
    for name in (TOKEN_FILE, SERVER_FILE):
        path = folder / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise InvalidInput(f"服务器地址无效：“{url}”（应形如 https://duban.example.gov.cn）")
    return url


@dataclass
class Remote:
    url: str
    token: str | None

    def call(self, name: str, params: dict[str, Any]) -> Any:
        """Run operation ``name`` on the server; return its data or raise its error."""
        return self.answer(name, params).get("result")

    def page(self, name: str, params: dict[str, Any]) -> tuple[list, str | None]:
        """One page of list ``name``: its rows and the cursor of the next page (None: last)."""
        body = self.answer(name, params)
        return body.get("result") or [], body.get("next")

    def answer(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """The server's whole answer to operation ``name`` (``result``, ``next``…)."""
        httpx = _httpx()
        from workflow.calls.table import OPERATIONS

        op = OPERATIONS[name]
        in_path = {k: params[k] for k in op.path_params}
        rest = {k: v for k, v in params.items() if k not in in_path}
        for key in (*op.uploads, *op.downloads):
            if rest.get(key) is not None:
                rest[key] = str(PurePath(str(rest[key])))
        for up, down in ((u, d) for u in op.uploads for d in op.downloads):
            if rest.get(up) and rest.get(down):  # the server cannot see that they are one file
                refuse_same_file(rest[up], rest[down], "--" + down.replace("_", "-"))
        missing = [k for k in op.downloads if rest.get(k) and not Path(rest[k]).parent.is_dir()]
        if missing:  # the server then lacks that folder too, and says so as a local run would
            rest["_missing_folders"] = missing
        url = f"{self.url}{API_PREFIX}{op.url_path(in_path)}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        request: dict[str, Any] = {"headers": headers}
        if op.method == "GET":
            request["params"] = _query(rest)
        elif op.uploads:
            request["data"] = {"params": json.dumps(rest, ensure_ascii=False)}
            request["files"] = _files(op.uploads, rest)
        else:
            request["json"] = rest
        try:
            with httpx.Client(
                timeout=httpx.Timeout(600.0, connect=10.0), verify=_verify(self.url)
            ) as http:
                response = http.request(op.method, url, **request)
        except httpx.HTTPError as exc:
            raise DatabaseError(f"无法连接督办服务 {self.url}：{_reason(exc)}") from None
        body = _json(response)
        if response.status_code >= 400 or body is None:
            raise _error(response, body)
        for key, content in (body.get("files") or {}).items():
            _write(rest[key], content)
        return body

    def sign_in(self, account: str, password: str) -> dict[str, Any]:
        """A person's password for a personal token (``POST /api/v1/sign-in``)."""
        httpx = _httpx()
        try:
            with httpx.Client(
                timeout=httpx.Timeout(60.0, connect=10.0), verify=_verify(self.url)
            ) as http:
                response = http.post(
                    f"{self.url}{API_PREFIX}/sign-in",
                    json={"account": account, "password": password},
                )
        except httpx.HTTPError as exc:
            raise DatabaseError(f"无法连接督办服务 {self.url}：{_reason(exc)}") from None
        body = _json(response)
        if response.status_code >= 400 or body is None:
            raise _error(response, body)
        return body["result"]


def _query(values: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            out.append(
                (key, ("true" if item else "false") if isinstance(item, bool) else str(item))
            )
    return out


def _files(names: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    files = {}
    for key in names:
        path = values.get(key)
        if path is not None and Path(path).is_file():  # missing: the server says so, as locally
            try:
                files[key] = (PurePath(path).name, Path(path).read_bytes())
            except OSError as exc:
                raise InvalidInput(f"无法读取文件 {path}：{os_error_text(exc)}") from None
    return files


def _write(path: str, content: str) -> None:
    try:
        Path(path).write_bytes(base64.b64decode(content))
    except OSError as exc:
        raise InvalidInput(f"无法写入文件 {path}：{os_error_text(exc)}") from None


def _verify(url: str) -> Any:
    """TLS: the system's CAs, or ``DUBAN_SERVER_CA`` (a PEM file) for an office's own CA.

    A plain ``http://`` server (a LAN address) has no TLS to verify and redirects are not
    followed, so no context is built: loading the CA store costs ~30 ms a command."""
    if url.startswith("http://"):
        return False
    return os.environ.get("DUBAN_SERVER_CA") or True


def _json(response: Any) -> dict | None:
    import orjson  # 10,000 rows: ~15 ms, json's decoder ~75 ms

    try:
        body = orjson.loads(response.content)
    except ValueError:  # orjson.JSONDecodeError included
        return None
    return body if isinstance(body, dict) else None


def _error(response: Any, body: dict | None) -> DubanError:
    error = (body or {}).get("error")
    status = response.status_code
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        cls = by_code(str(error.get("code", "")))
        if cls is DubanError:  # a class this client does not know: the nearest by status
            cls = next(
                (c for c, s in HTTP_STATUS.items() if s == status and c is not DubanError),
                DubanError,
            )
        extra = {k: error[k] for k in ("reason", "field", "hint") if isinstance(error.get(k), str)}
        template = error.get("template")
        usable = isinstance(template, str) and "field" in extra and FIELD in template
        return cls(template if usable else error["message"], **extra)
    return DubanError(f"督办服务返回了无法识别的应答（HTTP {status}）")


def _httpx():
    """httpx, without its own command-line tool.

    httpx imports ``httpx._main`` (built on click, rich and pygments) whenever those are
    installed, and duban installs them for its own CLI: ~50 ms of every client command. A
    ``None`` in ``sys.modules`` makes that optional import fail at once, the case httpx handles
    when they are absent (it then defines a ``main`` that says how to install them).
    """
    import sys

    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx

    return httpx


def _reason(exc: Exception) -> str:
    """Why the server could not be reached, in Chinese (the system's words kept labelled)."""
    httpx = _httpx()

    from notifiers import network

    cause = network.os_cause(exc)
    if cause is not None:
        return network.explain(cause)
    if isinstance(exc, httpx.TimeoutException):
        return "连接或应答超时，服务器无应答"
    if isinstance(exc, httpx.RemoteProtocolError):
        return network.with_original("服务器的应答不完整或不符合 HTTP 协议", exc)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "服务地址应以 http:// 或 https:// 开头"
    return network.with_original("网络错误", exc)

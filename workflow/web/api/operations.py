"""The API routes of every operation in ``workflow/calls/table.py``, generated from the table.

A route reads its parameters (query for GET, a JSON object otherwise, multipart when the
operation takes a file), runs the operation through :func:`workflow.calls.runner.run` with the
bearer token's caller and the remote address, and answers ``{"result": …}`` plus, when the
operation writes files, ``{"files": {param: base64}}``; a list that pages (``limit``,
``cursor``) adds ``"next"``, the cursor of the following page (null on the last). Files live
in a private temporary directory for the request only; the client's own paths are used as
names, never as paths.
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
from contextlib import nullcontext
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from workflow.audit.record import record_refusal
from workflow.calls.inputs import check_params
from workflow.calls.runner import encode, encoded, function_of, plain, public_params, run
from workflow.calls.table import OPERATIONS, Operation
from workflow.errors import DubanError, InvalidInput, NotAuthenticated, TooManyRequests
from workflow.reading import Page
from workflow.web.deps import bearer_token, remote_address, server_state

router = APIRouter(tags=["operations"])
MISSING_FOLDERS = "_missing_folders"  # download names whose folder the client does not have


def _endpoint(op: Operation):
    async def endpoint(request: Request) -> Response:
        return await _handle(op, request)

    endpoint.__name__ = op.name.replace(".", "_")
    endpoint.__doc__ = f"duban operation `{op.name}`"
    return endpoint


def _description(op: Operation) -> str:
    where = "query string" if op.method == "GET" else "JSON object"
    if op.uploads:
        where = "multipart form: `params` (a JSON object) and the file part(s) " + ", ".join(
            f"`{u}`" for u in op.uploads
        )
    params = ", ".join(f"`{k}`: {v}" for k, v in public_params(function_of(op)).items())
    text = f"Runs `{op.target}`. Parameters ({where}): {params or 'none'}."
    if op.downloads:
        text += " Files written come back base64-encoded in `files`."
    return text


for _op in OPERATIONS.values():
    router.add_api_route(
        _op.path,
        _endpoint(_op),
        methods=[_op.method],
        name=_op.name,
        summary=_op.name,
        description=_description(_op),
    )


async def _handle(op: Operation, request: Request) -> Response:
    state = server_state(request)
    address = remote_address(request)
    token = bearer_token(request)
    # the token first (a counted attempt of this address), the body only then
    try:
        await state.throttle.guard(address, lambda: _check_token(state, token))
    except (NotAuthenticated, TooManyRequests) as exc:
        await run_in_threadpool(record_refusal, state.db, address, state.now(), exc)  # audit
        raise
    config = state.current_config()
    await request.body()  # within the route's limit: BodyLimit answers 413 beyond it
    # a private folder only for an operation that takes or writes files (~1–4 ms a request)
    scratch = (
        tempfile.TemporaryDirectory(prefix="duban-request-")
        if op.uploads or op.downloads
        else nullcontext("")
    )
    with scratch as tmp:
        fn = function_of(op)
        params, labels = await _params(op, fn, request, Path(tmp))
        paged: dict[str, Any] = {}  # a list's page: its ``next`` cursor goes beside the result
        to_json = plain if labels else encoded  # encoded once: no decode and re-encode

        def shape(data: Any) -> Any:
            if isinstance(data, Page):
                paged["next"] = data.next
            return to_json(data)

        try:
            result = await run_in_threadpool(
                run,
                op.name,
                params,
                config=config,
                database=lambda: state.db,
                token=token,
                address=address,
                now=state.now(),
                require_caller=True,
                shape=shape,
            )
        except DubanError as exc:
            exc.message = _relabel(exc.message, labels)
            raise
        content: dict[str, Any] = {"result": _relabel(result, labels), **paged}
        files = {
            key: base64.b64encode(Path(params[key]).read_bytes()).decode("ascii")
            for key in op.downloads
            if params.get(key) and Path(params[key]).is_file()
        }
        if files:
            content["files"] = files
    return Response(
        encode(content), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def _check_token(state: Any, token: str | None) -> None:
    """NotAuthenticated unless ``token`` is a valid one (the operation checks it again)."""
    from workflow.calls.runner import database_errors
    from workflow.directory.callers import authenticate_connection

    with database_errors(), state.db.session() as session:
        authenticate_connection(session.connection(), token)


async def _params(
    op: Operation, fn: Any, request: Request, tmp: Path
) -> tuple[dict[str, Any], dict[str, str]]:
    annotations = public_params(fn)
    form: Any = {}
    if op.method == "GET":
        params = _from_query(request, annotations)
    elif op.uploads:
        params, form = await _from_multipart(request)
    else:
        params = _from_json(request)
    params.update(request.path_params)
    missing = _checked(MISSING_FOLDERS, params.pop(MISSING_FOLDERS, None), "list | None") or []
    check_params(params, op.name)  # before a file is named after a value (the runner does too)
    for key, value in params.items():
        params[key] = _checked(key, value, annotations.get(key, ""))
    labels: dict[str, str] = {}
    slots: dict[str, Path] = {}
    for key in (*op.uploads, *op.downloads):
        if key in op.uploads and key not in params:
            raise InvalidInput(f"缺少参数 {key}")
        if params.get(key) is None:
            continue
        label = str(params[key])
        if key in op.uploads:
            target = tmp / "in" / key / _safe_name(label)
            target.parent.mkdir(parents=True)
            upload = form.get(key)
            if isinstance(upload, UploadFile):
                target.write_bytes(await upload.read())
        else:  # the same name twice is the same file; a folder the client lacks is lacking here
            target = slots.setdefault(label, tmp / "out" / str(len(slots)) / _safe_name(label))
            if key not in missing:
                target.parent.mkdir(parents=True, exist_ok=True)
            labels[str(target.parent)] = str(PurePosixPath(label).parent)
        params[key] = str(target)
        labels = {str(target): label, **labels}  # the whole path is replaced before its folder
    return params, labels


def _from_query(request: Request, annotations: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        kind = "list" if key == MISSING_FOLDERS else annotations.get(key, "")
        if "list" in kind:
            out[key] = values
        elif re.search(r"\bbool\b", kind):
            out[key] = values[-1].lower() in ("1", "true", "yes")
        elif re.search(r"\bint\b", kind):
            if not re.fullmatch(r"-?\d{1,12}", values[-1]):
                raise InvalidInput(f"参数 {key} 应为整数：“{values[-1]}”")
            out[key] = int(values[-1])
        else:
            out[key] = values[-1]
    return out


def _from_json(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = request._body
    if not body:
        return {}
    if kind != "application/json":
        raise HTTPException(415)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("请求内容不是有效的 JSON") from None
    except RecursionError:  # thousands of nested brackets: no parameter is ever that deep
        raise InvalidInput("请求内容嵌套过深") from None
    if not isinstance(data, dict):
        raise InvalidInput("请求内容应为一个 JSON 对象")
    return data


async def _from_multipart(request: Request) -> tuple[dict[str, Any], Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise HTTPException(415)  # (a form without its file is urlencoded: the file is missing)
    try:
        form = await request.form(max_files=4, max_fields=8)
    except HTTPException:
        raise
    except Exception:  # noqa: BLE001 - a malformed multipart body is the client's error
        raise InvalidInput("上传内容格式不正确（应为 multipart/form-data）") from None
    raw = form.get("params") or "{}"
    try:
        params = json.loads(raw if isinstance(raw, str) else "")
    except ValueError:
        raise InvalidInput("参数 params 不是有效的 JSON") from None
    except RecursionError:
        raise InvalidInput("参数 params 嵌套过深") from None
    if not isinstance(params, dict):
        raise InvalidInput("参数 params 应为一个 JSON 对象")
    return params, form


def _checked(key: str, value: Any, kind: str) -> Any:
    """A JSON value of the type the function declares (a wrong type is the client's error)."""
    if value is None:
        if "None" in kind or not kind:
            return None
        raise InvalidInput(f"缺少参数 {key}")
    if "list" in kind:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    elif re.search(r"\bbool\b", kind):
        ok = isinstance(value, bool)
    elif re.search(r"\bint\b", kind) and "str" not in kind:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif re.search(r"\bstr\b", kind):
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        raise InvalidInput(f"参数 {key} 的类型不正确")
    return value


def _safe_name(label: str) -> str:
    """A file name from a client's path: its last part only, no leading dots, no separators."""
    name = PurePosixPath(label.replace("\\", "/")).name.lstrip(".").strip()
    name = re.sub(r"[\x00-\x1f]", "", name)[-120:]
    return name or "file"


def _relabel(value: Any, labels: dict[str, str]) -> Any:
    """The client's own file names in place of the request's temporary paths."""
    if not labels:
        return value
    if isinstance(value, str):
        for tmp, label in labels.items():
            value = value.replace(tmp, label)
        return value
    if isinstance(value, list):
        return [_relabel(v, labels) for v in value]
    if isinstance(value, dict):
        return {k: _relabel(v, labels) for k, v in value.items()}
    return value

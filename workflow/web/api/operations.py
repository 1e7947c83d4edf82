"""The API routes of every operation in ``workflow/calls/table.py``, generated from the table.

Each route's signature comes from the operation's models (:mod:`workflow.calls.models`): path
parameters, query parameters (GET) or one JSON body (the strict body model), or a multipart
form (``params``, a JSON object of the body model, and one part per file); the caller is the
:data:`~workflow.web.deps.CallerDep` dependency. FastAPI validates them and documents them in
``/api/v1/openapi.json`` with the result model as the 200 answer and :class:`ErrorBody` for
refusals. The token is checked before the body is read (:class:`OperationRoute`).

A route runs the operation through :func:`workflow.calls.runner.run` with the caller's token
and the remote address, and answers ``{"result": …}`` plus, when the operation writes files,
``{"files": {param: base64}}``. Files live in a private temporary directory for the request
only; the client's own paths are used as names, never as paths.

A list that pages (``limit``, ``cursor``) adds ``"next"`` beside the result: the cursor of the
following page (null on the last).
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import tempfile
from contextlib import nullcontext
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from workflow.calls import models
from workflow.calls.inputs import check_params
from workflow.calls.models import MISSING_FOLDERS, ErrorBody
from workflow.calls.runner import encode, encoded, plain, run
from workflow.calls.table import OPERATIONS, Operation
from workflow.directory.roles import Caller
from workflow.errors import DubanError, InvalidInput
from workflow.storage.reading import Page
from workflow.web.deps import CallerDep, api_caller, bearer_token, remote_address, server_state

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Invalid input (Chinese message names the parameter)"),
        (401, "No token, an unknown or a revoked one"),
        (403, "Not allowed for this caller's role or unit"),
        (404, "No such object"),
        (409, "Conflict: changed by someone else, or a duplicate"),
        (413, "Request body too large"),
        (415, "Unsupported content type"),
        (429, "Too many wrong tokens from this address"),
        (503, "Database unavailable"),
    )
}


class OperationRoute(APIRoute):
    """A route that authenticates before FastAPI reads the body: a wrong token is a counted
    attempt of its address whatever it sends, and a stranger's body is never parsed. Then the
    body is read within its limit and refused in Chinese when it is not what the route takes."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        op = OPERATIONS[self.name]

        async def guarded(request: Request) -> Response:
            await api_caller(request)
            await _read_body(op, request)
            return await handler(request)

        return guarded


router = APIRouter(tags=["operations"], route_class=OperationRoute)


async def _read_body(op: Operation, request: Request) -> None:
    """The body, checked as this route takes it, before FastAPI validates it (Chinese errors)."""
    if op.method == "GET":
        return
    body = await request.body()  # within the route's limit: BodyLimit answers 413 beyond it
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if op.uploads:
        if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            raise HTTPException(415)  # (a form without its file is urlencoded: the file is missing)
        try:
            await request.form(max_files=4, max_fields=8)  # kept: FastAPI reads the same form
        except HTTPException:
            raise
        except Exception:  # noqa: BLE001 - a malformed multipart body is the client's error
            raise InvalidInput("上传内容格式不正确（应为 multipart/form-data）") from None
        return
    if not body:
        return
    if kind != "application/json":
        raise HTTPException(415)
    _json_object(body, "请求内容")


def _json_object(text: bytes | str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{what}不是有效的 JSON") from None
    except RecursionError:  # thousands of nested brackets: no parameter is ever that deep
        raise InvalidInput(f"{what}嵌套过深") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{what}应为一个 JSON 对象")
    return data


def _query_type(kind: Any) -> Any:
    """A type FastAPI reads from a query string (anything richer is not a GET parameter)."""
    simple = (str, int, bool, float, list[str], str | None, int | None, bool | None)
    return kind if kind in simple or kind == list[str] | None else str | None


def _signature(op: Operation) -> tuple[inspect.Signature, list[str]]:
    """The endpoint's signature: the caller, then the path's, the query's or the body's
    parameters from the operation's models; and the names of the query parameters."""
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", kw, annotation=Request),
        inspect.Parameter("caller", kw, annotation=CallerDep),
    ]
    fields = models.input_model(op.name).model_fields
    for name in op.path_params:
        field = fields[name]
        params.append(
            inspect.Parameter(
                name,
                kw,
                annotation=Annotated[field.annotation, PathParam(description="In the URL path.")],
            )
        )
    query: list[str] = []
    body = models.body_fields(op.name)
    if op.method == "GET":
        for name, field in body.items():
            kind = _query_type(field.annotation)
            default = None if field.is_required() else field.default
            params.append(
                inspect.Parameter(
                    name,
                    kw,
                    annotation=Annotated[kind, Query(description=field.description)],
                    default=inspect.Parameter.empty if field.is_required() else default,
                )
            )
            query.append(name)
        if op.downloads:
            params.append(
                inspect.Parameter(
                    "missing_folders",
                    kw,
                    annotation=Annotated[
                        list[str] | None, Query(alias=MISSING_FOLDERS, include_in_schema=False)
                    ],
                    default=None,
                )
            )
    elif op.uploads:
        schema = json.dumps(models.body_model(op.name).model_json_schema(), ensure_ascii=False)
        params.append(
            inspect.Parameter(
                "params",
                kw,
                annotation=Annotated[
                    str,
                    Form(description="The parameters as one JSON object of this schema: " + schema),
                ],
                default="{}",
            )
        )
        for name in op.uploads:
            params.append(
                inspect.Parameter(
                    name,
                    kw,
                    annotation=Annotated[
                        UploadFile | None, File(description=f"The file `{name}`.")
                    ],
                    default=None,
                )
            )
    else:  # (even with no field: a name it does not take is refused)
        params.append(
            inspect.Parameter(
                "body",
                kw,
                annotation=Annotated[models.body_model(op.name) | None, Body()],
                default=None,
            )
        )
    return inspect.Signature(params, return_annotation=Response), query


def _endpoint(op: Operation):
    signature, query = _signature(op)

    async def endpoint(request: Request, caller: Caller, **values: Any) -> Response:
        params: dict[str, Any] = {k: values[k] for k in op.path_params}
        form: dict[str, Any] = {}
        missing: list[str] = []
        if op.method == "GET":
            unknown = sorted(set(request.query_params) - {*query, MISSING_FOLDERS})
            if unknown:
                check_params({k: None for k in unknown}, op.name)  # a hostile name: refused
                raise InvalidInput(f"未知参数：{'、'.join(unknown)}")
            params.update({k: values[k] for k in query if k in request.query_params})
            missing = values.get("missing_folders") or []
        elif op.uploads:
            given = _json_object(values["params"], "参数 params ")
            missing = _folders(given.pop(MISSING_FOLDERS, None))
            check_params(given, op.name)  # the limits first: a message never echoes a bad value
            params.update(models.validate_body(op.name, given))
            form = {k: values[k] for k in op.uploads}
        elif values.get("body") is not None:
            params.update(values["body"].model_dump(exclude_unset=True))
        return await _run(op, request, caller, params, form, missing)

    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    endpoint.__name__ = op.name.replace(".", "_").replace("-", "_")
    endpoint.__doc__ = f"duban operation `{op.name}`"
    return endpoint


def _folders(value: Any) -> list[str]:
    if value is None:
        return []
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise InvalidInput(f"参数 {MISSING_FOLDERS} 的类型不正确")
    return value


def _description(op: Operation) -> str:
    text = f"Runs `{op.target}`."
    if op.uploads:
        text += " A multipart form: `params` (a JSON object) and the file part(s) " + ", ".join(
            f"`{u}`" for u in op.uploads
        )
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
        operation_id=_op.name,
        response_model=models.result_model(_op.name),
        responses=ERRORS,
    )


async def _run(
    op: Operation,
    request: Request,
    caller: Caller,
    params: dict[str, Any],
    form: dict[str, Any],
    missing: list[str],
) -> Response:
    state = server_state(request)
    config = state.current_config()
    # a private folder only for an operation that takes or writes files (~1–4 ms a request)
    scratch = (
        tempfile.TemporaryDirectory(prefix="duban-request-")
        if op.uploads or op.downloads
        else nullcontext("")
    )
    with scratch as tmp:
        params, labels = await _files_of(op, params, form, missing, Path(tmp))
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
                token=bearer_token(request),
                address=remote_address(request),
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


async def _files_of(
    op: Operation, params: dict[str, Any], form: dict[str, Any], missing: list[str], tmp: Path
) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters with the client's file names replaced by this request's own files."""
    check_params(params, op.name)  # before a file is named after a value (the runner does too)
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
            if upload is not None:
                target.write_bytes(await upload.read())
        else:  # the same name twice is the same file; a folder the client lacks is lacking here
            target = slots.setdefault(label, tmp / "out" / str(len(slots)) / _safe_name(label))
            if key not in missing:
                target.parent.mkdir(parents=True, exist_ok=True)
            labels[str(target.parent)] = str(PurePosixPath(label).parent)
        params[key] = str(target)
        labels = {str(target): label, **labels}  # the whole path is replaced before its folder
    return params, labels


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

"""The typed contract of every operation: a pydantic input model and a result model each.

Both are built once from the operation's ``workflow`` function (:mod:`workflow.calls.table`
names it): the input model has one field per parameter a request may give (its type and
default are the function's own; the injected ``session``, ``caller``, ``config``, ``db`` and
``now`` and the local door's callbacks are not fields), and refuses any other name. The result
model is the answer's envelope ``{"result": <the function's return type>, "files": …}``.

The runner validates every call with the input model (:func:`validate`), on the CLI and on the
server alike; the API routes take their signatures from the same models, so FastAPI validates,
documents (``/api/v1/openapi.json``) and refuses a bad request before the function runs. A
failure of either becomes one Chinese :class:`~workflow.errors.InvalidInput` line
(:func:`invalid_input`), never pydantic's English.

Add a parameter to a list operation (a cursor, a limit): give the function the keyword, and
its model, its route, its documentation and the client's check follow.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from workflow.calls.table import OPERATIONS, Operation
from workflow.errors import InvalidInput, NotFound

INJECTED = ("session", "caller", "config", "db", "now")
LOCAL_ONLY = ("progress",)  # callbacks a local command may pass; never from a request
MISSING_FOLDERS = "_missing_folders"  # download names whose folder the client does not have


class OperationInput(BaseModel):
    """Base of every input model: unknown names are refused, nothing is coerced silently."""

    model_config = ConfigDict(extra="forbid")


class StrictInput(OperationInput):
    """A body read from JSON: a value of the wrong type is refused, never converted."""

    model_config = ConfigDict(extra="forbid", strict=True)


class OperationResult(BaseModel):
    """Base of every result model (the body of a 200 answer)."""

    files: dict[str, str] | None = Field(
        None, description="Files the operation wrote, by parameter name, base64-encoded."
    )


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable machine-readable reason, e.g. `invalid_input`.")
    message: str = Field(description="One Chinese line saying what went wrong and where.")


class ErrorBody(BaseModel):
    """Every refusal of the API (4xx, 5xx) has this body."""

    error: ErrorDetail


def operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise NotFound(f"没有这个操作：{name}") from None


def function_of(op: Operation) -> Callable[..., Any]:
    module, _, attr = op.target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _resolve(annotation: Any, fn: Callable[..., Any]) -> Any:
    """A parameter's annotation as a type (the modules use postponed annotations)."""
    if annotation is inspect.Parameter.empty:
        return Any
    if isinstance(annotation, str):
        namespace = {**vars(typing), **getattr(fn, "__globals__", {})}
        try:
            annotation = eval(annotation, namespace)  # noqa: S307 - our own source's annotation
        except Exception:  # noqa: BLE001 - a name only imported for type checkers
            return Any
    if annotation is dict:
        return dict[str, Any]
    if annotation is list:
        return list[Any]
    return annotation


def parameters(fn: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The parameters of ``fn`` a request may give (by name, in order)."""
    return {
        name: p
        for name, p in inspect.signature(fn).parameters.items()
        if name not in INJECTED and name not in LOCAL_ONLY
    }


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", ".").split("."))


@cache
def input_model(name: str) -> type[OperationInput]:
    """The input model of operation ``name``: one field per request parameter."""
    op = operation(name)
    fn = function_of(op)
    fields: dict[str, Any] = {}
    for pname, p in parameters(fn).items():
        kind = _resolve(p.annotation, fn)
        default = ... if p.default is inspect.Parameter.empty else p.default
        if default is None:
            kind = kind | None  # "not given" is None whatever the annotation says
        where = "path" if pname in op.path_params else "file" if pname in op.uploads else ""
        description = {
            "path": "In the URL path.",
            "file": "The uploaded file's name (its content is the multipart part of this name).",
        }.get(where, "")
        if pname in op.downloads:
            description = "The name of a file the server writes; it comes back in `files`."
        fields[pname] = (kind, Field(default, description=description or None))
    model = create_model(  # type: ignore[call-overload]
        f"{_camel(name)}Input", __base__=OperationInput, __module__=__name__, **fields
    )
    model.__doc__ = f"Parameters of operation `{name}` (`{op.target}`)."
    return model


@cache
def result_model(name: str) -> type[OperationResult]:
    """The answer of operation ``name``: ``result`` has the function's return type."""
    op = operation(name)
    fn = function_of(op)
    kind = _resolve(inspect.signature(fn).return_annotation, fn)
    if kind is None or kind is type(None):
        kind = None
    model = create_model(  # type: ignore[call-overload]
        f"{_camel(name)}Result",
        __base__=OperationResult,
        __module__=__name__,
        result=(kind, Field(..., description=f"What `{op.target}` returns.")),
    )
    model.__doc__ = f"The answer of operation `{name}`."
    return model


def body_fields(name: str) -> dict[str, Any]:
    """The input model's fields that are not in the URL path (a request body or query)."""
    op = operation(name)
    return {k: f for k, f in input_model(name).model_fields.items() if k not in op.path_params}


@cache
def body_model(name: str) -> type[StrictInput]:
    """The JSON body of operation ``name``: the input model without the path's parameters,
    strict (a JSON value of the wrong type is refused, never converted)."""
    base = input_model(name)
    fields = {k: (f.annotation, f) for k, f in body_fields(name).items()}
    model = create_model(  # type: ignore[call-overload]
        f"{_camel(name)}Body",
        __base__=StrictInput,
        __module__=__name__,
        **fields,
    )
    model.__doc__ = base.__doc__
    return model


def _plain(value: Any) -> Any:
    """A local door's path as its text (the function takes names of files as text)."""
    return str(value) if isinstance(value, PurePath) else value


def validate(name: str, params: Mapping[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """``params`` checked against operation ``name``'s input model: the values given (as the
    model reads them), or :class:`InvalidInput` naming the parameter in Chinese."""
    model = input_model(name)
    try:
        checked = model.model_validate({k: _plain(v) for k, v in params.items()}, strict=strict)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
    return {k: getattr(checked, k) for k in checked.model_fields_set}


def validate_body(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON object against operation ``name``'s body model (strict); else InvalidInput."""
    try:
        checked = body_model(name).model_validate(params)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None
    return {k: getattr(checked, k) for k in checked.model_fields_set}


_SKIP = ("body", "query", "path", "form")


def _where(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if p not in _SKIP]
    return parts[0] if parts else ""


def _named(key: str) -> str:
    """A parameter's name as a message may repeat it (a hostile name is not echoed)."""
    from workflow.calls.inputs import check_text

    try:
        return check_text("name", key, label="参数名")
    except InvalidInput:
        return "（名称含不允许的字符）"


def invalid_input(errors: Iterable[Mapping[str, Any]]) -> InvalidInput:
    """Pydantic's (or FastAPI's) validation errors as one Chinese line."""
    unknown: list[str] = []
    parts: list[str] = []
    for err in errors:
        kind = str(err.get("type", ""))
        key = _named(_where(err.get("loc", ())))
        if kind == "extra_forbidden":
            unknown.append(key)
        elif kind == "missing":
            parts.append(f"缺少参数 {key}")
        elif kind == "json_invalid":
            parts.append("请求内容不是有效的 JSON")
        elif kind in ("int_parsing", "int_from_float", "int_parsing_size"):
            value = err.get("input")
            shown = value if isinstance(value, str) and len(value) <= 30 else "…"
            parts.append(f"参数 {key} 应为整数：“{_named(shown) if shown != '…' else shown}”")
        elif kind == "bool_parsing":
            parts.append(f"参数 {key} 应为 true 或 false")
        elif key:
            parts.append(f"参数 {key} 的类型不正确")
        else:
            parts.append("请求内容应为一个 JSON 对象")
    if unknown:
        parts.insert(0, f"未知参数：{'、'.join(sorted(set(unknown)))}")
    seen: list[str] = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    return InvalidInput("；".join(seen[:3]) or "请求参数不正确")

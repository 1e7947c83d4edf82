"""导入台账 (/office/import): upload a ledger, see the dry run, confirm.

The uploaded file is kept as ``<data dir>/uploads/<SHA-256 of its content>/<its name>`` (mode
0600) between the dry run and the confirmation, so any server process on that machine can finish
the import; the confirmation names the upload by that hash only (the import records the file's
own name), and the file is removed once imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUpload

from workflow.directory.roles import require_role
from workflow.errors import InvalidInput, NotFound
from workflow.ledger.choice import CHOICES, ROLE_CHOICE, ROLE_LABELS, by_letter, parse_columns
from workflow.ledger.importing import import_ledger
from workflow.tasks.assignments import ROLE_LABELS as UNIT_ROLE_LABELS
from workflow.web.pages.audit import page_import_audit
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    calendar,
    checked_form,
    config,
    now,
    posted,
    render,
    unit_of_work,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

UPLOAD_PATHS = ["/office/import"]  # its body may reach [server] max_upload_mb
SUFFIXES = (".xlsx", ".docx", ".csv")
_STAGED = re.compile(r"^[0-9a-f]{64}$")
STATUS = {"created": "新增", "updated": "修改", "unchanged": "不变"}
ACTION = {"create": "新建", "update": "更新", "unchanged": "无变化"}
COUNTS = {
    "tasks_created": "新增任务",
    "tasks_updated": "修改任务",
    "tasks_removed": "移除任务",
    "assignments_created": "新增分派",
    "assignments_updated": "修改分派",
    "assignments_cancelled": "撤销分派",
    "assignments_reopened": "恢复分派",
}


def _uploads(request: Request) -> Path:
    folder = Path(config(request).data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip()
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*')
    return name[-120:] or "台账"


def _staged(request: Request, digest: str) -> Path:
    if not _STAGED.match(digest or ""):
        raise InvalidInput("要导入的文件标识无效，请重新上传台账")
    folder = _uploads(request) / digest
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise NotFound("上传的台账已不在服务器上（可能已导入），请重新上传")
    return files[0]


def _run(
    request: Request,
    who: Visitor,
    path: Path,
    create_units: bool,
    dry_run: bool,
    columns: str = "",
):
    choice = parse_columns(columns)
    with (
        page_import_audit(request, who.caller, path.name, dry_run),
        unit_of_work(request) as session,
    ):
        return import_ledger(
            session,
            who.caller,
            path,
            calendar=calendar(request),
            now=now(),
            create_units=create_units,
            dry_run=dry_run,
            columns=choice,
        )


def _shown(result) -> dict:
    """The column rows and role names every rendering of a result needs."""
    return {"column_rows": by_letter(result.columns), "unit_roles": UNIT_ROLE_LABELS}


def _preview(path: Path, digest: str, create_units: bool, columns: str) -> dict:
    """What the page needs besides the result to show a preview and its forms."""
    return dict(
        staged={
            "digest": digest,
            "name": path.name,
            "create_units": create_units,
            "columns": columns,
        },
        status_labels=STATUS,
        action_labels=ACTION,
        count_labels=COUNTS,
        role_labels=ROLE_LABELS,
        column_choices=_CHOICE_LABELS,
        done=None,
    )


# the selects of the preview's column mapping: role name → label ("" leaves a column unused)
_CHOICE_LABELS = {name: ROLE_LABELS[role] for name, role in CHOICES.items()}


def chosen_columns(form: dict[str, str], before: str) -> str:
    """The office's --columns string after the preview's selects: the earlier choice, with every
    select the office changed ("col:E" differs from "was:E") set by its column letter."""
    choice = parse_columns(before)
    for field_name, value in form.items():
        if not field_name.startswith("col:"):
            continue
        letter = field_name[4:]
        if not re.fullmatch(r"[A-Z]{1,2}", letter) or value == form.get(f"was:{letter}", value):
            continue
        if value not in CHOICES:
            raise InvalidInput(f"列 {letter} 的用途“{value}”无效")
        choice[letter] = CHOICES[value]
    return ",".join(f"{name}={ROLE_CHOICE[role]}" for name, role in choice.items())


@router.get("/office/import")
def import_form(request: Request, who: Visitor = Depends(visitor)) -> Response:
    require_role(who.caller, "office", "导入台账")
    return render(request, "office/import.html", who, result=None, staged=None, done=None)


@router.post("/office/import")
async def upload(request: Request, who: Visitor = Depends(visitor)) -> Response:
    """The file's body is read only once the visitor is known to be the office."""
    request.state.back = "/office/import"
    require_role(who.caller, "office", "导入台账")
    form = await checked_form(request, who, max_files=1, max_fields=4)
    ledger, create_units = form.get("ledger"), form.get("create_units") or ""
    if not isinstance(ledger, StarletteUpload) or not ledger.filename:
        raise InvalidInput("请选择要导入的台账文件（.xlsx / .docx / .csv）")
    suffix = Path(ledger.filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"文件“{ledger.filename}”的类型不支持：只能导入 .xlsx、.docx 或 .csv")
    content = await ledger.read()  # within [server] max_upload_mb: BodyLimit saw to it
    await form.close()
    digest = hashlib.sha256(content).hexdigest()
    folder = _uploads(request) / digest
    if folder.is_dir():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700)
    path = folder / _safe_name(ledger.filename)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(_run, request, who, path, bool(create_units), True)
    return render(
        request,
        "office/import.html",
        who,
        result=result,
        **_shown(result),
        **_preview(path, digest, bool(create_units), ""),
    )


@router.post("/office/import/preview")
async def preview_again(request: Request, who: Visitor = Depends(posted)) -> Response:
    """The same upload previewed again with the columns the office chose in the selects."""
    request.state.back = "/office/import"
    require_role(who.caller, "office", "导入台账")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    digest = form.get("digest", "")
    path = _staged(request, digest)
    create_units = bool(form.get("create_units"))
    columns = chosen_columns(form, form.get("columns", ""))
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(_run, request, who, path, create_units, True, columns)
    return render(
        request,
        "office/import.html",
        who,
        result=result,
        **_shown(result),
        **_preview(path, digest, create_units, columns),
    )


@router.post("/office/import/confirm")
def confirm(
    request: Request,
    digest: str = Form(""),
    create_units: str = Form(""),
    columns: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/import"
    require_role(who.caller, "office", "导入台账")
    path = _staged(request, digest)
    result = _run(request, who, path, bool(create_units), False, columns)
    shutil.rmtree(path.parent, ignore_errors=True)
    return render(
        request,
        "office/import.html",
        who,
        result=result,
        **_shown(result),
        staged=None,
        status_labels=STATUS,
        action_labels=ACTION,
        count_labels=COUNTS,
        done=f"已导入“{path.name}”",
    )

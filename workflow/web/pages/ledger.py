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

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from workflow.directory.roles import require_role
from workflow.errors import InvalidInput, NotFound, TooLarge
from workflow.ledger.importing import import_ledger
from workflow.web.pages.audit import page_import_audit
from workflow.web.pages.frame import (
    PageRoute,
    Visitor,
    calendar,
    config,
    now,
    posted,
    render,
    unit_of_work,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SUFFIXES = (".xlsx", ".docx", ".csv")
MAX_BYTES = 20 * 1024 * 1024
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


def _run(request: Request, who: Visitor, path: Path, create_units: bool, dry_run: bool):
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
        )


@router.get("/office/import")
def import_form(request: Request, who: Visitor = Depends(visitor)) -> Response:
    require_role(who.caller, "office", "导入台账")
    return render(request, "office/import.html", who, result=None, staged=None, done=None)


@router.post("/office/import")
async def upload(
    request: Request,
    ledger: UploadFile | None = File(None),
    create_units: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/import"
    require_role(who.caller, "office", "导入台账")
    if ledger is None or not ledger.filename:
        raise InvalidInput("请选择要导入的台账文件（.xlsx / .docx / .csv）")
    suffix = Path(ledger.filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"文件“{ledger.filename}”的类型不支持：只能导入 .xlsx、.docx 或 .csv")
    content = await ledger.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise TooLarge(f"文件“{ledger.filename}”超过 {MAX_BYTES // 1024 // 1024} MB")
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
        staged={"digest": digest, "name": path.name, "create_units": bool(create_units)},
        status_labels=STATUS,
        action_labels=ACTION,
        count_labels=COUNTS,
        done=None,
    )


@router.post("/office/import/confirm")
def confirm(
    request: Request,
    digest: str = Form(""),
    create_units: str = Form(""),
    who: Visitor = Depends(posted),
) -> Response:
    request.state.back = "/office/import"
    require_role(who.caller, "office", "导入台账")
    path = _staged(request, digest)
    result = _run(request, who, path, bool(create_units), False)
    shutil.rmtree(path.parent, ignore_errors=True)
    return render(
        request,
        "office/import.html",
        who,
        result=result,
        staged=None,
        status_labels=STATUS,
        action_labels=ACTION,
        count_labels=COUNTS,
        done=f"已导入“{path.name}”",
    )

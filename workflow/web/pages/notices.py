"""督办单与催办通知书: the list (the office sees all, a unit its own) and each .docx to download.

Permission is the workflow function's (:func:`workflow.chasing.notices.get_notice`), the same
as on the CLI and the API.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from workflow.chasing.notice_docx import render_notice
from workflow.chasing.notices import get_notice, list_notices, notice_view
from workflow.web.pages.frame import PageRoute, Visitor, render, unit_of_work, visitor

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/notices")
def notices(request: Request, year: int | None = None, who: Visitor = Depends(visitor)) -> Response:
    with unit_of_work(request) as session:
        rows = list_notices(session, who.caller, year=year)
    years = sorted({r["year"] for r in rows}, reverse=True)
    return render(request, "notices.html", who, rows=list(reversed(rows)), years=years, year=year)


@router.get("/notices/{notice_id}/docx")
def notice_docx(request: Request, notice_id: int, who: Visitor = Depends(visitor)) -> Response:
    with unit_of_work(request) as session:
        view = notice_view(get_notice(session, who.caller, notice_id))
    with tempfile.TemporaryDirectory(prefix="duban-notice-") as tmp:
        path = Path(tmp) / "notice.docx"
        render_notice(view, path)
        body = path.read_bytes()
    name = f"{view['number']}{view['kind_label']}（{view['unit']}）.docx"
    return Response(
        body,
        media_type=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="notice-{view["id"]}.docx"; '
            f"filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )

"""``GET /api/v1/health``: the server is up and its database answers (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from workflow.web.deps import db_session

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session=Depends(db_session)) -> dict:
    import sqlalchemy as sa

    session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}

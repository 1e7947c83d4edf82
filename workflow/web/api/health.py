"""Health for the office's monitoring (no token needed, nothing secret).

* ``GET /api/v1/health``: the server is up and its database answers (kept for old monitors).
* ``GET /healthz``: the process answers (never touches the database).
* ``GET /readyz``: the database is reachable, the schema current, the daemon's heartbeat young
  enough; the outbox backlog and its oldest failure for information. 200 ready, 503 not.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from workflow.web.deps import db_session, server_state

router = APIRouter(tags=["health"])
root = APIRouter(tags=["health"])


@router.get("/health")
def health(session=Depends(db_session)) -> dict:
    import sqlalchemy as sa

    session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


@root.get("/healthz")
def healthz() -> JSONResponse:
    from workflow.operations.health import liveness

    return JSONResponse(liveness(), headers={"Cache-Control": "no-store"})


@root.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    from workflow.operations.health import readiness

    state = server_state(request)
    report = readiness(state.db, state.current_config(), state.now())
    return JSONResponse(
        report, status_code=200 if report["ready"] else 503, headers={"Cache-Control": "no-store"}
    )

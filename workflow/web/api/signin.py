"""``POST /api/v1/sign-in``: a person's name and password for a personal token (issue 29).

What ``duban login --server URL --account NAME`` calls: the password travels in the body only
(never in a URL or a log line); a wrong one counts in the address's throttle and in the
account's lockout (5 wrong → locked 15 minutes, across every server process).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from workflow.accounts.signin import check_password, issue_personal_token
from workflow.audit.record import record, record_refusal
from workflow.errors import InvalidInput, NotAuthenticated, TooManyRequests
from workflow.web.deps import remote_address, server_state

router = APIRouter()


@router.post("/sign-in", summary="sign-in", include_in_schema=False)
async def sign_in(request: Request) -> dict[str, Any]:
    state = server_state(request)
    address = remote_address(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidInput('请求体应为 JSON：{"account": 账号, "password": 密码}')
    name, password = body.get("account"), body.get("password")
    if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
        raise InvalidInput("请提供账号（account）和密码（password）")
    now = state.now()

    def check() -> Any:
        return check_password(state.db, name, password, now)

    try:
        caller = await state.throttle.guard(address, check, via="sign-in api")
    except (NotAuthenticated, TooManyRequests) as exc:
        await run_in_threadpool(record_refusal, state.db, address, now, exc)
        raise

    def issue() -> str:
        with state.db.session() as session:
            return issue_personal_token(session, caller.account_id, now, label=f"{name} 命令行")

    token = await run_in_threadpool(issue)
    await run_in_threadpool(
        lambda: record(state.db, caller, "signin", now, door="api", address=address)
    )
    return {"result": {"token": token, "name": caller.name, "role": caller.role}}

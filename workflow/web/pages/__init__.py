"""The web pages of ``duban serve``: server-rendered jinja2, Chinese, no external resources.

URLs are a contract (mails link to them): ``/login``, ``/tasks``, ``/assignments/{id}``,
``/board``, ``/notices`` (督办单, each ``/notices/{id}/docx``); the office's pages under ``/office/…``; ``/`` sends each role to its home page.
Sign-in, sessions and CSRF: :mod:`workflow.web.pages.frame` and
:mod:`workflow.directory.web_sessions`.
"""

from __future__ import annotations

from fastapi import APIRouter

from workflow.web.pages import (
    accounts,
    appeals,
    audit,
    auth,
    board,
    bonus,
    directory,
    ledger,
    notices,
    office,
    running,
    tasks,
)

router = APIRouter(include_in_schema=False)
_PAGES = (
    auth,
    tasks,
    board,
    office,
    ledger,
    appeals,
    bonus,
    audit,
    notices,
    directory,
    running,
    accounts,
)
for _module in _PAGES:
    router.include_router(_module.router)

"""What the renderer needs to check an office's template overrides when it loads them: a sample
context for every kind, and where (file, line) a template failed."""

from __future__ import annotations

from datetime import date
from typing import Any

import jinja2


def template_location(exc: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where ``exc`` happened (jinja2 rewrites tracebacks so that
    template frames carry the template's own file name and line)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename, exc.lineno
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".txt", ".html")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def sample_contexts() -> dict[str, dict[str, Any]]:
    """A context for every kind, as the outbox renders it: used to check overrides at load."""
    day = date(2026, 3, 2)
    item = {
        "assignment_id": 1,
        "task_title": "示例任务",
        "section": "一、示例",
        "due": date(2026, 3, 5),
        "working_days": 3,
        "state_label": "办理中",
        "last_report": "示例进展",
        "last_report_at": date(2026, 2, 27),
        "requirement": "示例要求",
    }
    late = {**item, "assignment_id": 2, "due": date(2026, 2, 24), "working_days": -4}
    base = {
        "office": "办公室",
        "as_of": day,
        "contact": {"name": "办公室", "person": "张三", "phone": "0750-1", "email": "a@b.cn"},
        "server_url": "https://duban.example.gov.cn",
    }
    personal = {**base, "unit": "示例单位", "recipient": "示例单位", "items": [item, late]}
    return {
        "reminder": personal,
        "due_today": personal,
        "overdue": {**personal, "items": [late]},
        "escalation": {**personal, "items": [late], "level": 1, "leader": "王副主任"},
        "progress_request": {**personal, "report_due": date(2026, 3, 9)},
        "digest": {
            **base,
            "leader": "王副主任",
            "period_label": "2026年第10周",
            "units": [{"unit": "示例单位", "items": [item, late]}],
        },
        "test": {**base, "host": "smtp.example.gov.cn"},
        "unsigned": {**personal, "items": [item], "leader": "王副主任", "ack_within_days": 2},
        "signin_link": {**base, "recipient": "张三", "code": "sample-code", "minutes": 15},
        "decision": {
            **base,
            "unit": "示例单位",
            "recipient": "示例单位",
            "decision": "returned",
            "assignment_id": 1,
            "task_title": "示例任务",
            "due": date(2026, 3, 5),
            "requested_due": date(2026, 3, 20),
            "reason": "佐证材料缺少文号",
            "decided_by": "办公室",
        },
    }

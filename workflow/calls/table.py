"""Every operation of the doors: name → HTTP method, path under ``/api/v1`` and the function.

The function is named as ``"module:function"`` and imported only by the runner, so the client
(``cli/client.py``) reads this table without importing any database code. A function takes
``session``, ``caller``, ``config``, ``db`` and ``now`` by those names when it needs them (the
door supplies them; a request can never set them) and everything else as plain values; it
returns JSON-able data. ``uploads`` name the parameters that are files the client sends,
``downloads`` the parameters that name files the server writes and sends back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    target: str
    uploads: tuple[str, ...] = ()
    downloads: tuple[str, ...] = ()

    @property
    def path_params(self) -> list[str]:
        return [m.split(":")[0] for m in re.findall(r"{([^}]+)}", self.path)]

    def url_path(self, values: dict) -> str:
        """The path with its parameters filled in (each one percent-encoded)."""
        from urllib.parse import quote

        def fill(match: re.Match) -> str:
            return quote(str(values[match.group(1).split(":")[0]]), safe="")

        return re.sub(r"{([^}]+)}", fill, self.path)


_D = "workflow.directory.calls"
_T = "workflow.tasks.calls"
_L = "workflow.ledger.calls"
_C = "workflow.chasing.calls"
_O = "workflow.outbox.calls"
_E = "workflow.evaluation.calls"
_AU = "workflow.audit.calls"
_A = "/assignments/{assignment_id:int}"
_P = "workflow.evaluation.appeal_calls"
_EV = "workflow.tasks.evidence"
_AC = "workflow.accounts.calls"

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in [
        # directory: who am I, tokens, units, leaders, plans
        Operation("whoami", "GET", "/me", f"{_D}:whoami"),
        Operation("token.issue", "POST", "/tokens", f"{_D}:token_issue"),
        Operation("token.list", "GET", "/tokens", "workflow.directory.tokens:list_tokens"),
        Operation("token.revoke", "POST", "/tokens/{token_id:int}/revoke", f"{_D}:token_revoke"),
        # accounts: a person's sign-in (issue 29)
        Operation("account.add", "POST", "/accounts", f"{_AC}:account_add"),
        Operation("account.list", "GET", "/accounts", f"{_AC}:account_list"),
        Operation("account.show", "GET", "/accounts/{name}", f"{_AC}:account_show"),
        Operation("account.edit", "PATCH", "/accounts/{name}", f"{_AC}:account_edit"),
        *(
            Operation(
                f"account.{verb}",
                "POST",
                f"/accounts/{{name}}/{verb}",
                f"{_AC}:account_{verb.replace('-', '_')}",
            )
            for verb in ("lock", "unlock", "reset-password", "remove")
        ),
        Operation("unit.add", "POST", "/units", f"{_D}:unit_add"),
        Operation("unit.list", "GET", "/units", f"{_D}:unit_list"),
        Operation("unit.show", "GET", "/units/{name}", f"{_D}:unit_show"),
        Operation("unit.edit", "PATCH", "/units/{name}", f"{_D}:unit_edit"),
        Operation("unit.import", "POST", "/unit-imports", f"{_D}:unit_import", ("file",)),
        Operation("leader.add", "POST", "/leaders", f"{_D}:leader_add"),
        Operation("leader.list", "GET", "/leaders", f"{_D}:leader_list"),
        Operation("leader.edit", "PATCH", "/leaders/{name}", f"{_D}:leader_edit"),
        Operation("plan.list", "GET", "/plans", "workflow.directory.plans:list_plans"),
        Operation("plan.show", "GET", "/plan", f"{_D}:plan_show"),
        # tasks: assignments and their lifecycle, extension requests, events
        Operation("task.add", "POST", "/tasks", f"{_T}:task_add"),
        Operation("task.list", "GET", "/assignments", f"{_T}:task_list"),
        Operation("task.show", "GET", _A, f"{_T}:task_show"),
        Operation("task.ack", "POST", f"{_A}/ack", f"{_T}:task_ack"),
        *(
            Operation(f"task.{t}", "POST", f"{_A}/{t}", f"{_T}:task_{t}")
            for t in ("start", "report", "verify", "return", "extend", "cancel", "reopen")
        ),
        Operation(
            "extension.request", "POST", f"{_A}/extension-requests", f"{_T}:extension_request"
        ),
        Operation(
            "extension.list",
            "GET",
            "/extension-requests",
            "workflow.tasks.extensions:list_extensions",
        ),
        Operation(
            "extension.approve",
            "POST",
            "/extension-requests/{request_id:int}/approve",
            f"{_T}:extension_approve",
        ),
        Operation(
            "extension.refuse",
            "POST",
            "/extension-requests/{request_id:int}/refuse",
            f"{_T}:extension_refuse",
        ),
        Operation("event.kinds", "GET", "/event-kinds", f"{_T}:event_kinds_view"),
        Operation("event.add", "POST", "/events", f"{_T}:event_add"),
        Operation("event.list", "GET", "/events", f"{_T}:event_list"),
        Operation(
            "event.extend", "POST", "/events/{assignment_id:int}/extend", f"{_T}:event_extend"
        ),
        Operation("event.show", "GET", "/events/{assignment_id:int}", f"{_T}:event_show"),
        Operation("event.pause", "POST", "/events/{assignment_id:int}/pause", f"{_T}:event_pause"),
        Operation(
            "event.resume", "POST", "/events/{assignment_id:int}/resume", f"{_T}:event_resume"
        ),
        # ledger: import, export, the calendar
        Operation("import", "POST", "/imports", f"{_L}:import_file", ("file",), ("to_ledger",)),
        Operation("export.ledger", "GET", "/exports/ledger", f"{_L}:export_file", (), ("path",)),
        Operation("calendar.show", "GET", "/calendar/months/{month}", f"{_L}:calendar_month"),
        Operation("calendar.add", "GET", "/calendar/add", f"{_L}:calendar_add"),
        Operation("calendar.between", "GET", "/calendar/between", f"{_L}:calendar_between"),
        Operation("calendar.status", "GET", "/calendar/status", f"{_L}:calendar_status"),
        Operation(
            "calendar.import", "POST", "/calendar/overrides", f"{_L}:calendar_import", ("path",)
        ),
        Operation("calendar.recompute", "POST", "/calendar/recompute", f"{_L}:calendar_recompute"),
        # chasing: the daily check
        Operation("check", "POST", "/check", f"{_C}:check"),
        Operation("notice.list", "GET", "/notices", f"{_C}:notice_list"),
        Operation("notice.show", "GET", "/notices/{ref}", f"{_C}:notice_show"),
        Operation(
            "notice.export", "GET", "/notices/{ref}/docx", f"{_C}:notice_export", (), ("path",)
        ),
        # outbox: notifications and mail
        Operation("notify.preview", "GET", "/notifications/preview", f"{_O}:notify_preview"),
        Operation("notify.send", "POST", "/notifications/send", f"{_O}:notify_send"),
        Operation("notify.list", "GET", "/notifications", f"{_O}:notify_list"),
        Operation("notify.retry", "POST", "/notifications/retry", f"{_O}:notify_retry"),
        Operation(
            "notify.test-robot", "POST", "/notifications/test-robot", f"{_O}:notify_test_robot"
        ),
        Operation("mail.test", "POST", "/mail/test", f"{_O}:mail_test"),
        Operation("mail.settings", "GET", "/mail/settings", f"{_O}:mail_settings"),
        # evaluation: scores, appeals, rules, the export
        Operation("score", "GET", "/scores", f"{_E}:score"),
        Operation("score.waive", "POST", "/scores/waivers", f"{_E}:score_waive"),
        Operation("score.rules", "GET", "/scores/rules", f"{_E}:score_rules"),
        Operation("score.freeze", "POST", "/scores/freezes", f"{_P}:score_freeze"),
        Operation("score.bonus.add", "POST", "/scores/bonus", f"{_P}:bonus_add"),
        Operation(
            "score.bonus.list", "GET", "/scores/bonus", "workflow.evaluation.bonus:list_bonus"
        ),
        Operation("appeal.add", "POST", "/appeals", f"{_P}:appeal_add"),
        Operation("appeal.list", "GET", "/appeals", f"{_P}:appeal_list"),
        Operation(
            "appeal.decide", "POST", "/appeals/{appeal_id:int}/decision", f"{_P}:appeal_decide"
        ),
        Operation(
            "export.evaluation",
            "GET",
            "/exports/evaluation",
            f"{_E}:export_file",
            (),
            ("path", "html"),
        ),
        # audit: the security audit log (issue 30)
        Operation("audit.list", "GET", "/audit", f"{_AU}:audit_list"),
        Operation("audit.export", "GET", "/audit/export", f"{_AU}:audit_export", (), ("path",)),
        Operation("audit.verify", "GET", "/audit/verify", f"{_AU}:audit_verify"),
        Operation("audit.prune", "POST", "/audit/prune", f"{_AU}:audit_prune"),
        # evidence links that still open (issue 31)
        Operation("evidence.check", "POST", "/evidence/checks", f"{_EV}:evidence_check"),
        Operation("evidence.flags", "GET", "/evidence/flags", f"{_EV}:evidence_flags"),
    ]
}

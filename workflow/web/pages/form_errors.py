"""A form's error in the page's own words (issue 29): the field as the form labels it, what to do.

The ``workflow`` functions speak to every door, so their messages name the CLI's flags
("需要说明理由（--reason）"). A page re-renders its form with what was typed and a message
that names the field by its label instead, never a ``--flag``, and, where the state of the
task explains the refusal, says what to do ("该报送已被核验，无需再次报送").

Everything page-specific is here, in two small tables: :data:`FIELDS` (form field → the CLI
flag it stands for and its label on the page) and :data:`STATE_HINTS` ((form, state) → what
to tell). An error that carries ``field`` / ``hint`` attributes (structured errors) is used
as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workflow.errors import Conflict, DubanError, TransitionNotAllowed

# form field → (the CLI flag that workflow messages name, the label on the page)
FIELDS: dict[str, tuple[str, str]] = {
    "text": ("--text", "进展落实情况"),
    "evidence": ("--evidence", "佐证材料"),
    "to": ("--to", "申请延至"),
    "reason": ("--reason", "理由"),
}

# (form, the assignment's state now) → what the visitor should know and do
STATE_HINTS: dict[tuple[str, str], str] = {
    ("report", "verified"): "该报送已被核验，无需再次报送",
    ("report", "reported"): "该任务已报送，正在等待办公室核验；如需补充，请等办公室退回后再报送",
    ("report", "cancelled"): "该任务已撤销，无需报送",
    ("start", "verified"): "该任务已核验办结，无需再开始办理",
    ("extension", "reported"): "该任务已报送，无需申请延期",
    ("extension", "verified"): "该任务已核验办结，无需申请延期",
    ("extension", "cancelled"): "该任务已撤销，无需申请延期",
    ("ack", "cancelled"): "该任务已撤销，无需签收",
    ("ack", "verified"): "该任务已办结，无需签收",
}

_FLAG_IN_PARENS = re.compile(r"（(--[a-z][a-z-]*)[^）]*）")
_FLAG = re.compile(r"--[a-z][a-z-]*")
_COMMAND = re.compile(r"，?请用 duban [^，。；]*?(查看后重试|查看)")


@dataclass(frozen=True)
class FormError:
    """What the page shows above the form ``form``; ``field`` is the form field at fault."""

    form: str
    message: str
    field: str | None = None

    @property
    def label(self) -> str | None:
        return FIELDS[self.field][1] if self.field in FIELDS else None


def form_error(exc: DubanError, form: str, state: str | None) -> FormError:
    """``exc`` (raised by the form ``form``) told in the page's words; ``state`` is the
    assignment's state after the refusal."""
    hint = getattr(exc, "hint", None)
    field = getattr(exc, "field", None)
    if isinstance(exc, (TransitionNotAllowed, Conflict)) and (form, state) in STATE_HINTS:
        return FormError(form, STATE_HINTS[(form, state)], None)
    message = exc.message
    flags = {flag: name for name, (flag, _) in FIELDS.items()}
    found = _FLAG_IN_PARENS.search(message) or _FLAG.search(message)
    if field is None and found is not None:
        flag = found.group(1) if found.re is _FLAG_IN_PARENS else found.group(0)
        field = flags.get(flag)
    message = _FLAG_IN_PARENS.sub("", message)
    message = _FLAG.sub(
        lambda m: f"“{FIELDS[flags[m.group(0)]][1]}”" if m.group(0) in flags else "", message
    )
    if isinstance(exc, Conflict):
        message = _COMMAND.sub("，请核对本页的最新情况后重新提交（您填写的内容已保留）", message)
    if hint:
        message = f"{message}。{hint}" if not message.endswith("。") else f"{message}{hint}"
    return FormError(form, message.strip(), field)

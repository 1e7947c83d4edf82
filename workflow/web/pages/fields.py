"""How the pages name a field of an error: by its form label.

A :class:`workflow.errors.DubanError` names the value at fault by its domain name (``due``,
``unit``, ``evidence``); a page says what its form says (“截止日期”, “单位”, “佐证材料”).
:data:`FIELD_LABELS` is the one table of those labels; a form whose label for a field differs
(“依据” rather than “佐证材料”) passes its own in ``labels``: a route sets
``request.state.field_labels`` and the error page (``frame.error_page``) uses it. Nothing here
reads an error's text.
"""

from __future__ import annotations

from workflow.errors import DubanError

# domain field -> the label a form shows for it (Chinese, as on the page)
FIELD_LABELS: dict[str, str] = {
    "due": "截止日期",
    "new_due": "延至日期",
    "to": "申请延至",
    "unit": "单位",
    "units": "责任单位",
    "role": "单位角色",
    "title": "标题",
    "text": "进展落实情况",
    "count": "数量",
    "evidence": "佐证材料",
    "reason": "理由",
    "year": "考核年度",
    "points": "加分",
    "assignment": "任务编号或扣分行号",
    "assignment_id": "任务编号",
    "ledger": "台账文件",
    "columns": "列的含义",
    "state": "状态",
    "kind": "类型",
    "days": "工作日数",
    "since": "起始日期",
    "until": "截止日期",
    "actor": "操作人",
    "action": "操作",
    "outcome": "结果",
    "address": "地址",
    "email": "电子邮箱",
    "token": "令牌",
    "name": "名称",
    "plan_id": "工作计划",
    "rule": "扣分项",
    "per": "报送周期",
}


def field_label(field: str | None, labels: dict[str, str] | None = None) -> str | None:
    """The form label of ``field`` (``labels`` first: a form's own words), or None."""
    if not field:
        return None
    return (labels or {}).get(field) or FIELD_LABELS.get(field)


def error_text(exc: DubanError, labels: dict[str, str] | None = None) -> str:
    """The one line a page shows for ``exc``: the form label in the field's place, or after the
    message when it does not name it; the hint after that. No flag, no parameter name."""
    label = field_label(exc.field, labels)
    named = f"“{label}”" if label else None
    line = exc.text(named)
    if label and exc.template is None and label not in line:
        line = f"{line}（{named}）"
    if exc.hint and exc.hint not in line:
        line = f"{line}；{exc.hint}"
    return line

"""An appeal (申诉) as every door and the sheet show it."""

from __future__ import annotations

from typing import Any

from workflow.dates.clock import local_date
from workflow.evaluation.rules import RULE_LABELS
from workflow.storage.models import Appeal

STATE_LABELS = {"pending": "待处理", "upheld": "申诉成立", "rejected": "申诉不成立"}


def appeal_dict(appeal: Appeal, unit: str) -> dict[str, Any]:
    return {
        "id": appeal.id,
        "assignment_id": appeal.assignment_id,
        "unit": unit,
        "unit_id": appeal.unit_id,
        "rule": appeal.rule,
        "rule_label": RULE_LABELS[appeal.rule] if appeal.rule else "全部扣分",
        "reason": appeal.reason,
        "evidence": appeal.evidence,
        "state": appeal.state,
        "state_label": STATE_LABELS[appeal.state],
        "by": appeal.actor,
        "on": local_date(appeal.created_at).isoformat() if appeal.created_at else None,
        "decision": appeal.decision,
        "decided_by": appeal.decided_by,
        "decided_on": local_date(appeal.decided_at).isoformat() if appeal.decided_at else None,
    }

"""One vocabulary: every state, trigger, role, notification kind and channel is a member of a
labelled StrEnum, with a Chinese label, unique in its kind; the values are the strings the
database has always stored; the lower packages agree; every history row has one writer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from states import STATE_LABELS, STATES, TRIGGERS, State, TriggerName
from workflow.vocabulary import Channel, NotificationKind, Role, UnitRole

ROOT = Path(__file__).resolve().parent.parent
VOCABULARIES = [State, TriggerName, Role, UnitRole, NotificationKind, Channel]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.__name__)
def test_every_member_has_a_chinese_label_and_labels_are_unique(vocabulary):
    labels = [member.label for member in vocabulary]
    assert all(isinstance(label, str) and CJK.search(label) for label in labels)
    assert len(set(labels)) == len(labels)
    assert all(member == member.value and str(member) == member.value for member in vocabulary)


def test_the_values_are_the_strings_the_database_stores():
    assert STATES == ("assigned", "in_progress", "reported", "verified", "overdue", "cancelled")
    assert {s.value: s.label for s in State} == STATE_LABELS
    assert list(TRIGGERS) == [t.value for t in TriggerName]
    assert all(TRIGGERS[t].label == t.label for t in TriggerName)
    assert Role.values() == ("office", "unit", "leader", "security", "auditor", "system")
    assert UnitRole.values() == ("lead", "responsible", "cooperating")
    assert Channel.values() == ("email", "wecom", "dingtalk", "feishu")


def test_the_lower_packages_agree():
    """notifiers/ may not import workflow/: its own lists must match the vocabulary."""
    from notifiers.render import KINDS
    from notifiers.robots import KIND_LABELS as ROBOT_LABELS
    from notifiers.robots import ROBOT_KINDS

    assert set(KINDS) == set(NotificationKind.values())
    assert tuple(ROBOT_KINDS) == tuple(c.value for c in Channel if c is not Channel.EMAIL)
    assert {c.value: c.label for c in Channel if c is not Channel.EMAIL} == ROBOT_LABELS


def test_the_old_label_tables_are_the_vocabulary():
    from workflow.chasing.channels import CHANNEL_LABELS
    from workflow.chasing.items import KIND_LABELS
    from workflow.directory.roles import ROLE_LABELS
    from workflow.tasks.assignments import ROLE_LABELS as ASSIGNMENT_ROLE_LABELS
    from workflow.web.pages.office import KINDS

    assert Role.labels() == ROLE_LABELS and UnitRole.labels() == ASSIGNMENT_ROLE_LABELS
    assert NotificationKind.labels() == KINDS and Channel.labels() == CHANNEL_LABELS
    assert all(KIND_LABELS[k] == NotificationKind(k).label for k in KIND_LABELS)


def test_history_rows_have_one_writer():
    """Only workflow/directory/history.py builds a History row."""
    builders = []
    for path in (ROOT / "workflow").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "History"
            ):
                builders.append(str(path.relative_to(ROOT)))
    assert builders == ["workflow/directory/history.py"]

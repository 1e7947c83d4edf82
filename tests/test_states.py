"""The lifecycle machine on its own: every (state, trigger) pair, and random walks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from states import STATES, TRIGGERS, TransitionError, allowed_triggers, fire, may_fire


class Row:
    def __init__(self, state: str) -> None:
        self.state = state


# (state, trigger) -> resulting state; every pair not listed is forbidden.
ALLOWED = {
    ("assigned", "start"): "in_progress",
    ("assigned", "report"): "reported",
    ("assigned", "expire"): "overdue",
    ("assigned", "extend"): "assigned",
    ("assigned", "cancel"): "cancelled",
    ("in_progress", "report"): "reported",
    ("in_progress", "expire"): "overdue",
    ("in_progress", "extend"): "in_progress",
    ("in_progress", "cancel"): "cancelled",
    ("reported", "verify"): "verified",
    ("reported", "return"): "in_progress",
    ("reported", "cancel"): "cancelled",
    ("overdue", "report"): "reported",
    ("overdue", "extend"): "in_progress",
    ("overdue", "cancel"): "cancelled",
    ("cancelled", "reopen"): "assigned",
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_every_state_trigger_pair(state: str, trigger: str) -> None:
    row = Row(state)
    if (state, trigger) in ALLOWED:
        assert fire(row, trigger) == (state, ALLOWED[(state, trigger)])
        assert row.state == ALLOWED[(state, trigger)]
    else:
        with pytest.raises(TransitionError) as err:
            fire(row, trigger)
        assert row.state == state, "a refused trigger must not change the state"
        assert "不能" in str(err.value)


@pytest.mark.parametrize(
    ("trigger", "roles"),
    [
        ("start", {"unit"}),
        ("report", {"unit"}),
        ("verify", {"office"}),
        ("return", {"office"}),
        ("extend", {"office"}),
        ("cancel", {"office"}),
        ("reopen", {"office"}),
        ("expire", {"system"}),
    ],
)
def test_every_trigger_names_its_roles(trigger: str, roles: set[str]) -> None:
    assert set(TRIGGERS[trigger].roles) == roles
    for role in ("office", "unit", "leader", "system"):
        assert may_fire(role, trigger) == (role in roles)


def test_leaders_only_read() -> None:
    assert not any(may_fire("leader", t) for t in TRIGGERS)


@given(st.lists(st.sampled_from(list(TRIGGERS)), max_size=30))
def test_random_walks_follow_the_table(triggers: list[str]) -> None:
    row = Row("assigned")
    for trigger in triggers:
        before = row.state
        if trigger in allowed_triggers(before):
            fire(row, trigger)
            assert row.state == ALLOWED[(before, trigger)]
        else:
            with pytest.raises(TransitionError):
                fire(row, trigger)
            assert row.state == before
    assert row.state in STATES


@pytest.mark.parametrize(
    ("resume", "state"),
    [(None, "assigned"), ("assigned", "assigned"), ("in_progress", "in_progress"),
     ("reported", "reported"), ("overdue", "overdue"), ("verified", "assigned")],
)  # fmt: skip
def test_reopen_returns_to_the_state_it_was_cancelled_from(resume, state) -> None:
    row = Row("cancelled")
    assert fire(row, "reopen", resume=resume) == ("cancelled", state)


def test_final_states_accept_nothing_but_an_explicit_reopen() -> None:
    assert allowed_triggers("verified") == []
    assert allowed_triggers("cancelled") == ["reopen"]

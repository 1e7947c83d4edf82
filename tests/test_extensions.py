"""Extension requests: asked before the due date, the original date counts until approved."""

from __future__ import annotations

from datetime import date

import pytest
from check_helpers import OFFICE, at, check, directory, snapshot, task
from sqlmodel import select

from workflow.directory.roles import Caller
from workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Assignment, History, Unit
from workflow.tasks.extensions import (
    approve_extension,
    list_extensions,
    refuse_extension,
    request_extension,
)

D = date.fromisoformat


@pytest.fixture
def story(db):
    with db.session() as s:
        directory(s)
        (a,) = task(s, "修订政府信息公开指南", D("2026-03-10"), "公开科")
        (b,) = task(s, "修订政府信息公开指南", D("2026-03-10"), "法规科")
        gk = s.exec(select(Unit).where(Unit.name == "公开科")).one()
        fg = s.exec(select(Unit).where(Unit.name == "法规科")).one()
    return (
        db,
        a,
        b,
        Caller("unit", "公开科", unit_id=gk.id),
        Caller("unit", "法规科", unit_id=fg.id),
    )


def test_pending_request_changes_nothing_approval_extends(story):
    db, a, _, gk, _ = story
    with db.session() as s:
        req = request_extension(s, gk, a, D("2026-03-20"), "需会签", at(D("2026-03-06")))
        rid = req.id
    check(db, D("2026-03-11"))  # not yet approved: the original date counts
    with db.session() as s:
        assert s.get(Assignment, a).state == "overdue"
        assert [r["status"] for r in list_extensions(s, gk)] == ["pending"]
    with db.session() as s:
        approve_extension(s, OFFICE, rid, at(D("2026-03-11"), 14))
    with db.session() as s:
        row = s.get(Assignment, a)
        assert (row.due, row.original_due, row.state) == (
            D("2026-03-20"),
            D("2026-03-10"),
            "in_progress",
        )
        actions = [
            h.action
            for h in s.exec(select(History).where(History.assignment_id == a).order_by(History.id))
        ]
        assert actions == ["create", "extension.request", "expire", "extend", "extension.approve"]
    check(db, D("2026-03-17"))  # 3 working days before the new date
    assert any(f"r:{a}:2026-03-20:3" == c for _, _, covers, _ in snapshot(db) for c in covers)


def test_refusal_keeps_the_original_date(story):
    db, a, _, gk, _ = story
    with db.session() as s:
        rid = request_extension(s, gk, a, D("2026-03-20"), "人手不足", at(D("2026-03-06"))).id
    with db.session() as s, pytest.raises(InvalidInput, match="理由"):
        refuse_extension(s, OFFICE, rid, at(D("2026-03-09")), " ")
    with db.session() as s:
        refuse_extension(s, OFFICE, rid, at(D("2026-03-09")), "时限为上级规定")
    with db.session() as s:
        assert s.get(Assignment, a).due == D("2026-03-10")
        assert list_extensions(s, OFFICE, "refused")[0]["decision_reason"] == "时限为上级规定"
        with pytest.raises(Conflict, match="已处理"):
            approve_extension(s, OFFICE, rid, at(D("2026-03-09")))


@pytest.mark.parametrize(
    ("when", "to", "error", "words"),
    [
        ("2026-03-11", "2026-03-20", InvalidInput, "截止日期前"),
        ("2026-03-06", "2026-03-09", InvalidInput, "应晚于"),
    ],
)
def test_refused_requests(story, when, to, error, words):
    db, a, _, gk, _ = story
    with db.session() as s, pytest.raises(error, match=words):
        request_extension(s, gk, a, D(to), "理由", at(D(when)))


def test_only_the_owner_asks_only_the_office_decides_one_pending_at_a_time(story):
    db, a, b, gk, fg = story
    with db.session() as s:
        with pytest.raises(PermissionDenied):
            request_extension(s, fg, a, D("2026-03-20"), "理由", at(D("2026-03-06")))
        rid = request_extension(s, gk, a, D("2026-03-20"), "理由", at(D("2026-03-06"))).id
        with pytest.raises(Conflict, match="待审批"):
            request_extension(s, gk, a, D("2026-03-25"), "理由", at(D("2026-03-06")))
        with pytest.raises(PermissionDenied):
            approve_extension(s, gk, rid, at(D("2026-03-06")))
        with pytest.raises(NotFound):
            approve_extension(s, OFFICE, 999, at(D("2026-03-06")))
        assert list_extensions(s, fg) == []
        assert b


def test_cli_request_approve_refuse_list(duban):
    duban.ok("leader", "add", "王主任", "--email", "wang@example.org")
    duban.ok("unit", "add", "法规处", "--email", "fagui@example.org", "--leader", "王主任")
    rows = duban.json("task", "add", "修订指南", "--unit", "法规处", "--due", "2099-06-30")
    aid = rows[0]["id"]
    token = duban.json("token", "issue", "法规处")["token"]
    req = duban.json(
        "task", "request-extension", aid, "--to", "2099-07-31", "--reason", "需会签", token=token
    )
    listed = duban.json("task", "extension", "list", "--status", "pending")
    assert [(r["id"], r["requested_due"], r["status"]) for r in listed] == [
        (req["id"], "2099-07-31", "pending")
    ]
    out = duban.ok("task", "extension", "approve", req["id"]).stdout
    assert "已批准" in out and "2099-07-31" in out
    assert duban.json("task", "show", aid)["due"] == "2099-07-31"
    bad = duban("task", "extension", "approve", req["id"])
    assert bad.exit_code == 5 and "已处理" in bad.stderr and "Traceback" not in bad.output
    req2 = duban.json(
        "task", "request-extension", aid, "--to", "2099-08-31", "--reason", "再延", token=token
    )
    duban.ok("task", "extension", "refuse", req2["id"], "--reason", "不同意")
    assert duban.json("task", "show", aid)["due"] == "2099-07-31"
    refused = duban("task", "extension", "approve", req2["id"], token=token)
    assert refused.exit_code == 4


def test_cli_approve_and_refuse_json(duban):
    duban.ok("unit", "add", "法规处", "--email", "fagui@example.org")
    aid = duban.json("task", "add", "修订指南", "--unit", "法规处", "--due", "2026-06-30")[0]["id"]
    token = duban.json("token", "issue", "法规处")["token"]
    ask = ("task", "request-extension", aid, "--reason", "需会签")
    first = duban.json(*ask, "--to", "2026-07-31", token=token)
    approved = duban.json("task", "extension", "approve", first["id"])
    assert (approved["id"], approved["status"], approved["requested_due"]) == (
        first["id"],
        "approved",
        "2026-07-31",
    )
    second = duban.json(*ask, "--to", "2026-08-31", token=token)
    refused = duban.json("task", "extension", "refuse", second["id"], "--reason", "不同意")
    assert refused["status"] == "refused"

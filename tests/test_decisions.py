"""Every decision reaches the unit it concerns (issue 29): 退回, 延期批准 / 不批准, 核验通过.

Real parts: a migrated database (SQLite file or PostgreSQL), the outbox, delivery to a real
aiosmtpd server, the same renderer as production. The clock is passed in.
"""

from __future__ import annotations

from datetime import date

import pytest
from check_helpers import OFFICE, at, directory, report, task
from outbox_helpers import write_config
from smtp_server import SmtpServer
from sqlmodel import select

from notifiers.robot_render import RobotRenderer
from workflow.chasing.check import render_context
from workflow.directory.roles import Caller
from workflow.outbox.delivery import deliver_pending
from workflow.storage.models import Assignment, History, Notification, Robot, Unit
from workflow.tasks.decisions import queue_decision
from workflow.tasks.extensions import approve_extension, refuse_extension, request_extension
from workflow.tasks.lifecycle import fire

D = date.fromisoformat
URL = "https://duban.example.gov.cn"
GK_MAIL = "gk@office.example.cn"


@pytest.fixture
def smtp():
    with SmtpServer() as s:
        yield s


def config_for(tmp_path, smtp, notify: str = ""):
    return write_config(
        tmp_path,
        '[office]\nname = "江门市政务公开办公室"\n\n'
        f'[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\ntls = "none"\n'
        'from = "督办系统 <duban@office.example.cn>"\ntimeout = 10\n\n'
        f'[server]\nurl = "{URL}/"\n\n[notify]\n{notify}\n',
    )


@pytest.fixture
def world(db):
    """公开科 (e-mail) has #a and #b due 2026-03-10; 无邮箱科 (no e-mail, no robot) has #c."""
    with db.session() as s:
        directory(s)
        (a,) = task(s, "政策解读专栏更新", D("2026-03-10"), "公开科")
        (b,) = task(s, "规范性文件集中公开", D("2026-03-10"), "公开科")
        (c,) = task(s, "办事指南更新", D("2026-03-10"), "无邮箱科")
        gk = s.exec(select(Unit).where(Unit.name == "公开科")).one()
        unit = Caller("unit", "公开科", unit_id=gk.id)
    return db, a, b, c, unit, gk.id


def decisions(db) -> dict[str, Notification]:
    with db.session() as s:
        rows = s.exec(select(Notification).where(Notification.kind == "decision")).all()
        return {n.key: n for n in rows}


def test_each_decision_is_queued_once_per_channel_keyed_by_its_history_row(world):
    db, a, _, c, _, gk = world
    with db.session() as s:
        s.add(Robot(owner=f"u{gk}", kind="wecom", token="-", fingerprint="-"))
        report(s, a, D("2026-03-03"))
        report(s, c, D("2026-03-03"))
    with db.session() as s:
        fire(s, a, "return", OFFICE, now=at(D("2026-03-04")), reason="佐证材料缺少文号")
        fire(s, c, "return", OFFICE, now=at(D("2026-03-04")), reason="请补充链接")
    with db.session() as s:
        h = s.exec(select(History).where(History.action == "return", History.assignment_id == a))
        hid = h.one().id
    rows = decisions(db)
    key = f"decision:u{gk}:h{hid}"
    assert sorted(rows) == [key, f"{key}#wecom"]  # 无邮箱科: no address, no robot, nothing
    mail, post = rows[key], rows[f"{key}#wecom"]
    assert (mail.channel, mail.recipients, mail.assignment_id) == ("email", [GK_MAIL], a)
    assert post.channel == "wecom" and post.context["_owner"] == f"u{gk}"
    assert mail.context["decision"] == "returned"
    assert mail.context["reason"] == "佐证材料缺少文号"
    # the same decision again (a retried request, a second door) queues nothing more
    with db.session() as s:
        hist = s.get(History, hid)
        assert queue_decision(s, s.get(Assignment, a), hist, at(D("2026-03-04"))) == []
    assert len(decisions(db)) == 2


def test_return_refusal_approval_and_verification_reach_the_unit_by_mail_with_a_link(
    world, smtp, tmp_path
):
    db, a, b, _, unit, _ = world
    with db.session() as s:
        report(s, a, D("2026-03-03"))
    with db.session() as s:
        fire(s, a, "return", OFFICE, now=at(D("2026-03-04")), reason="佐证材料缺少文号")
        r1 = request_extension(s, unit, b, D("2026-03-20"), "需会签", at(D("2026-03-04"))).id
    with db.session() as s:
        refuse_extension(s, OFFICE, r1, at(D("2026-03-05")), "时限为上级规定")
        r2 = request_extension(s, unit, b, D("2026-03-17"), "需再会签", at(D("2026-03-05"))).id
    with db.session() as s:
        approve_extension(s, OFFICE, r2, at(D("2026-03-06")))
        report(s, a, D("2026-03-06"))
    with db.session() as s:
        fire(s, a, "verify", OFFICE, now=at(D("2026-03-09")))

    config = config_for(tmp_path, smtp)
    summary = deliver_pending(db, config, at(D("2026-03-09"), 10))
    assert summary.sent == 4
    mails = {m.subject: m for m in smtp.received}
    assert set(mails) == {
        "【退回】《政策解读专栏更新》的报送已被退回，请修改后重新报送",
        "【延期未批准】《规范性文件集中公开》仍须于2026年3月10日前完成",
        "【延期已批准】《规范性文件集中公开》截止日期延至2026年3月17日",
        "【核验通过】《政策解读专栏更新》的报送已核验通过",
    }
    for m in smtp.received:
        assert m.rcpt_tos == (GK_MAIL,)
    returned = mails["【退回】《政策解读专栏更新》的报送已被退回，请修改后重新报送"]
    for part in (returned.text, returned.html):
        assert "退回理由" in part and "佐证材料缺少文号" in part
        assert f"{URL}/assignments/{a}" in part
    refused = mails["【延期未批准】《规范性文件集中公开》仍须于2026年3月10日前完成"]
    assert "时限为上级规定" in refused.text and "2026年3月20日" in refused.text
    assert f"{URL}/assignments/{b}" in refused.text
    # exactly once: a second run sends nothing
    assert deliver_pending(db, config, at(D("2026-03-09"), 11)).sent == 0
    assert len(smtp.received) == 4


def test_on_verified_false_drops_the_verified_notice_with_the_reason(world, smtp, tmp_path):
    db, a, _, _, _, _ = world
    with db.session() as s:
        report(s, a, D("2026-03-03"))
    with db.session() as s:
        fire(s, a, "verify", OFFICE, now=at(D("2026-03-04")))
    summary = deliver_pending(
        db, config_for(tmp_path, smtp, "on_verified = false"), at(D("2026-03-04"), 10)
    )
    assert (summary.sent, summary.dropped) == (0, 1)
    (row,) = decisions(db).values()
    assert row.state == "dropped" and "on_verified" in row.note
    assert smtp.received == []


def test_every_robot_post_links_to_its_page_when_the_server_has_an_address(world):
    db, a, _, _, _, gk = world
    with db.session() as s:
        s.add(Robot(owner=f"u{gk}", kind="dingtalk", token="-", fingerprint="-"))
        report(s, a, D("2026-03-03"))
    with db.session() as s:
        fire(s, a, "return", OFFICE, now=at(D("2026-03-04")), reason="请补充<b>文号</b>")
    (post,) = [n for n in decisions(db).values() if n.channel == "dingtalk"]
    context = {**render_context(post.context), "office": "江门市政务公开办公室"}
    robot = RobotRenderer()
    with_url = robot.render("decision", {**context, "server_url": URL}).text
    assert f"[在督办系统中查看]({URL}/assignments/{a})" in with_url
    assert "＜b＞文号＜/b＞" in with_url  # unit-facing text stays inert
    assert "在督办系统中查看" not in robot.render("decision", context).text

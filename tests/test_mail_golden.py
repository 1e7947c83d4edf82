"""Golden mails: representative outbox rows delivered to ``.eml`` files, byte for byte.

Every kind the outbox sends (reminder, due_today, overdue with omitted items, escalation at
levels 1 and 2, digest, progress request outside the warning window, a resend, a row with a
stale item and one with an item unknown to the database), stored as the daily check stores
them, goes through :func:`deliver_pending` (claim, refresh against the database, contact,
render, MIME) to a :class:`FileSink`; the files must equal ``tests/golden/mail/<office>/``,
byte for byte, for an office with a server URL and contact and for one without. The ``test``
mail (``duban mail test``) and the renderer's sample contexts are compared as rendered parts.

These files were written by the code before the outbox was made faster (issue 18): a change
of templates or MIME that is meant must rewrite them, with ``DUBAN_UPDATE_GOLDEN=1``, and the
diff of the decoded parts (printed on failure) shows what changed.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from outbox_helpers import write_config

from notifiers.message import message_bytes
from notifiers.render import KINDS, Renderer
from notifiers.sinks import FileSink
from notifiers.template_check import sample_contexts
from workflow.dates.clock import SHANGHAI
from workflow.outbox.delivery import build_message, deliver_pending
from workflow.storage.models import Assignment, Notification, Task, Unit

GOLDEN = Path(__file__).parent / "golden" / "mail"
UPDATE = os.environ.get("DUBAN_UPDATE_GOLDEN") == "1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
OFFICE = "江门市政务公开办公室"

OFFICES = {
    "contact": (
        f'[office]\nname = "{OFFICE}"\ncontact = "张科长"\nphone = "0750-3501234"\n'
        'email = "gkb@office.example.cn"\n'
        '[server]\nurl = "https://duban.office.example.cn"\n'
        f'[smtp]\nhost = "127.0.0.1"\nfrom = "{OFFICE} <duban@office.example.cn>"\n'
        '[notify]\ndelivery = "file"\n'
    ),
    "plain": f'[office]\nname = "{OFFICE}"\n[notify]\ndelivery = "file"\n',
}

REQUIREMENT = (
    "按照《政府信息公开条例》要求，在门户网站政策解读专栏发布解读材料。\n"
    "解读材料与政策文件同步起草、同步审签、同步发布。"
)

# id: (title, section, state, due, requirement)
ASSIGNMENTS = {
    1: ("政策解读及时发布", ["一、深化重点领域信息公开"], "in_progress", date(2026, 3, 5), REQUIREMENT),
    2: ("重大建设项目批准和实施领域信息公开", ["一、深化重点领域信息公开", "（二）重大项目"],
        "assigned", date(2026, 3, 4), None),
    3: ("已报送的事项", ["一、深化重点领域信息公开"], "reported", date(2026, 3, 6), None),
    4: ("政府网站与政务新媒体检查", ["二、加强平台建设"], "overdue", date(2026, 2, 24),
        "每季度检查一次，<b>发现问题</b>立即整改 & 通报。"),
    5: ("政务公开专区建设", ["二、加强平台建设"], "in_progress", date(2026, 2, 26), None),
    6: ("依申请公开答复规范化", ["三、规范依申请公开"], "in_progress", date(2026, 3, 2),
        "答复文书格式统一。"),
    7: ("年度报告编制发布", ["四、年度报告"], "in_progress", date(2026, 6, 30), None),
    8: ("基层政务公开标准目录更新", ["五、基层政务公开"], "overdue", date(2026, 2, 13), None),
}  # fmt: skip


def item(aid: int, working_days: int, report: str | None = None, at: str | None = None):
    title, section, state, due, _ = ASSIGNMENTS.get(
        aid, ("库中没有的事项", ["六、其他"], "in_progress", date(2026, 3, 9), None)
    )
    return {
        "assignment_id": aid,
        "task_title": title,
        "section": " / ".join(section),
        "due": due.isoformat(),
        "working_days": working_days,
        "state_label": {"assigned": "待办理", "overdue": "已逾期"}.get(state, "办理中"),
        "last_report": report,
        "last_report_at": at,
    }


def base(**extra):
    return {"office": OFFICE, "as_of": "2026-03-02", "warning_days": 5, **extra}


REPORT = '已完成专栏建设，<b>正在</b>补充 "办事指南" & 附件。\n下周上线。'

# key: (kind, recipients, recipient name, level, context)
ROWS = {
    "reminder:u1:2026-03-02:a": ("reminder", ["unit1@units.example.cn"], "政法科", 0, base(
        unit="政法科", recipient="政法科",
        items=[item(1, 3, REPORT, "2026-02-27"), item(2, 2), item(3, 4, "已报送")],
        covers=["r:1:2026-03-05:3", "r:2:2026-03-04:2", "r:3:2026-03-06:4"])),
    "due_today:u2:2026-03-02:b": ("due_today", ["unit2@units.example.cn", "chief@units.example.cn"],
        "财务科", 0, base(unit="财务科", recipient="财务科", items=[item(6, 0, "已起草答复模板。",
        "2026-03-01")], covers=["r:6:2026-03-02:0"])),
    "overdue:u3:2026-03-02:c": ("overdue", ["unit3@units.example.cn"], '信息科 "二组" <测试>', 0,
        base(unit="信息科", recipient="信息科", items=[item(4, -4), item(5, -2, "进行中")],
             total=12, omitted=10, more_at="duban task list --overdue",
             covers=["o:4:2026-02-24:1", "o:5:2026-02-26:1"])),
    "escalation:p1:2026-03-02:d": ("escalation", ["leader1@office.example.cn"], "李副主任", 1, base(
        unit="信息科", recipient="李副主任", items=[item(4, -4)], level=1, leader="李副主任",
        units=[{"unit": "信息科", "items": [item(4, -4)], "total": 1, "omitted": 0,
                "more_at": "duban task list --unit 信息科 --overdue"}],
        total=1, report_by="2026-03-04", covers=["o:4:2026-02-24:e1"])),
    "escalation:p2:2026-03-02:e": ("escalation", ["leader2@office.example.cn"], "王主任", 2, base(
        unit="信息科等2个单位", recipient="王主任", items=[item(4, -4), item(8, -11)], level=2,
        leader="王主任",
        units=[{"unit": "信息科", "items": [item(4, -4)], "total": 3, "omitted": 2,
                "more_at": "https://duban.office.example.cn/board"},
               {"unit": "规划科", "items": [item(8, -11)], "total": 1, "omitted": 0,
                "more_at": "https://duban.office.example.cn/board"}],
        total=4, report_by="2026-03-04", covers=["o:4:2026-02-24:e2", "o:8:2026-02-13:e2"])),
    "digest:p1:2026-W10": ("digest", ["leader1@office.example.cn"], "李副主任", 1, base(
        leader="李副主任", period_label="2026年第10周",
        units=[{"unit": "信息科", "items": [item(4, -4), item(5, -2)], "total": 5, "omitted": 3,
                "more_at": "duban task list --unit 信息科 --overdue"},
               {"unit": "财务科", "items": [item(6, 0)], "total": 1, "omitted": 0,
                "more_at": "duban task list --unit 财务科 --overdue"},
               {"unit": "空单位", "items": [item(3, 4)], "total": 1, "omitted": 0,
                "more_at": ""}],
        total=7, covers=["d:4", "d:5", "d:6", "d:3"])),
    "progress_request:u4:2026-03-09:2026-03-02:f": ("progress_request", ["unit4@units.example.cn"],
        "规划科", 0, base(unit="规划科", recipient="规划科", items=[item(7, 85), item(999, 5)],
        report_due="2026-03-09", covers=["p:7:2026-06-30", "p:999:2026-03-09"])),
    "reminder:u1:2026-03-02:a+resend1": ("reminder", ["unit1b@units.example.cn"], "政法科", 0, base(
        unit="政法科", recipient="政法科", items=[item(2, 2)], covers=["r:2:2026-03-04:2"],
        _resend_of="reminder:u1:2026-03-02:a", _resend_n=1)),
}  # fmt: skip


def fill(db) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.insert(Unit.__table__), [{"name": "政法科", "aliases": [], "groups": [],
                     "emails": [], "active": True}])  # fmt: skip
        for aid, (title, section, state, due, requirement) in ASSIGNMENTS.items():
            conn.execute(sa.insert(Task.__table__).values(
                id=aid, kind="manual", section_path=section, title=title, content=requirement,
                lead_units=[], responsible_units=[], cooperating_units=[]))  # fmt: skip
            conn.execute(sa.insert(Assignment.__table__).values(
                id=aid, task_id=aid, unit_id=1, state=state, due=due, original_due=due,
                version=1))  # fmt: skip
        conn.execute(
            sa.insert(Notification.__table__),
            [
                {"key": key, "kind": kind, "recipients": to, "recipient_name": name,
                 "level": level, "context": context, "state": "pending", "attempts": 0,
                 "next_attempt_at": NOW, "as_of": date(2026, 3, 2), "created_at": NOW}
                for key, (kind, to, name, level, context) in ROWS.items()
            ],
        )  # fmt: skip


def parts(data: bytes) -> dict[str, str]:
    """The decoded headers and parts, for a readable diff."""
    msg = message_from_bytes(data, policy=policy.default)
    out = {h: str(msg[h]) for h in ("From", "To", "Subject", "Message-ID", "Date")}
    for part in msg.walk():
        if not part.is_multipart():
            out[part.get_content_type()] = part.get_content()
    return out


def compare(folder: Path, produced: dict[str, bytes]) -> None:
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*"):
            old.unlink()
        for name, data in produced.items():
            (folder / name).write_bytes(data)
        return
    expected = {p.name: p.read_bytes() for p in sorted(folder.glob("*"))}
    assert sorted(produced) == sorted(expected)
    for name, data in produced.items():
        assert parts(data) == parts(expected[name]), name
        assert data == expected[name], name


@pytest.mark.parametrize("office", sorted(OFFICES))
def test_outbox_mails_are_byte_for_byte_the_golden_ones(db, tmp_path, office):
    config = write_config(tmp_path, OFFICES[office])
    fill(db)
    out = tmp_path / "out"
    summary = deliver_pending(db, config, NOW, sink=FileSink(out, now=lambda: NOW))
    assert (summary.sent, summary.failed, summary.dropped) == (len(ROWS), 0, 0)
    with db.engine.connect() as conn:
        notes = dict(conn.execute(sa.select(Notification.key, Notification.note)).all())
    assert notes["reminder:u1:2026-03-02:a"] == "发送前去掉 1 项已过时的事项：#3 已报送"
    produced = {p.name: p.read_bytes() for p in sorted(out.glob("*.eml"))}
    assert len(produced) == len(ROWS)
    compare(GOLDEN / office, produced)


def test_test_mail_and_sample_contexts_are_the_golden_ones():
    """Every kind rendered from the renderer's own samples, and the ``test`` mail."""
    renderer = Renderer()
    samples = sample_contexts()
    produced = {}
    for kind in KINDS:
        mail = renderer.render(kind, samples[kind])
        produced[f"{kind}.json"] = json.dumps(
            {"subject": mail.subject, "text": mail.text, "html": mail.html},
            ensure_ascii=False,
            indent=0,
        ).encode("utf-8")
    row = Notification(
        key="test:2026-03-02T09:00", kind="test", recipients=["gkb@office.example.cn"],
        recipient_name="办公室", context={}, level=0,
    )  # fmt: skip
    message = build_message(
        row, renderer, f"{OFFICE} <duban@office.example.cn>", "office.example.cn", samples["test"]
    )
    produced["test.eml"] = message_bytes(message, now=NOW)
    compare(GOLDEN / "samples", produced)

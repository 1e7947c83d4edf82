"""The numbered 催办通知书 / 督办单 ride in the mails that tell of them (issue 31): a real check, a
real database, a real aiosmtpd; the .docx read back with python-docx."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa
from check_helpers import at, check, directory, report, task
from docx import Document
from outbox_helpers import smtp_toml, write_config
from smtp_server import SmtpServer

from notifiers.message import message_bytes
from workflow.chasing.notice_docx import DOCX_TYPE, notice_bytes
from workflow.chasing.notices import notice_view
from workflow.outbox.attachments import MAX_ATTACHMENTS, NoticeFiles
from workflow.outbox.delivery import deliver_pending
from workflow.storage.models import Notice, Notification

D = date.fromisoformat


@pytest.fixture
def server():
    with SmtpServer() as s:
        yield s


def attached(received) -> dict[str, str]:
    """filename -> the document's text, of every attachment of one received mail."""
    out = {}
    for part in received.message.iter_attachments():
        assert part.get_content_type() == DOCX_TYPE
        doc = Document(io.BytesIO(part.get_content()))
        text = [p.text for p in doc.paragraphs]
        text += [c.text for t in doc.tables for r in t.rows for c in r.cells]
        out[part.get_filename()] = "\n".join(text)
    return out


def mails_to(server, address: str) -> list:
    return [r for r in server.received if address in r.rcpt_tos]


def test_the_unit_gets_its_cuiban_and_the_leader_the_dubans(db, tmp_path, server):
    with db.session() as s:
        directory(s)
        a, b = task(s, "修订指南", D("2026-03-02"), "公开科", "法规科")
        (c,) = task(s, "更新专栏", D("2026-03-02"), "公开科")
    config = write_config(tmp_path, smtp_toml(server))
    check(db, D("2026-03-03"))  # 1 working day late: the units' 催办通知书
    with db.session() as s:
        report(s, c, D("2026-03-03"))  # reported after the check, before the mail goes out
    deliver_pending(db, config, at(D("2026-03-03"), 10))
    (unit_mail,) = [m for m in mails_to(server, "gk@office.example.cn") if m.message.is_multipart()]
    files = attached(unit_mail)
    with db.session() as s:
        numbers = {n.assignment_id: n for n in s.exec(sa.select(Notice)).scalars()}
    assert numbers[c].kind == "cuiban"  # issued, but the item was reported since: not attached
    (name,) = files
    assert name == "催办〔2026〕1号催办通知书（公开科）.docx"
    assert "催办〔2026〕1号" in files[name] and "修订指南" in files[name]
    assert "黄色催办" in files[name] and "更新专栏" not in files[name]
    assert "修订指南" in unit_mail.text  # the body is the usual one

    check(db, D("2026-03-06"))  # 4 working days late: the leader in charge
    deliver_pending(db, config, at(D("2026-03-06"), 10))
    (leader_mail,) = [
        m for m in mails_to(server, "zhang@office.example.cn") if m.message.is_multipart()
    ]
    assert leader_mail.message["X-Duban-Key"].startswith("escalation:")
    files = attached(leader_mail)
    assert sorted(files) == [
        "督办〔2026〕1号督办单（公开科）.docx",
        "督办〔2026〕2号督办单（法规科）.docx",
    ]
    for name, unit in (("督办〔2026〕1号督办单（公开科）.docx", "公开科"),
                       ("督办〔2026〕2号督办单（法规科）.docx", "法规科")):  # fmt: skip
        assert name.removesuffix(f"督办单（{unit}）.docx") in files[name]
        assert "修订指南" in files[name] and unit in files[name] and "橙色督办" in files[name]
    # mails without notices carry none (a reminder, the test mail: see the golden mails)
    with db.session() as s:
        kinds = {r.kind for r in s.exec(sa.select(Notification)).scalars()}
    assert {"overdue", "escalation"} <= kinds


def test_a_mail_is_the_same_bytes_whenever_it_is_built(db):
    with db.session() as s:
        directory(s)
        task(s, "修订指南", D("2026-03-02"), "公开科")
    check(db, D("2026-03-16"))  # every level at once
    with db.session() as s:
        notices = list(s.exec(sa.select(Notice).order_by(Notice.id)).scalars())
        rows = list(s.exec(sa.select(Notification).order_by(Notification.id)).scalars())
    assert len(notices) == 3
    for n in notices:
        data = notice_bytes(notice_view(n))
        assert data == notice_bytes(notice_view(n))
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert {i.date_time for i in z.infolist()} == {(2026, 3, 16, 0, 0, 0)}

    def build() -> dict[str, bytes]:
        files = NoticeFiles()
        mails = {r.key: (r, dict(r.context)) for r in rows if r.channel == "email"}
        with db.engine.connect() as conn:
            assert files.find(mails)
            files.fetch(conn)
        return {k: b"".join(a.data for a in files.for_row(k)) for k in mails}

    first, second = build(), build()
    assert first == second
    carrying = {r.kind for r in rows if first.get(r.key)}
    assert carrying == {"overdue", "digest"}  # a Monday: the escalations ride in the digests
    by_name = {r.recipient_name: first[r.key] for r in rows if r.kind == "digest"}
    assert set(by_name) == {"张副主任", "李主任"}
    assert by_name["张副主任"] != by_name["李主任"]  # the orange 督办单 and the red one


def test_at_most_the_cap_per_mail_by_number(db):
    from workflow.chasing.policy import Policy

    with db.session() as s:
        directory(s)
        ids = [
            task(s, f"任务{i}", D("2026-03-02"), "公开科")[0] for i in range(MAX_ATTACHMENTS + 3)
        ]
    check(db, D("2026-03-03"), Policy(items_per_unit=30, items_per_mail=50))
    with db.session() as s:
        (row,) = [
            r
            for r in s.exec(sa.select(Notification)).scalars()
            if r.kind == "overdue" and r.channel == "email"
        ]
        assert len(row.context["items"]) == len(ids)
        files = NoticeFiles()
        assert files.find({row.key: (row, dict(row.context))})
        files.fetch(s.connection())
    got = files.for_row(row.key)
    assert len(got) == MAX_ATTACHMENTS
    assert [a.filename.split("号")[0] for a in got] == [
        f"催办〔2026〕{i}" for i in range(1, MAX_ATTACHMENTS + 1)
    ]
    assert len(message_bytes_of(row, got)) < 32_000 * MAX_ATTACHMENTS  # ~22 KB a .docx, base64


def message_bytes_of(row, attachments) -> bytes:
    from notifiers.message import Message

    return message_bytes(
        Message(
            row.key,
            "<x@office.example.cn>",
            "a@office.example.cn",
            ("b@x.cn",),
            "s",
            "t",
            attachments=attachments,
        )  # fmt: skip
    )

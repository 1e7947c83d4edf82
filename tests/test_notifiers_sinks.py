"""Dry-run sinks: console output and .eml files, with the SMTP sink's contract."""

from __future__ import annotations

import io
from datetime import date, datetime
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from notifiers.message import Message, make_message_id
from notifiers.render import Renderer
from notifiers.sinks import ConsoleSink, FileSink

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def rendered_message(
    key: str = "digest:李副局长:2026-03-02", to=("李副局长 <li@office.example.cn>",)
):
    item = {
        "assignment_id": "A-1",
        "task_title": "及时发布政策解读",
        "section": "一、深化重点领域信息公开",
        "due": date(2026, 2, 26),
        "working_days": -3,
        "state_label": "已逾期",
        "last_report": None,
        "last_report_at": None,
    }
    mail = Renderer().render(
        "digest",
        {
            "office": "江门市政务公开办公室",
            "leader": "李副局长",
            "as_of": date(2026, 3, 2),
            "period_label": "2026年第10周",
            "units": [{"unit": "政法科", "items": [item]}],
        },
    )
    return Message(
        key=key,
        message_id=make_message_id(key, "office.example.cn"),
        sender="江门市政务公开办公室 <duban@office.example.cn>",
        to=tuple(to),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
    )


def test_file_sink_writes_a_parseable_eml_per_key(tmp_path: Path):
    message = rendered_message()
    seen = []
    sink = FileSink(tmp_path / "out", now=lambda: NOW)
    [result] = sink.deliver([message], seen.append)
    assert result.status == "sent" and seen == [result]

    path = sink.path_for(message.key)
    assert path.parent == tmp_path / "out" and path.suffix == ".eml"
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == message.message_id
    assert parsed["Subject"] == message.subject
    assert parsed["To"].addresses[0].display_name == "李副局长"
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    # Text bodies travel in canonical form (CRLF line ends, RFC 2045) inside base64.
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == message.text
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == message.html

    # Delivering the same key again replaces the file: one file per notification.
    sink.deliver([message])
    assert [p.name for p in (tmp_path / "out").iterdir()] == [path.name]


def test_file_names_are_safe_and_distinct(tmp_path: Path):
    sink = FileSink(tmp_path)
    a, b = sink.path_for("overdue/政法科/1"), sink.path_for("overdue/政法科/2")
    assert a != b
    assert "/" not in a.name and a.parent == tmp_path


def test_console_sink_prints_the_message():
    out = io.StringIO()
    message = rendered_message()
    [result] = ConsoleSink(out).deliver([message])
    assert result.status == "sent"
    text = out.getvalue()
    assert message.subject in text
    assert message.message_id in text
    assert "李副局长 <li@office.example.cn>" in text
    assert "政法科" in text
    assert "<table" not in text  # the text part, not the HTML


def test_sinks_refuse_messages_without_a_usable_address(tmp_path: Path):
    bad = rendered_message(key="k-bad", to=("不是地址",))
    out = io.StringIO()
    [console] = ConsoleSink(out).deliver([bad])
    [filed] = FileSink(tmp_path).deliver([bad])
    assert console.status == filed.status == "permanent"
    assert out.getvalue() == ""
    assert list(tmp_path.iterdir()) == []

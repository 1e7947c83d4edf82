"""The wire form written directly (``message_bytes``) reads back exactly as the stdlib's
``email.policy`` build of the same message: same headers, same bodies (a property)."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifiers.message import (
    SHANGHAI,
    Attachment,
    Message,
    build_email,
    make_message_id,
    message_bytes,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
HEADERS = ("Message-ID", "Date", "From", "To", "Cc", "Subject", "Auto-Submitted", "X-Duban-Key")

text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=120
)
cjk = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=40)
name = st.one_of(
    st.just(""), cjk, st.from_regex(r"[A-Za-z][A-Za-z ]{0,20}[A-Za-z]", fullmatch=True)
)
body = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=600)


def parsed(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def same(message: Message) -> None:
    old = parsed(build_email(message, now=NOW).as_bytes())
    new_bytes = message_bytes(message, now=NOW)
    assert all(len(line) <= 998 for line in new_bytes.split(b"\r\n"))
    assert new_bytes.isascii()
    # wire form, sent as is by notifiers.email._transaction: CRLF line ends only, a final
    # CRLF, no line starting with a dot (nothing to dot-stuff)
    assert new_bytes.endswith(b"\r\n")
    assert new_bytes.count(b"\n") == new_bytes.count(b"\r") == new_bytes.count(b"\r\n")
    assert not new_bytes.startswith(b".") and b"\n." not in new_bytes
    new = parsed(new_bytes)
    for header in HEADERS:
        if header in ("From", "To", "Cc"):
            # a display name longer than one encoded word reads back with a space where the
            # words meet, in both forms alike (the stdlib parser's doing): compare without
            assert "".join(str(new[header]).split()) == "".join(str(old[header]).split())
        else:
            assert str(new[header]) == str(old[header]), header
    assert new.get_content_type() == old.get_content_type()
    for kind in ("plain", "html"):
        a, b = old.get_body((kind,)), new.get_body((kind,))
        assert (a is None) == (b is None)
        if a is not None:
            assert b.get_content() == a.get_content()
    old_files = [
        (p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
        for p in old.iter_attachments()
    ]
    new_files = [
        (p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
        for p in new.iter_attachments()
    ]
    assert new_files == old_files
    assert [(a.filename, a.mime_type, a.data) for a in message.attachments] == new_files
    assert not new.defects
    assert not any(part.defects for part in new.walk())


filename = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters='"\\/'
    ),
    min_size=1,
    max_size=40,
).filter(lambda n: n.strip() == n and n.strip())
attachment = st.builds(
    Attachment,
    filename=st.one_of(filename, st.sampled_from(["督办〔2026〕12号督办单（公开科）.docx", "a b.docx"])),
    mime_type=st.sampled_from(
        ["application/octet-stream", "application/pdf", "image/png",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
    ),
    data=st.binary(max_size=400),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    subject=text,
    to_name=name,
    sender_name=name,
    plain=body,
    html=st.one_of(st.none(), body),
    files=st.lists(attachment, max_size=3),
)
def test_direct_wire_form_reads_back_like_the_stdlib_build(
    subject, to_name, sender_name, plain, html, files
):
    subject = " ".join(subject.split()) or "提醒"
    sender = (
        f"{sender_name} <duban@office.example.cn>" if sender_name else "duban@office.example.cn"
    )
    to = f"{to_name} <unit@units.example.cn>" if to_name else "unit@units.example.cn"
    same(Message("k:1", make_message_id("k:1", "office.example.cn"), sender, (to,), subject,
                 plain, html, attachments=tuple(files)))  # fmt: skip


@pytest.mark.parametrize(
    "subject",
    ["【督办提醒】《政策解读专栏更新》将于3月5日到期（剩余3个工作日）", "Plain ASCII subject",
     "x" * 200, "混合 mixed 文字 " * 12],
)  # fmt: skip
def test_long_cjk_subjects_and_several_recipients(subject):
    message = Message(
        "reminder:u1:2026-03-02:abc",
        make_message_id("reminder:u1:2026-03-02:abc", "office.example.cn"),
        "江门市政务公开办公室 <duban@office.example.cn>",
        ("政法科 <a@units.example.cn>", "b@units.example.cn", "O'Brien <c@units.example.cn>"),
        subject,
        "第一行\n第二行\r\n第三行",
        "<p>正文</p>",
        cc=("办公室 <d@office.example.cn>",),
    )
    same(message)


def _words_one_character_at_a_time(value: str) -> str:
    """The encoded words as first written (a character at a time): the reference."""
    import base64

    words, chunk, size = [], [], 0
    for ch in value:
        n = len(ch.encode("utf-8"))
        if size + n > 45 and chunk:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ch)
        size += n
    if chunk:
        words.append("".join(chunk))
    return "\r\n ".join(
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    )


def _body_by_lines(text: str) -> bytes:
    """The base64 body as first written (split into lines, joined with CRLF): the reference."""
    import base64

    data = b"\r\n".join(text.encode("utf-8").splitlines()) + b"\r\n"
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(text, cjk, body, st.text(st.characters(codec="utf-8"), max_size=200)))
def test_encoded_words_and_bodies_are_byte_for_byte_the_first_ones(value):
    from notifiers.message import _base64_body, _encoded_words

    assert _encoded_words(value) == _words_one_character_at_a_time(value)
    assert _base64_body(value) == _body_by_lines(value)

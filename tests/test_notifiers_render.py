"""Rendering notification mails from the jinja2 templates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import markupsafe
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from notifiers.render import (
    CONTEXT_KEYS,
    GRADE_STYLE,
    KINDS,
    Renderer,
    RenderError,
    _escape,
    cn_date,
    days_text,
    grade_for,
)

AS_OF = date(2026, 3, 2)
CJK = re.compile(r"[\u4e00-\u9fff]")


def item(n: int, working_days: int, report: str | None = None, **extra) -> dict:
    return {
        "assignment_id": f"A-{n}",
        "task_title": f"第{n}项：及时发布政策解读",
        "section": "一、深化重点领域信息公开",
        "due": date(2026, 3, 5),
        "working_days": working_days,
        "state_label": "办理中",
        "last_report": report,
        "last_report_at": date(2026, 2, 27) if report else None,
        **extra,
    }


def context(kind: str) -> dict:
    """A complete context for ``kind``, with exactly the keys the kind documents."""
    full = {
        "office": "江门市政务公开办公室",
        "unit": "政法科",
        "recipient": "王科长",
        "as_of": AS_OF,
        "items": [item(1, 3, "已完成初稿，待审核"), item(2, -2), item(3, 0)],
        "level": 1,
        "leader": "李副局长",
        "report_due": date(2026, 7, 31),
        "period_label": "2026年第10周",
        "units": [
            {"unit": "政法科", "items": [item(1, -3)]},
            {"unit": "财务科", "items": []},
            {"unit": "信息科", "items": [item(4, 1, "进行中")]},
        ],
        "host": "smtp.example.cn",
        "ack_within_days": 2,
        "decision": "returned",  # a decision (issue 29)
        "assignment_id": 7,
        "task_title": "及时发布政策解读",
        "due": date(2026, 3, 5),
        "code": "one-time-code",  # a sign-in link (issue 29)
        "minutes": 15,
    }
    return {k: full[k] for k in CONTEXT_KEYS[kind]}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_chinese_text_and_html(renderer, kind):
    mail = renderer.render(kind, context(kind))
    for part in (mail.subject, mail.text, mail.html):
        assert CJK.search(part), part
    assert "\n" not in mail.subject
    assert "<" not in mail.text  # the text part is plain text, no markup
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert "charset=utf-8" in mail.html
    # Mail-client safe: table layout, inline styles only.
    assert "<table" in mail.html
    assert "<style" not in mail.html.lower()
    assert "flex" not in mail.html.lower()
    assert "<div" not in mail.html.lower()


@pytest.mark.parametrize("kind", ["reminder", "due_today", "overdue", "progress_request"])
def test_item_kinds_show_grades_days_and_last_report(renderer, kind):
    mail = renderer.render(kind, context(kind))
    for part in (mail.text, mail.html):
        assert "红色预警" in part and "黄色预警" in part and "蓝色预警" in part
        assert "已逾期2个工作日" in part
        assert "剩余3个工作日" in part
        assert "今天到期" in part
        assert "已完成初稿，待审核" in part
        assert "2026年2月27日" in part
        assert "尚未报送进展" in part
        assert "2026年3月5日（周四）" in part
    for grade in ("red", "yellow", "blue"):
        assert GRADE_STYLE[grade]["bar"] in mail.html


def test_items_are_listed_most_urgent_first(renderer):
    text = renderer.render("reminder", context("reminder")).text
    assert text.index("第2项") < text.index("第3项") < text.index("第1项")


def test_subjects(renderer):
    one = {**context("overdue"), "items": [item(1, -4)]}
    assert (
        renderer.render("overdue", one).subject
        == "【逾期通知】《第1项：及时发布政策解读》已逾期4个工作日"
    )
    assert (
        renderer.render("overdue", context("overdue")).subject
        == "【逾期通知】政法科有3项任务已逾期"
    )
    esc = renderer.render("escalation", context("escalation")).subject
    assert esc == "【逾期督办·分管领导】您分管的政法科有3项任务经提醒仍未报送"
    esc2 = renderer.render("escalation", {**context("escalation"), "level": 2}).subject
    assert esc2 == "【逾期督办·主要领导】政法科有3项任务经提醒仍未报送"
    digest = renderer.render("digest", context("digest")).subject
    assert digest == "【督办汇总】2026年第10周：您分管的2个单位2项任务逾期需关注"


def test_digest_is_grouped_by_unit_and_skips_empty_units(renderer):
    mail = renderer.render("digest", context("digest"))
    for part in (mail.text, mail.html):
        assert part.index("政法科") < part.index("信息科")
        assert "财务科" not in part
        assert "李副局长" in part


def test_digest_with_nothing_is_never_rendered(renderer):
    ctx = context("digest")
    with pytest.raises(RenderError):
        renderer.render("digest", {**ctx, "units": []})
    with pytest.raises(ValueError):  # RenderError is a ValueError
        renderer.render("digest", {**ctx, "units": [{"unit": "财务科", "items": []}]})
    with pytest.raises(RenderError):
        renderer.render("reminder", {**context("reminder"), "items": []})


def test_unit_written_text_is_escaped_in_html(renderer):
    evil = "<script>alert('x')</script>\n第二行 & <b>粗体</b>"
    ctx = {
        **context("reminder"),
        "unit": "<i>政法科</i>",
        "items": [item(1, 2, evil, task_title="<img src=x onerror=alert(1)>")],
    }
    mail = renderer.render("reminder", ctx)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "<img" not in mail.html
    assert "<b>粗体" not in mail.html
    assert "<i>政法科" not in mail.html
    assert "&amp;" in mail.html
    assert "<br>第二行" in mail.html  # line breaks are kept, as markup we produced
    # The text part is not HTML: it shows what the unit wrote.
    assert "<script>alert('x')</script>" in mail.text


def test_missing_context_fails_loudly(renderer):
    ctx = context("reminder")
    del ctx["recipient"]
    with pytest.raises(RenderError, match="recipient"):
        renderer.render("reminder", ctx)
    broken = context("escalation")
    broken["items"] = [dict(broken["items"][0])]
    del broken["items"][0]["due"]
    with pytest.raises(RenderError, match=r"items\[0\]\.due"):
        renderer.render("escalation", broken)
    with pytest.raises(RenderError, match="units"):
        renderer.render("digest", {k: v for k, v in context("digest").items() if k != "units"})


def test_bad_values_are_rejected(renderer):
    with pytest.raises(RenderError, match="due"):
        renderer.render("reminder", {**context("reminder"), "items": [item(1, 2, due="3月5日")]})
    with pytest.raises(RenderError, match="grade"):
        renderer.render("reminder", {**context("reminder"), "items": [item(1, 2, grade="green")]})
    with pytest.raises(RenderError, match="未知的通知类型"):
        renderer.render("birthday", {})


def test_strict_undefined_in_an_office_template(tmp_path: Path):
    (tmp_path / "reminder.subject.txt").write_text("{{ no_such_value }} 提醒", encoding="utf-8")
    with pytest.raises(RenderError, match="no_such_value"):
        Renderer(tmp_path).render("reminder", context("reminder"))
    (tmp_path / "reminder.subject.txt").write_text("{{ items[0].no_such_field }}", encoding="utf-8")
    with pytest.raises(RenderError, match="no_such_field"):
        Renderer(tmp_path).render("reminder", context("reminder"))


def test_office_override_wins(tmp_path: Path, renderer):
    (tmp_path / "reminder.subject.txt").write_text(
        "【{{ office }}】请{{ unit }}抓紧办理", encoding="utf-8"
    )
    (tmp_path / "_base.html").write_text(
        "<!DOCTYPE html><html><body><table><tr><td>本局专用版式</td></tr>"
        "<tr><td>{% block body %}{% endblock %}</td></tr></table></body></html>",
        encoding="utf-8",
    )
    mail = Renderer(tmp_path).render("reminder", context("reminder"))
    default = renderer.render("reminder", context("reminder"))
    assert mail.subject == "【江门市政务公开办公室】请政法科抓紧办理"
    assert "本局专用版式" in mail.html  # the office's layout, with the built-in body
    assert "第1项：及时发布政策解读" in mail.html
    assert mail.text == default.text  # not overridden: the built-in template


def test_override_syntax_error_names_the_file(tmp_path: Path):
    (tmp_path / "overdue.txt").write_text("{% if %}", encoding="utf-8")
    with pytest.raises(RenderError, match="overdue.txt"):
        Renderer(tmp_path).render("overdue", context("overdue"))


def test_missing_override_dir_is_an_error(tmp_path: Path):
    with pytest.raises(RenderError):
        Renderer(tmp_path / "nope")


def test_grade_thresholds():
    assert grade_for(-1) == "red"
    assert grade_for(-30) == "red"
    assert grade_for(0) == "yellow"
    assert grade_for(1) == "yellow"
    assert grade_for(2) == "blue"
    assert grade_for(40) == "blue"


def test_explicit_grade_wins(renderer):
    """A task that is behind though not yet due can be flagged yellow by the caller."""
    ctx = {**context("reminder"), "items": [item(1, 10, grade="yellow")]}
    mail = renderer.render("reminder", ctx)
    assert "黄色预警" in mail.text
    assert "蓝色预警】" not in mail.text


def test_context_is_not_mutated(renderer):
    ctx = context("reminder")
    before = [dict(i) for i in ctx["items"]]
    renderer.render("reminder", ctx)
    assert ctx["items"] == before


def test_filters():
    assert cn_date(date(2026, 3, 5)) == "2026年3月5日"
    assert cn_date(date(2026, 3, 5), weekday=True) == "2026年3月5日（周四）"
    assert days_text(3) == "剩余3个工作日"
    assert days_text(0) == "今天到期"
    assert days_text(-2) == "已逾期2个工作日"


LATE = [item(1, -5), item(2, -3)]
UNITS = [
    {
        "unit": "政法科",
        "items": LATE,
        "total": 42,
        "omitted": 40,
        "more_at": "https://d.example/board",
    },
    {"unit": "信息科", "items": [item(4, -1)]},
]


@pytest.mark.parametrize(
    ("level", "sentence"),
    [
        (
            1,
            "您分管的2个单位有43项政务公开任务已超过完成时限，经提醒仍未报送，请督促上述单位于2026年3月5日前报送",
        ),
        (
            2,
            "截至2026年3月2日，2个单位有43项政务公开任务已超过完成时限，经提醒仍未报送，请督促上述单位于2026年3月5日前报送",
        ),
    ],
)
def test_escalation_reads_as_an_escalation_by_level(renderer, level, sentence):
    ctx = {**context("escalation"), "level": level, "units": UNITS, "report_by": date(2026, 3, 5)}
    mail = renderer.render("escalation", ctx)
    for part in (mail.text, mail.html):
        assert sentence in part.replace(" ", "")
        assert ("您分管的" in part) == (level == 1)
        assert "汇总" not in part
        for head in ("单位", "任务", "截止", "逾期工作日", "状态"):
            assert head in part
        assert "另有40项未列出" in part.replace(" ", "")
        assert "https://d.example/board" in part


def test_digest_is_a_compact_table_counts_first_and_bounded(renderer):
    ctx = {**context("digest"), "units": UNITS, "level": 2}
    mail = renderer.render("digest", ctx)
    for part in (mail.text, mail.html):
        flat = part.replace(" ", "")
        assert "共有43项" in flat and "您分管的" not in part
        # counts per unit come before the table
        assert flat.index("42项") < flat.index("第1项")
        assert "另有40项未列出" in flat
    assert mail.subject == "【督办汇总】2026年第10周：2个单位43项任务逾期需关注"


@pytest.mark.parametrize(
    ("working_days", "grade"),
    [(-1, "红色预警"), (0, "黄色预警"), (1, "黄色预警"), (3, "蓝色预警"), (4, None), (87, None)],
)
def test_grades_only_inside_the_warning_window(renderer, working_days, grade):
    ctx = {**context("progress_request"), "items": [item(1, working_days)], "warning_days": 3}
    mail = renderer.render("progress_request", ctx)
    for part in (mail.text, mail.html):
        shown = [
            g
            for g in ("红色预警", "黄色预警", "蓝色预警")
            if f"{g}</span>" in part or f"【{g}】" in part
        ]
        assert shown == ([grade] if grade else [])


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.text(),
        st.text(alphabet="&<>'\"ab 中文\n").map(Markup),
        st.integers(),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False),
        st.dates(),
    )
)
def test_the_renderers_escape_is_markupsafes(value):
    """HTML templates escape with render._escape (cheaper): the very same text as markupsafe."""
    got = _escape(value)
    assert type(got) is Markup
    assert str(got) == str(markupsafe.escape(value))


def test_html_templates_escape_with_the_cheaper_escape(renderer):
    mail = renderer.render("reminder", context("reminder"))
    assert mail.html  # loaded and rendered: its module calls render._escape
    for name in ("reminder.html", "_base.html", "_macros.html", "_howto.html"):
        assert renderer.env.get_template(name).root_render_func.__globals__["escape"] is _escape

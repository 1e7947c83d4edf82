"""Office template overrides run sandboxed and are checked when loaded (issue 12, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_server import SmtpServer

from notifiers.render import Renderer, TemplateOverrideError, sample_contexts

SENDER = "江门市政务公开办公室 <duban@office.example.cn>"


@pytest.mark.parametrize(
    ("name", "body", "line", "words"),
    [
        ("reminder.txt", "{{ recipient }}：\n\n{{ 1/0 }}\n", 3, "ZeroDivisionError"),
        ("reminder.txt", "{{ recipient }}\n{{ no_such_value }}\n", 2, "no_such_value"),
        ("reminder.html", "<p>\n{% if %}\n</p>\n", 2, "语法错误"),
        ("digest.subject.txt", "{{ ''.__class__.__mro__ }}", 1, "__class__"),
        ("_base.html", "{{ office.__init__.__globals__ }}", 1, "__init__"),
        ("reminder.subject.txt", "{{ cycler.__init__.__globals__.os }}", 1, "__init__"),
    ],
)
def test_a_broken_or_unsafe_override_is_refused_at_load_naming_file_and_line(
    tmp_path, name, body, line, words
):
    (tmp_path / name).write_text(body, encoding="utf-8")
    with pytest.raises(TemplateOverrideError) as caught:
        Renderer(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / name) in message and f"第 {line} 行" in message
    assert words in message and "\n" not in message


def test_a_good_override_renders_sandboxed(tmp_path):
    (tmp_path / "reminder.subject.txt").write_text("【本办】{{ unit }}{{ items|length }}项")
    mail = Renderer(tmp_path).render("reminder", sample_contexts()["reminder"])
    assert mail.subject == "【本办】示例单位2项"
    assert "如何报送" in mail.text  # the built-in body, with the shared how-to block


def test_an_override_edited_between_runs_is_read_again(tmp_path):
    """Compiled templates are kept for the process (render._COMPILED), checked against the
    source: a renderer built after the office edits a file renders the new one, or refuses it."""
    subject = tmp_path / "reminder.subject.txt"
    context = sample_contexts()["reminder"]
    subject.write_text("【甲】{{ unit }}")
    assert Renderer(tmp_path).render("reminder", context).subject == "【甲】示例单位"
    subject.write_text("【乙】{{ unit }}")
    assert Renderer(tmp_path).render("reminder", context).subject == "【乙】示例单位"
    subject.write_text("【丙】\n{{ unit")
    with pytest.raises(TemplateOverrideError) as caught:
        Renderer(tmp_path)
    assert str(subject) in str(caught.value) and "第 2 行" in str(caught.value)
    subject.write_text("【丁】{{ unit }}\n{{ 1/0 }}")
    for _ in range(2):  # compiled, then from the kept code: the same file and line
        with pytest.raises(TemplateOverrideError) as caught:
            Renderer(tmp_path)
        message = str(caught.value)
        assert str(subject) in message and "第 2 行" in message and "ZeroDivisionError" in message


@pytest.fixture
def office(duban):
    duban.ok("unit", "add", "公开科", "--email", "gk@office.example.cn")
    duban.ok("task", "add", "政策解读专栏更新", "--unit", "公开科", "--due", "2026-03-05")
    return duban


def test_cli_with_a_broken_override_exits_7_sends_and_changes_nothing(office):
    config_dir = Path(office.env["DUBAN_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    with SmtpServer() as server:
        (config_dir / "duban.toml").write_text(
            f'[smtp]\nhost = "{server.host}"\nport = {server.port}\ntls = "none"\n'
            f'from = "{SENDER}"\n',
            encoding="utf-8",
        )
        office.ok("check")
        before = office.json("notify", "list")
        (config_dir / "templates").mkdir()
        (config_dir / "templates" / "reminder.txt").write_text("{{ recipient }}\n{{ 1/0 }}\n")
        for args in (("notify", "send"), ("notify", "preview", "reminder", "--task", "1")):
            result = office(*args)
            error = result.stderr.strip()
            assert result.exit_code == 7, result.output
            assert error.startswith("错误：") and "reminder.txt" in error and "第 2 行" in error
            assert len(error.splitlines()) == 1 and "Traceback" not in result.output
        assert office.json("notify", "list") == before
        assert {(r["state"], r["attempts"]) for r in before} == {("pending", 0)}
        assert server.received == []
        (config_dir / "templates" / "reminder.txt").write_text("{{ recipient }}：请办理\n")
        office.ok("notify", "send")
        assert [r.text.splitlines()[0] for r in server.received] == ["公开科：请办理"]

"""docs/commands.md is what ``python -m cli.commands_doc`` writes from today's ``--help``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_command_reference_is_current():
    from cli.commands_doc import PAGE, render

    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/commands.md is out of date: run .venv/bin/python -m cli.commands_doc"
    )


def test_the_reference_has_every_command_and_matches_a_real_help():
    from cli.commands_doc import PAGE
    from cli.main import COMMANDS

    text = PAGE.read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"## `duban {name}`" in text, name
    # one real process, with a narrow terminal: the page does not depend on the terminal
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "task", "report", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in text

"""The one firm rule: arrows point one way (cli → workflow → states / calendars / notifiers)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "states": {"workflow", "cli", "calendars", "notifiers", "sqlalchemy", "sqlmodel"},
    "calendars": {"workflow", "cli", "states", "notifiers", "sqlalchemy", "sqlmodel"},
    "notifiers": {"workflow", "cli", "states", "calendars", "sqlalchemy", "sqlmodel"},
    "workflow": {"cli"},
    "cli": {"sqlalchemy", "sqlmodel"},  # the CLI parses and renders; queries live in workflow/
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_arrows_point_one_way(package):
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN[package])
        for p in (ROOT / package).rglob("*.py")
        if _imports(p) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_help_does_not_import_the_heavy_modules():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from cli.main import cli\n"
        "r = CliRunner().invoke(cli, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('sqlmodel', 'sqlalchemy', 'transitions', 'holidays', 'jinja2', 'openpyxl', 'docx', 'aiosmtplib', 'apscheduler', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""


def test_cli_never_touches_the_models():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "cli").rglob("*.py")
        if "workflow.storage.models" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []

"""The README stays short and its commands true; every page of docs/ is reachable and its links
lead somewhere (issue 28)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    assert [i for i, line in enumerate(lines, 1) if len(line) > 200] == []


def test_the_readme_test_command_is_the_one_ci_runs():
    readme = README.read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r'^TEST_COMMAND="(.+)"$', ci, flags=re.M)[1]
    assert f"```bash\n{command}\n```" in readme
    assert ".venv/bin/python .ci/mypy_baseline.py" in ci
    install = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/duban demo"
    assert f"```bash\n{install}\n```" in readme


def test_every_relative_link_leads_to_a_file_and_every_page_is_linked():
    linked: set[Path] = set()
    broken = []
    for page in _pages():
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
            linked.add(path)
    assert broken == []
    unlinked = [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked]
    assert unlinked == []
    shots = [p.name for p in sorted((DOCS / "screenshots").glob("*.png"))]
    unit_guide = (DOCS / "unit-guide.md").read_text(encoding="utf-8")
    assert sum(f"screenshots/{s}" in unit_guide for s in shots) >= 5

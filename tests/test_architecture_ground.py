"""The ground of ``workflow/`` (issue 28): at most 12 modules at its top, grouped into packages
an office's developer would name, and the arrows among them.

    vocabulary  ←  errors  ←  config  ←  secretbox, storage/, dates/, writing/

``vocabulary`` (when present) imports nothing of ``workflow``; ``errors`` only ``vocabulary``;
``config`` only those two; each group only ``errors``, ``config`` and ``vocabulary`` (and modules
of its own group). A new module at the top of ``workflow/`` must be given its place here. The rooms above the ground (``directory``, ``tasks`` …) are held
by ``tests/test_architecture_rooms.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "workflow"

GROUND_MAY_USE: dict[str, set[str]] = {
    "vocabulary": set(),  # duban's words as StrEnums with their Chinese labels (issue 28)
    "errors": {"vocabulary"},
    "config": {"errors", "vocabulary"},
    "secretbox": {"errors", "config", "vocabulary"},
    "storage": {"errors", "config", "vocabulary"},
    "dates": {"errors", "config", "vocabulary"},
    "writing": {"errors", "config", "vocabulary"},
}
# what each group holds (a module added to the top of workflow/ must find its group here)
GROUPS = {
    "storage": {"db", "db_reasons", "models", "schema", "pglocks", "reading"},
    "dates": {"clock", "workdays", "due"},
    "writing": {"files", "xlsx_stream", "collector"},
}


def _top_modules() -> set[str]:
    return {p.stem for p in WORKFLOW.glob("*.py") if p.stem != "__init__"}


def _group_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "workflow":
        return None
    return parts[1] if parts[1] in GROUND_MAY_USE else None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _files_of(group: str) -> list[Path]:
    folder, module = WORKFLOW / group, WORKFLOW / f"{group}.py"
    if folder.is_dir():
        return sorted(folder.rglob("*.py"))
    return [module] if module.exists() else []


def test_at_most_twelve_modules_at_the_top_of_workflow():
    top = _top_modules()
    assert len(top) <= 12, sorted(top)
    assert top <= set(GROUND_MAY_USE), (
        f"group these with the others: {sorted(top - set(GROUND_MAY_USE))}"
    )


def test_each_group_holds_its_modules_and_says_what_it_holds():
    for group, modules in GROUPS.items():
        init = WORKFLOW / group / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), group
        assert modules <= {p.stem for p in (WORKFLOW / group).glob("*.py")}, group


def test_group_packages_import_nothing_when_imported():
    """``import workflow.storage.schema`` must not pull SQLAlchemy through the package."""
    for group in GROUPS:
        tree = ast.parse((WORKFLOW / group / "__init__.py").read_text(encoding="utf-8"))
        assert not [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)], group


@pytest.mark.parametrize("group", sorted(GROUND_MAY_USE))
def test_the_ground_imports_along_its_arrows_only(group):
    allowed = GROUND_MAY_USE[group] | {group}
    offenders = {}
    for path in _files_of(group):
        bad = set()
        for name in _imports(path):
            if name.startswith("workflow.") or name == "workflow":
                target = _group_of(name)
                if target is None and name not in ("workflow",):
                    bad.add(name)  # a room above the ground
                elif target is not None and target not in allowed:
                    bad.add(name)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}

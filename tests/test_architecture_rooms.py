"""Rooms inside ``workflow/``: each sub-package imports only the rooms below it, and no module
imports another that (directly or not) imports it back — not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "workflow"

# room -> the rooms it may import ("ground" is the top of workflow/: config, errors,
# secretbox, storage/, dates/, writing/, migrations, samples; the rules inside the ground are
# in tests/test_architecture_ground.py)
MAY_USE: dict[str, set[str]] = {
    "ground": set(),
    "directory": {"ground"},
    "tasks": {"ground", "directory"},
    "ledger": {"ground", "directory", "tasks"},
    "chasing": {"ground", "directory", "tasks"},
    "outbox": {"ground", "directory", "tasks", "chasing"},
    "evaluation": {"ground", "directory", "tasks"},
    "daemon": {"ground", "directory", "tasks", "ledger", "chasing", "outbox", "evaluation"},
    "demo": {"ground", "directory", "tasks", "ledger", "chasing", "outbox", "evaluation"},
    "calls": {"ground", "directory", "tasks", "ledger", "chasing", "outbox", "evaluation"},
    "web": {"ground", "directory", "tasks", "ledger", "chasing", "outbox", "evaluation", "calls"},
}
# issue 30: the audit log sits just above the ground (the directory records token issues), the
# operations room (backup, restore, health) above the audit log
MAY_USE["audit"] = {"ground"}
MAY_USE["operations"] = {"ground", "audit"}
for _room in ("directory", "tasks", "ledger", "chasing", "outbox", "evaluation", "demo"):
    MAY_USE[_room] = MAY_USE[_room] | {"audit"}
for _room in ("daemon", "calls", "web"):
    MAY_USE[_room] = MAY_USE[_room] | {"audit", "operations"}
# issue 29: personal accounts sit above the directory; the doors' rooms use them
MAY_USE["accounts"] = {"ground", "directory", "audit", "outbox"}
for _room in ("calls", "web"):
    MAY_USE[_room] = MAY_USE[_room] | {"accounts"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and (WORKFLOW / parts[1]).is_dir() and parts[1] in MAY_USE:
        return parts[1]
    return "ground"


def workflow_imports(path: Path) -> set[str]:
    """Every ``workflow.*`` module this file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("workflow.")}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "workflow"
        ):
            for alias in node.names:  # "from workflow.outbox import claims" names a module
                sub = f"{node.module}.{alias.name}"
                if (ROOT / sub.replace(".", "/")).with_suffix(".py").exists():
                    found.add(sub)
                else:
                    found.add(node.module)
    return found


def graph() -> dict[str, set[str]]:
    files = [p for p in WORKFLOW.rglob("*.py") if "migrations" not in p.parts]
    return {module_name(p): workflow_imports(p) - {module_name(p)} for p in files}


def test_every_room_has_a_docstring_saying_what_it_holds():
    for room in MAY_USE:
        if room == "ground" or not (WORKFLOW / room).is_dir():
            continue
        init = WORKFLOW / room / "__init__.py"
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), room


@pytest.mark.parametrize("room", sorted(MAY_USE))
def test_rooms_import_downwards_only(room):
    offenders = {
        module: sorted(
            dep for dep in deps if room_of(dep) != room and room_of(dep) not in MAY_USE[room]
        )
        for module, deps in graph().items()
        if room_of(module) == room
    }
    assert {m: d for m, d in offenders.items() if d} == {}


def test_no_import_cycles_between_modules():
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(edges.get(node, ())):
            if dep not in edges:
                continue
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []

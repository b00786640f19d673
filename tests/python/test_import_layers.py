"""Imports inside vocalmidi.hosts and vocalmidi.models point one way (no import circles).

A circle works until someone imports the other module first, then fails with a half-made
module; lazy imports inside functions only hide one. The graph here counts every import,
at module level or not, read from the source with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "pycontrol"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that the file at ``path`` imports (anywhere in it)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from vocalmidi.models import cache`` imports the submodule.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & modules


def _cycle(package: str) -> list[str] | None:
    folder = PACKAGE_ROOT / Path(*package.split("."))
    files = {_module_name(p): p for p in folder.glob("*.py") if p.name != "__init__.py"}
    graph = {name: _imports(path, set(files)) - {name} for name, path in files.items()}
    state: dict[str, int] = {}  # 1: on the current import path, 2: done
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


@pytest.mark.parametrize("package", ["vocalmidi.hosts", "vocalmidi.models"])
def test_package_has_no_import_circle(package: str) -> None:
    cycle = _cycle(package)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])

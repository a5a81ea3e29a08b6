"""The layout the README describes holds: shared/ imports no service or CLI, services never
import each other, every service has the same rooms, and no import hides in a function or
closes a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("shared", "services", "cli")
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__main__.py").exists())
ROOMS = ("__main__.py", "settings.py", "app.py", "handlers.py", "metrics.py")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path, *, top_level: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n in MODULES}


def test_shared_imports_no_service_and_no_cli() -> None:
    for name, path in MODULES.items():
        if name.split(".")[0] == "shared":
            wrong = {n for n in _imports(path, top_level=False) if n.split(".")[0] != "shared"}
            assert not wrong, f"{name} imports {sorted(wrong)}"


def test_services_never_import_each_other() -> None:
    for name, path in MODULES.items():
        parts = name.split(".")
        if parts[0] == "services" and len(parts) > 1:
            others = {
                n.split(".")[1]
                for n in _imports(path, top_level=False)
                if n.startswith("services.") and n.count(".") >= 1
            } - {parts[1]}
            assert not others, f"{name} imports services {sorted(others)}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_rooms(service: str) -> None:
    missing = [room for room in ROOMS if not (ROOT / "services" / service / room).exists()]
    assert not missing, f"services/{service} lacks {missing}"


def test_no_import_hides_inside_a_function() -> None:
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, f"{name}.{node.name} imports inside its body"


def test_no_import_circle() -> None:
    graph = {name: _imports(path, top_level=True) - {name} for name, path in MODULES.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                pytest.fail(f"import circle: {' -> '.join(circle)}")
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])

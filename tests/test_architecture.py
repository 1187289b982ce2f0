"""Dependencies point one way (scoring ← storage ← handlers ← bot); SDKs stay in adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"scoring": 0, "storage": 1, "handlers": 2, "bot": 3}
# third-party packages and the only places allowed to import them
CONFINED = {
    "telegram": ("bot/adapters/telegram",),
    "slack_bolt": ("bot/adapters/slack",),
    "slack_sdk": ("bot/adapters/slack",),
    "apscheduler": ("bot/scheduler",),
    "tinydb": ("storage/",),
    "aiohttp": ("bot/adapters/slack", "bot/adapters/telegram", "bot/api", "bot/sources"),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _sources() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_lower_layers_and_allowed_sdks(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    own = LAYERS[rel.split("/")[0]]
    for name in _imports(path):
        top = name.split(".")[0]
        if top in LAYERS:
            assert LAYERS[top] <= own, f"{rel} imports {name}: dependencies point one way"
        if top in CONFINED:
            assert rel.startswith(CONFINED[top]), f"{rel} must not import {top}"


def test_scoring_is_pure() -> None:
    for path in (ROOT / "scoring").rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top in {"scoring", "pydantic", "__future__"} or top in _STDLIB_PURE, (
                f"{path.name} imports {name}; scoring does no I/O"
            )


_STDLIB_PURE = {
    "math",
    "ast",  # formula parsing (scoring.formula): a pure tree walk, nothing is run
    "datetime",
    "enum",
    "typing",
    "dataclasses",
    "collections",
    "zoneinfo",
    "calendar",
    "functools",
    "itertools",
    "re",
    "statistics",
    "bisect",
    "operator",
    "fractions",
    "decimal",
    "heapq",
    "abc",
    "types",
    "collections.abc",
}


PACKAGES = (*LAYERS, "bench")


def _module_files() -> dict[str, Path]:
    """Every project module by dotted name (a package by its `__init__`)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules `name` imports anywhere in its file: top level, in functions, lazily."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    found.add(sub)
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def _import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph as the modules along it, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_among_project_modules_even_through_imports_inside_functions() -> None:
    modules = _module_files()
    graph = {name: _imported_modules(name, path, modules) for name, path in modules.items()}
    cycle = _import_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_cycle_finder_sees_an_import_hidden_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "kpi.py").write_text("def explain() -> None:\n    from pkg import status\n")
    (tmp_path / "status.py").write_text("from pkg.kpi import explain\n")
    modules = {"pkg.kpi": tmp_path / "kpi.py", "pkg.status": tmp_path / "status.py"}
    graph = {name: _imported_modules(name, path, modules) for name, path in modules.items()}
    assert _import_cycle(graph) == ["pkg.kpi", "pkg.status", "pkg.kpi"]
    assert _import_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_is_named_after_a_built_in() -> None:
    # `handlers/map.py` and `handlers/help.py` once shadowed map() and help()
    import builtins

    shadows = [
        str(path.relative_to(ROOT))
        for package in LAYERS
        for path in (ROOT / package).rglob("*.py")
        if path.stem in dir(builtins)
    ]
    assert shadows == []

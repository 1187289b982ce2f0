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

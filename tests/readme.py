"""The README's fenced code blocks and inline shell commands, for the tests that run them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
_FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
#: Inline `…` that is a shell command (`./dev bench`, `scorecard-bot doctor --data data`).
_INLINE_SHELL = re.compile(r"`((?:\./dev|scorecard-bot|python -m|\.venv/bin/|curl)(?: [^`]*)?)`")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language tag ("" when none), its lines and where it starts."""

    lang: str
    lines: tuple[str, ...]
    line: int

    @property
    def first(self) -> str:
        return self.lines[0] if self.lines else ""


def blocks() -> list[Block]:
    """Every fenced block of the README, in reading order (indented ones too)."""
    found = []
    for match in _FENCE.finditer(README):
        indent = len(match.group(1))
        lines = tuple(line[indent:] for line in match.group(3).splitlines())
        found.append(Block(match.group(2), lines, README.count("\n", 0, match.start()) + 1))
    return found


def block(lang: str, first: str) -> Block:
    """The one block of `lang` whose first line starts with `first`."""
    [only] = [b for b in blocks() if b.lang == lang and b.first.startswith(first)]
    return only


def inline_shell() -> list[str]:
    """Every inline shell command of the README's prose, in reading order."""
    return [m.group(1) for m in _INLINE_SHELL.finditer(README)]

"""The README section on calculated KPIs, funnels and dated targets runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import FakeChat

README = Path(__file__).resolve().parents[2] / "README.md"


def _section_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Calculated KPIs, periods and dated targets")
    end = text.index("\n## ", start + 3)
    blocks = re.findall(r"```text\n(.*?)```", text[start:end], flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith("/")]


async def test_every_command_in_the_readme_section_succeeds(chat: FakeChat) -> None:
    commands = _section_commands()
    assert len(commands) >= 6
    for command in commands:
        await chat.ok(command)

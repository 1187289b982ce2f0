"""The picture worker process loads the drawing modules, not the whole bot.

It imports the command line module again (multiprocessing re-runs the main script) and
the drawing functions by name; either pulling in every command module, the store or the
adapters would add about a second to the first picture after start.
"""

from __future__ import annotations

import subprocess
import sys

_CHECK = """
import sys
import bot.cli
import handlers.pictures.painter, handlers.pictures.strategy
import handlers.pictures.charts, handlers.pictures.dashboard
heavy = sorted(
    name for name in ("bot.app", "handlers.kpi", "handlers.map_command", "storage", "aiohttp")
    if name in sys.modules
)
print(",".join(heavy) or "light")
"""


def test_the_worker_imports_neither_the_bot_nor_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "light"

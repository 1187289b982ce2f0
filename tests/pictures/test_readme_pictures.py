"""The README's pictures are the demo's real replies (docs/pictures/*.png).

Each README example command runs on the demo scorecard; its picture must decode and keep
the committed golden's size (pixels differ slightly between font renderers, so they are
not compared byte for byte). `SCORECARD_UPDATE_PICTURES=1 pytest tests/pictures` rewrites
the goldens after a deliberate change of the look.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.app import Core
from bot.demo import load_demo
from tests.pictures.support import decode
from tests.support import FakeChat

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pictures"
EXAMPLES = {
    "/map": "map.png",
    "/map why prospects": "why.png",
    "/kpi cac chart 1y": "chart.png",
    "/scorecard": "dashboard.png",
    "/okr progress": "okr.png",
}


@pytest.fixture
async def demo(core: Core, chat: FakeChat) -> FakeChat:
    load_demo(core.store, chat.chat.key, core.ctx.clock())
    return chat


async def test_readme_pictures_are_the_demos_replies(demo: FakeChat) -> None:
    update = os.environ.get("SCORECARD_UPDATE_PICTURES") == "1"
    for command, name in EXAMPLES.items():
        replies = await demo.say(command)
        image = (await demo.core.prepare(replies[0])).image  # as the adapters send it
        assert replies[0].kind != "error" and image is not None, command
        golden = DOCS / name
        if update:
            golden.write_bytes(image.data)
        assert decode(image.data) == decode(golden.read_bytes()), command


async def test_readme_text_examples_answer(demo: FakeChat) -> None:
    assert "🔴 Create engaging content (engaging) 45%" in await demo.ok("/map text")
    assert "Score 57% · 3 objectives, 3 KPIs." in await demo.ok("/map customers")
    assert "no charts on alerts" in await demo.ok("/alerts set charts=off")
    assert "alerts and digests carry a small chart" in await demo.ok("/alerts set charts=on")

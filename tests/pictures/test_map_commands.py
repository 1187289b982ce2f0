"""`/map` as a picture, `/map text`, `/map <perspective>` and `/map why` in a chat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.app import Core
from handlers.pictures.layout import crossings
from handlers.pictures.painter import Painter, S
from handlers.pictures.strategy import MapSpec, arranged, plan
from scoring.models import Link, Objective
from tests.pictures.support import big_map, decode
from tests.support import FakeChat


@pytest.fixture
async def mapped(chat: FakeChat) -> FakeChat:
    for line in (
        '/objective add profit "Grow profit" perspective=finance',
        '/objective add traffic "Более трафика" perspective=customers',
        '/objective add articles "Publish articles" perspective=processes',
        "/objective link traffic profit",
        "/objective link articles traffic",
        '/kpi add margin "Margin" target=100 objective=profit unit=k$',
        '/kpi add visits "Blog visits" target=20000 objective=traffic owner=@anna',
        "/kpi set margin 30",
        "/kpi set visits 10000 2026-10-01",
        "/kpi set visits 12000",
        '/initiative add posts "Write posts" objective=articles cadence=4/month owner=@ivan',
        "/log posts +2",
    ):
        await chat.ok(line)
    return chat


async def test_map_is_a_picture_with_a_pointer_to_the_text_version(mapped: FakeChat) -> None:
    replies = await mapped.say("/map")
    image = replies[0].image
    assert image is not None and image.filename == "map.png"
    assert decode(image.data)[0] >= 800
    assert replies[0].plain().splitlines()[:2] == [
        "Strategy map",
        "Index 45% · 3 objectives, 2 links. /map text for the text version, /map <perspective> "
        "to zoom in, /map why <key> to trace a colour.",
    ]


async def test_map_text_keeps_the_text_map(mapped: FakeChat) -> None:
    text = await mapped.ok("/map text")
    assert "🔴 Grow profit (profit) 30%" in text and "traffic → profit" in text


async def test_map_of_one_perspective_zooms_in_with_its_kpis(mapped: FakeChat) -> None:
    replies = await mapped.say("/map customers")
    assert replies[0].plain() == (
        "Customers\nScore 60% · 1 objective, 1 KPI.\n"
        "[image map-customers.png: Customers zoomed in]"
    )


async def test_map_why_walks_down_the_causes_worst_first(mapped: FakeChat) -> None:
    replies = await mapped.say("/map why profit")
    assert replies[0].plain() == "\n".join(
        [
            "Why Grow profit is red",
            "🔴 Grow profit (profit) 30%",
            "  🔴 Margin 30 k$ of 100 k$",
            "  ← 🟡 Более трафика (traffic) 60%",
            "      🟡 Blog visits 12 000 of 20 000 (+20% in 30 days, @anna)",
            "    ← ⚪ Publish articles (articles) —",
            "        ▸ Write posts: 2 of 4 this month, 10 days left (@ivan)",
            "[image why-profit.png: Why Grow profit is red: the causes highlighted]",
        ]
    )


async def test_map_why_of_a_kpi_starts_at_the_kpi(mapped: FakeChat) -> None:
    text = await mapped.ok("/map why visits")
    assert text.splitlines()[1:3] == [
        "🟡 Blog visits 12 000 of 20 000 (+20% in 30 days, @anna)",
        "  in 🟡 Более трафика (traffic) 60%",
    ]


async def test_map_mistakes_get_one_friendly_line(mapped: FakeChat) -> None:
    assert "No perspective 'custmers'" in await mapped.error("/map custmers")
    assert "Did you mean 'profit'" in await mapped.error("/map why proft")
    assert "/map why <kpi|objective>" in await mapped.error("/map why")
    assert "/map [text|<perspective>" in await mapped.error("/map customers extra")


async def test_map_why_of_an_objective_without_data_says_it_has_no_score_yet(
    chat: FakeChat,
) -> None:
    # QA #21: "Why Grow profit is no data"
    await chat.ok('/objective add profit "Grow profit" perspective=finance')
    replies = await chat.say("/map why profit")
    assert replies[0].plain().splitlines()[0] == "Why Grow profit has no score yet"


class _Keep(Painter):
    """Draws nothing; keeps the specs it is given."""

    def __init__(self) -> None:
        super().__init__("thread")
        self.specs: list[object] = []

    async def paint(self, draw: Callable[[S], bytes], spec: S) -> bytes:
        """Keep `spec`; a blank PNG signature is enough for the reply."""
        self.specs.append(spec)
        return b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("seed", [7, 34, 50])  # 7, 34: the barycentre order alone crosses more
async def test_the_map_never_crosses_more_arrows_than_the_given_order(
    chat: FakeChat, core: Core, seed: int
) -> None:
    drawn = big_map(objectives=30, links=40, seed=seed)
    chat_key = chat.chat.key
    perspectives = core.store.scorecards.perspectives(chat_key)
    for band, perspective in zip(drawn.bands, perspectives, strict=False):
        for box in band.boxes:
            objective = Objective(key=box.key, name=box.name, perspective=perspective.key)
            core.store.scorecards.put_objective(chat_key, objective)
    for cause, effect in drawn.links:
        core.store.scorecards.add_link(chat_key, Link(cause=cause, effect=effect))
    keep = _Keep()
    core.ctx.painter = keep
    await chat.ok("/map")
    (shown,) = keep.specs
    assert isinstance(shown, MapSpec)
    given = replace(
        shown,
        bands=tuple(
            replace(band, boxes=tuple(sorted(band.boxes, key=lambda b: int(b.key[1:]))))
            for band in shown.bands
        ),
    )
    assert crossings(arranged(shown)[1].paths) <= crossings(plan(given).paths)

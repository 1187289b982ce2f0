"""New colour thresholds are checked at once, like a KPI's edited target: the colour `/kpi`
shows is the colour alerts announce, without waiting for the next value."""

from __future__ import annotations

from tests.support import FakeChat


async def test_stricter_thresholds_announce_the_kpis_that_change_colour(chat: FakeChat) -> None:
    """`/kpi` turned CAC red at once, but no alert came until someone typed a new value,
    and `/alerts` said the red would come "after 1 reading in a row (0 so far)"."""
    await chat.ok("/alerts set group=0")
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    await chat.ok("/kpi set cac 98")
    await chat.ok("/scorecard thresholds green=85 yellow=60")
    assert (await chat.ok("/alerts log")).split("\n")[2:] == [
        "21 Nov 10:00  cac  🔴 yellow → red      98 $   by @anna",
        "21 Nov 10:00  cac  🟡 no data → yellow  98 $   by @anna",
    ]
    assert (await chat.ok("/alerts")).split("\n")[1] == (
        "🔴 CAC (cac) red since 21 Nov 10:00 · 98 $ vs target 80 $"
    )

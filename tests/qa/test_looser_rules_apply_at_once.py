"""Looser alert rules are applied at once: a colour held back only by the old hysteresis or
confirm count is announced, not left "green now" until someone types a new value."""

from __future__ import annotations

from tests.support import FakeChat


async def test_a_smaller_hysteresis_resolves_an_alert_it_no_longer_holds(chat: FakeChat) -> None:
    await chat.ok("/alerts set group=0")
    await chat.ok('/kpi add leads "Leads" target=100 perspective=customers')
    await chat.ok("/kpi set leads 40 2026-11-20")
    await chat.ok("/kpi set leads 81")
    firing = (await chat.ok("/alerts")).split("\n")[1]
    assert firing.endswith("the yellow alert (since 21 Nov 10:00) clears at 85%")
    await chat.ok("/alerts set hysteresis=0")
    assert (await chat.ok("/alerts log")).split("\n")[2] == (
        "21 Nov 10:00  leads  🟢 yellow → green  81     by @anna"
    )
    assert (await chat.ok("/alerts")).split("\n")[:2] == [
        "Alerts · nothing firing",
        "Every KPI with data is green (or never alerted).",
    ]

"""`/alerts` gives a range KPI its range, as the alert itself and `/kpi` do (not its midpoint)."""

from __future__ import annotations

from tests.support import FakeChat


async def test_the_firing_list_names_a_range_kpis_range_not_the_middle(chat: FakeChat) -> None:
    await chat.ok("/alerts set group=0")
    await chat.ok(
        '/kpi add temp "Temperature" direction=range min=30 max=50 unit=°C perspective=processes'
    )
    await chat.ok("/kpi set temp 55")
    firing = (await chat.ok("/alerts")).split("\n")
    assert firing[:2] == [
        "Alerts · 1 firing",
        "🟡 Temperature (temp) yellow since 21 Nov 10:00 · 55 °C vs range 30–50 °C",
    ]
    assert "30–50 °C" in await chat.ok("/kpi")

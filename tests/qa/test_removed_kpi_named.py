"""A soft-removed KPI is named as removed (with the way back), not as a key that never existed."""

from __future__ import annotations

from tests.support import FakeChat


async def test_a_removed_kpi_says_how_to_bring_it_back_and_nothing_changes(chat: FakeChat) -> None:
    """ "No KPI 'cac'" right after removing cac read as if its history were gone."""
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok("/kpi set cac 100")
    await chat.ok("/kpi remove cac")
    line = (
        "CAC (cac) is removed from the scorecard: /kpi restore cac brings it back "
        "with its history."
    )
    assert await chat.error("/kpi set cac 90") == line
    assert await chat.error("/kpi cac") == line
    assert await chat.error("/alerts mute cac 2d") == line
    assert await chat.ok("/kpi restore cac") == "Restored CAC (cac) with its history."
    assert "100" in await chat.ok("/kpi cac")

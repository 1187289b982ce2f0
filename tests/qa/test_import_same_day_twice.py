"""`/kpi import` refuses a second value for the same KPI and day, as the API and files do."""

from __future__ import annotations

from tests.support import FakeChat


async def test_a_pasted_import_with_two_values_for_one_day_is_refused_whole(
    chat: FakeChat,
) -> None:
    """Keeping only the last of two lines silently dropped a value the preview never named."""
    await chat.ok('/kpi add leads "Leads" target=300 agg=sum perspective=customers')
    await chat.ok("/kpi set leads 7 2026-11-01")
    assert await chat.error(
        "/kpi import\nleads 40 2026-11-20\nleads 25 2026-11-21\nLEADS 12 21.11.2026"
    ) == (
        "1 line(s) need fixing, nothing was imported: "
        "line 3: a second value for leads on 2026-11-21 (line 2 has one)"
    )
    assert "1 value" in await chat.ok("/kpi history leads")

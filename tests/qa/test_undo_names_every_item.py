"""`/undo` says how many items it puts back beyond the ten it lists, as `/history` does."""

from __future__ import annotations

from tests.support import FakeChat


async def test_undoing_a_delete_for_good_counts_the_items_it_does_not_list(
    chat: FakeChat,
) -> None:
    """The preview of putting back 12 values and the KPI listed 10 values and stopped."""
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    for day in range(1, 13):
        await chat.ok(f"/kpi set v {day} 2026-11-{day:02}")
    await chat.ok("/kpi remove v")
    await chat.ok("/kpi remove v confirm")
    preview = (await chat.ok("/undo")).split("\n")
    assert preview[1] == "/kpi remove v confirm"
    assert preview[2:4] == ["v 2026-11-01: 1 (@anna) → —", "v 2026-11-02: 2 (@anna) → —"]
    assert preview[12:] == ["… and 3 more", "[Undo: /undo 2611-15]"]
    undone = (await chat.ok("/undo 2611-15")).split("\n")
    assert undone[0] == "Undone 2611-15 (@anna, /kpi remove v confirm)"
    assert undone[1] == "v 2026-11-01: — → 1 (@anna)"
    assert undone[11:] == ["… and 3 more"]
    assert "12 values" in await chat.ok("/kpi history v")

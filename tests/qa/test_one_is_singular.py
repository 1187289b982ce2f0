"""Replies about one thing say it in the singular: "1 KPI", "its 1 value" (not "1 values")."""

from __future__ import annotations

from tests.support import FakeChat


async def test_scorecard_leaves_out_1_kpi_without_data(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok('/kpi add w "Leads" target=10 perspective=customers')
    await chat.ok("/kpi set v 90")
    assert (await chat.ok("/scorecard")).split("\n")[-1] == (
        "Left out of scores (not counted as 0): 1 KPI without data. "
        "Colours: green ≥ 80%, yellow ≥ 50%."
    )


async def test_removing_a_kpi_with_one_value_says_its_1_value(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 40")
    assert await chat.ok("/kpi remove v") == (
        "Removed Visits (v) from the scorecard; its 1 value is kept until you confirm. "
        "Undo: /kpi restore v\n[Undo: /kpi restore v]  [Delete for good: /kpi remove v confirm]"
    )
    assert await chat.ok("/kpi remove v confirm") == "Deleted Visits (v) and its 1 value for good."

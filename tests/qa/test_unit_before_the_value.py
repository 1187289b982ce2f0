"""The KPI's own unit typed before the value (`$100`, `$ 100`, `€5`) is read as that value.

`95$` and `95 $` were understood, but `/kpi set cac $100`, as dollars are usually written,
was refused with "'$100' is not a number".
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_the_kpis_unit_before_the_value_is_understood(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    await chat.ok('/kpi add arpu "ARPU" baseline=10 target=20 unit=€ perspective=finance')
    assert await chat.ok("/kpi set cac $100") == ("Saved CAC = 100 $ (🟡 yellow, progress 50%).")
    assert await chat.ok("/kpi set cac $ 95 2026-11-20 after the campaign") == (
        "Saved CAC = 95 $ for 2026-11-20 (🟡 yellow, progress 62%). "
        "An older date: the latest value is unchanged."
    )
    assert await chat.ok("/kpi set arpu €12,5") == "Saved ARPU = 12.5 € (🔴 red, progress 25%)."
    assert (await chat.ok("/kpi history cac")).split("\n")[2:4] == [
        "2026-11-21  100 $  @anna",
        "2026-11-20   95 $  @anna  after the campaign",
    ]


async def test_another_currency_before_the_value_is_still_refused(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    assert await chat.error("/kpi set cac €100") == (
        "'€100' is not a number for cac: try 12.5, 12,5, 10 000, 10k or 35%"
    )
    assert "no values yet" in await chat.ok("/kpi history cac")

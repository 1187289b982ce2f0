"""A value typed with its KPI's unit (`95 $`, `95$`, `3 min`) keeps its date and no unit note."""

from __future__ import annotations

from tests.support import FakeChat


async def test_the_unit_after_the_value_is_not_the_note_and_the_date_still_counts(
    chat: FakeChat,
) -> None:
    """`/kpi set cac 95 $ 2026-11-20` had saved 95 for today with the note "$ 2026-11-20"."""
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    await chat.ok('/kpi add top "Time on page" baseline=1 target=4 unit=min perspective=customers')
    assert await chat.ok("/kpi set cac 95 $ 2026-11-20") == (
        "Saved CAC = 95 $ for 2026-11-20 (🟡 yellow, progress 62%)."
    )
    assert await chat.ok("/kpi set cac 97$ 2026-11-19 after the campaign") == (
        "Saved CAC = 97 $ for 2026-11-19 (🟡 yellow, progress 57%). "
        "An older date: the latest value is unchanged."
    )
    assert await chat.ok("/kpi set top 3 MIN") == (
        "Saved Time on page = 3 min (🟡 yellow, progress 66%)."
    )
    assert (await chat.ok("/kpi history cac")).split("\n")[1:4] == [
        "date        value  by     note",
        "2026-11-20   95 $  @anna",
        "2026-11-19   97 $  @anna  after the campaign",
    ]
    assert (await chat.ok("/kpi history top")).split("\n")[2] == "2026-11-21  3 min  @anna"


async def test_another_currency_after_the_value_is_refused_and_a_word_stays_the_note(
    chat: FakeChat,
) -> None:
    """`95 € by mistake` on a $ KPI saved 95 $ with the note "€ by mistake" (probe12):
    another currency's sign is refused (`parsing.other_currency`); a word stays the note."""
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    assert await chat.error("/kpi set cac 95 € by mistake") == (
        "95 €: CAC is counted in $, not €: convert the value to $ first, or change what it "
        "is counted in: /kpi edit cac unit=€"
    )
    await chat.ok("/kpi set cac 95 euros by mistake")
    assert "2026-11-21   95 $  @anna  euros by mistake" in await chat.ok("/kpi history cac")
    assert await chat.error("/kpi set cac 95€") == (
        "'95€' is not a number for cac: try 12.5, 12,5, 10 000, 10k or 35%"
    )

"""A day and month typed with a dot (`30.11`) is this year's date, not a note on today's value."""

from __future__ import annotations

from tests.support import FakeChat


async def _cac(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    await chat.ok("/kpi set cac 100")


async def test_day_dot_month_back_dates_like_the_words_do(chat: FakeChat) -> None:
    """`/kpi set cac 95 20.11` had replaced today's value, keeping "20.11" as its note."""
    await _cac(chat)
    assert await chat.ok("/kpi set cac 95 20.11 after the campaign") == (
        "Saved CAC = 95 $ for 2026-11-20 (🟡 yellow, progress 62%). "
        "An older date: the latest value is unchanged."
    )
    assert (await chat.ok("/kpi history cac")).split("\n")[1:4] == [
        "date        value  by     note",
        "2026-11-21  100 $  @anna",
        "2026-11-20   95 $  @anna  after the campaign",
    ]


async def test_an_impossible_or_future_day_and_month_is_refused_and_nothing_changes(
    chat: FakeChat,
) -> None:
    await _cac(chat)
    assert await chat.error("/kpi set cac 95 31.02") == (
        "'31.02' is not a real date in 2026 (check the month and day)."
    )
    assert await chat.error("/kpi set cac 95 25.12") == (
        "'25.12' is 2026-12-25, in the future (today is 2026-11-21 "
        "in this chat's timezone); only today or earlier can be recorded. "
        "For last year's, add the year: 25.12.2025."
    )
    assert "1 value" in await chat.ok("/kpi history cac")


async def test_a_decimal_after_the_value_stays_in_the_note(chat: FakeChat) -> None:
    await _cac(chat)
    await chat.ok("/kpi set cac 95 2.5 times the plan")
    assert "2026-11-21   95 $  @anna  2.5 times the plan" in await chat.ok("/kpi history cac")


async def test_an_import_line_reads_day_dot_month_too(chat: FakeChat) -> None:
    await _cac(chat)
    [preview] = await chat.say("/kpi import\ncac 95 20.11\ncac 96 19.11.2026")
    assert preview.plain().split("\n")[1] == "CAC (cac) ×2: 96 $ (2026-11-19), 95 $ (2026-11-20)"


async def test_grouped_thousands_before_a_day_and_month_are_one_number(chat: FakeChat) -> None:
    await chat.ok('/kpi add visits "Visits" target=20000 perspective=customers')
    assert await chat.ok("/kpi set visits 14 000 20.11.") == (
        "Saved Visits = 14 000 for 2026-11-20 (🟡 yellow, progress 70%)."
    )


async def test_a_day_and_month_with_a_slash_is_refused_not_kept_as_the_note(
    chat: FakeChat,
) -> None:
    """`/kpi set cac 95 30/11` had replaced today's value with "30/11" as its note; day/month
    or month/day can't be told apart, so it is refused with the two ways that can."""
    await _cac(chat)
    for typed in ("30/11", "1/12", "11/30"):
        assert await chat.error(f"/kpi set cac 95 {typed}") == (
            f"'{typed}' could be day/month or month/day: type the day first with a dot "
            "(21.11) or the whole date (2026-11-21)."
        )
    assert "1 value" in await chat.ok("/kpi history cac")

"""OKRs with check-ins and pace; initiatives with cadence and hashtag logging."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FakeChat, FixedClock


async def test_decreasing_key_result_progress_and_grade(chat: FakeChat) -> None:
    await chat.ok('/okr add fast "Answer faster" cycle=2026Q4')
    await chat.ok('/okr kr fast rt "Response time" start=24 target=4 unit=h')
    text = await chat.ok("/okr checkin rt 14 confidence=6 new rota")
    assert "50%" in text and "0.5" in text and "6/10" in text


async def test_okr_progress_compares_with_elapsed_share_of_the_cycle(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 15, 12, tzinfo=UTC)  # about half of 2026Q4
    await chat.ok('/okr add nps "Delight" cycle=2026Q4')
    await chat.ok('/okr kr nps score "NPS" start=30 target=50')
    await chat.ok("/okr checkin score 34")  # 20 % done at ~50 % elapsed
    text = await chat.ok("/okr progress")
    assert "at risk" in text
    await chat.ok("/okr checkin score 40")  # 50 %
    assert "on track" in await chat.ok("/okr progress")


async def test_okr_list_shows_current_quarter_by_default(chat: FakeChat) -> None:
    await chat.ok('/okr add old "Old one" cycle=2026Q1')
    await chat.ok('/okr add now "Current"')
    text = await chat.ok("/okr")
    assert "2026Q4" in text and "Current" in text and "Old one" not in text


async def test_okr_bad_input(chat: FakeChat) -> None:
    await chat.ok('/okr add a "A"')
    assert "start=" in await chat.error('/okr kr a k "K" target=5')
    assert "distance" in await chat.error('/okr kr a k "K" start=5 target=5')
    assert "No key result 'nothing'" in await chat.error("/okr checkin nothing 5")
    await chat.ok('/okr kr a k "K" start=0 target=5')
    assert "1 to 10" in await chat.error("/okr checkin k 5 confidence=11")
    assert "no quarter 5" in await chat.error('/okr add b "B" cycle=2026Q5')


async def test_okr_cycles_before_2000_are_refused_and_the_chat_keeps_its_cycle(
    chat: FakeChat,
) -> None:
    await chat.ok("/okr cycle 2026Q4")
    for typed in ("1926Q1", "1999"):
        assert await chat.error(f"/okr cycle {typed}") == (
            f"'{typed}' is out of range: cycles go from 2000 on, like dates; write a quarter "
            "like 2026Q4, a half like 2026H1 or a year like 2026."
        )
    assert "out of range" in await chat.error('/okr add old "Old" cycle=1999Q4')
    assert await chat.ok("/okr cycle") == (
        "Current OKR cycle: 2026Q4. Change: /okr cycle 2027Q1 (or 'auto')."
    )
    assert "No OKRs in 2026Q4" in await chat.ok("/okr")


async def test_cadence_initiative_counts_logs_in_the_current_month(chat: FakeChat) -> None:
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month owner=@anna')
    await chat.ok("/log articles +1 first")
    await chat.ok("/log articles")
    text = await chat.ok("/initiatives")
    assert "2 of 4 this month" in text and "10 days left" in text  # 21st..30th, today included


async def test_hashtag_message_logs_progress_and_unknown_hashtags_are_ignored(
    chat: FakeChat,
) -> None:
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month')
    replies = await chat.say("#articles +1 published the BSC guide")
    assert "Logged 1 on Publish articles" in replies[0].plain()
    assert await chat.say("#weekend plans anyone?") == []
    assert "1 of 4" in await chat.ok("/initiatives")


async def test_overdue_initiative_is_marked(chat: FakeChat) -> None:
    await chat.ok('/initiative add review "Review competitors" due=2026-11-01')
    assert "overdue" in await chat.ok("/initiatives")
    await chat.ok("/initiative edit review done=yes")
    assert "done" in await chat.ok("/initiatives")


async def test_initiative_bad_input(chat: FakeChat) -> None:
    assert "cadence" in (await chat.error('/initiative add a "A" cadence=lots')).lower()
    assert "names no day" in await chat.error('/initiative add a "A" due=tomorrowish')
    assert "No initiative" in await chat.error("/log nothing +1")


async def test_the_initiative_card_names_its_objective_as_the_kpi_card_does(
    chat: FakeChat,
) -> None:
    await chat.ok('/objective add writing "Write for our buyers" perspective=customers')
    await chat.ok('/kpi add posts "Posts" target=4 objective=writing')
    await chat.ok('/initiative add blog "Blog weekly" objective=writing owner=@anna')
    assert "Objective: Write for our buyers\n" in await chat.ok("/kpi posts")
    assert await chat.ok("/initiative blog") == (
        "Blog weekly (blog)\n"
        "Owner: @anna\n"
        "Objective: Write for our buyers\n"
        "Nothing logged yet: /log blog +1"
    )


async def test_a_checkin_of_an_unknown_key_result_names_it_rather_than_asking_for_a_value(
    chat: FakeChat,
) -> None:
    """`/okr checkin knps confidence=7` before knps exists said only "Missing arguments"."""
    await chat.ok('/okr add a "A"')
    await chat.ok('/okr kr a k "K" start=0 target=5')
    assert await chat.error("/okr checkin knps confidence=7") == "No key result 'knps'."
    assert (await chat.error("/okr checkin k confidence=7")).startswith("Missing arguments.")

"""QA findings on alert texts: each alert says what /kpi says, in words people can check."""

from __future__ import annotations

from bot.app import Core
from tests.alerts.support import flush, queued_text
from tests.support import FakeChat, FixedClock


async def test_an_alert_held_red_by_hysteresis_never_calls_a_later_value_the_first_reading(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok('/kpi add x "X" target=100 perspective=finance')
    await chat.ok("/kpi set x 30")
    await chat.ok("/kpi set x 52")  # replaces 30: yellow, but the red alert holds until 55%
    assert "Status: 🟡 yellow" in await chat.ok("/kpi x")
    clock.advance(seconds=60)
    flush(core)
    assert queued_text(core) == [
        "🔴 X is red\n"
        "red since 21 Nov 10:00: 52 vs target 100 (yellow now; the red alert clears at 55%)\n"
        "logged by @anna · hurts Finance\n"
        "[Explain: /kpi x explain]  [Mute 1 day: /alerts mute x 1d]"
    ]


async def test_a_range_kpi_alert_gives_the_range_not_its_midpoint(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok('/kpi add nps "NPS" direction=range min=30 max=50 perspective=finance')
    await chat.ok("/alerts set group=0")
    await chat.ok("/kpi set nps 40")
    await chat.ok("/kpi set nps 55")
    assert queued_text(core) == [
        "🟡 NPS is yellow\n"
        "green → yellow: 55 vs range 30–50\n"
        "logged by @anna · hurts Finance\n"
        "[Explain: /kpi nps explain]  [Mute 1 day: /alerts mute nps 1d]"
    ]


async def test_a_kpi_that_turned_red_while_muted_is_announced_as_turned_red_not_still_red(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok('/kpi add sql "SQLs" target=60 perspective=customers')
    await chat.ok("/alerts set group=0")
    await chat.ok("/kpi set sql 40")  # yellow, sent
    await chat.ok("/alerts mute all 1h")
    await chat.ok("/kpi set sql 10")  # red, muted: the chat never heard red
    await chat.ok("/alerts unmute all")
    assert queued_text(core)[1:] == [
        "🔴 SQLs turned red\n"
        "yellow → red: 10 vs target 60\n"
        "logged by @anna · hurts Customers\n"
        "[Explain: /kpi sql explain]  [Mute 1 day: /alerts mute sql 1d]"
    ]


async def test_a_test_mode_kpi_among_the_digest_movers_carries_the_test_mark(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok('/kpi add ab "A/B tests run" target=10 perspective=learning test=yes')
    await chat.ok("/kpi set ab 2")
    clock.advance(days=1)
    await chat.ok("/kpi set ab 5")
    text = await chat.ok("/digest")
    assert "Movers: ▲ 🧪 A/B tests run +30 pts\n" in text

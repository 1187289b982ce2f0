"""`/kpi unset` said what was left in a colour of its own: the newest raw value against the
final target, so a monthly sum of 190 read `Latest: 90 … (🔴 red, progress 30%)` while
`/kpi` showed 🟢 190 at 63 %, and a KPI with a staged target read red against the final
target where `/kpi` showed yellow against the stage in force. It now says what `/kpi` shows
(probe15)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FakeChat, FixedClock


async def test_a_sums_removal_says_the_periods_sum_and_its_colour(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    await chat.ok('/kpi add leads "Leads" target=300 agg=sum perspective=customers')
    for typed in ("/kpi set leads 100 2026-11-10", "/kpi set leads 90 2026-11-15"):
        await chat.ok(typed)
    await chat.ok("/kpi set leads 20")
    assert await chat.ok("/kpi unset leads 2026-11-20") == (
        "Removed Leads = 20 for 2026-11-20 by @anna. Latest: sum for 2026-11: 190 on "
        "2026-11-15 (🟢 green against 150 due by 2026-11-15, progress 63%).\n"
        "[Undo: /undo 2611-5]"
    )
    assert "🟢 Leads (leads)    190     300       63%" in await chat.ok("/kpi")


async def test_a_staged_targets_removal_says_the_stage_in_forces_colour(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    await chat.ok(
        '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance '
        "staged=2026-11-30:100"
    )
    await chat.ok("/kpi set cac 110 2026-11-19")
    await chat.ok("/kpi set cac 105")
    assert (await chat.ok("/kpi unset cac 2026-11-20")).splitlines()[0] == (
        "Removed CAC = 105 € for 2026-11-20 by @anna. Latest: 110 € on 2026-11-19 "
        "(🟡 yellow, progress 50%)."
    )

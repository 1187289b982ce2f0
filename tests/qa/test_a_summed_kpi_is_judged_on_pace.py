"""A monthly sum (`agg=sum`: leads a month) turned red at every period start: 25 leads on
2 November against the month's 300 read 8 %, red in the reply, in `/kpi`, in the index and
as an alert, although 25 by the 2nd is ahead of 300 by the 30th. An alert people learn to
ignore is worse than none (probe15).

A higher-is-better sum is judged on pace: its period's numbers (target, baseline, min,
max, warn, crit) times the share of the period's days up to its newest value, so 20 of the
300 are due by the 2nd. Progress still says how much of the whole target is done (8 %).
A period with values after it is over and judged against the whole target; a lower-is-better
sum (a budget) is judged against the whole period's numbers: what is spent stays spent."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import Core
from bot.delivery import decode_reply
from tests.alerts.support import CHAT
from tests.support import FakeChat, FixedClock

LEADS = '/kpi add leads "Leads" target=300 agg=sum perspective=customers'


def sent(core: Core) -> list[str]:
    """Every message the chat's outbox holds, as people read it."""
    return [decode_reply(e.body or {}).plain() for e in core.store.outbox.pending(CHAT)]


async def leads_from_the_2nd(chat: FakeChat, clock: FixedClock) -> str:
    """Leads a month, alerts at once, and 25 of them on 2 November: the reply."""
    clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    await chat.ok("/alerts set group=0")
    await chat.ok(LEADS)
    return await chat.ok("/kpi set leads 25")


async def test_a_months_sum_early_in_the_month_is_judged_on_pace(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    assert await leads_from_the_2nd(chat, clock) == (
        "Saved Leads = 25 (sum for 2026-11: 25, 🟢 green against 20 due by 2026-11-02, "
        "progress 8%)."
    )
    table = await chat.ok("/kpi")
    assert "index 100%" in table.splitlines()[0]
    assert "🟢 Leads (leads)" in table and "300" in table and "8%" in table
    assert sent(core) == []  # it was "🔴 Leads is red … 25 vs target 300"


async def test_a_sum_behind_its_pace_turns_red_and_its_alert_says_against_what(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await leads_from_the_2nd(chat, clock)
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert await chat.ok("/kpi set leads 50") == (
        "Saved Leads = 50 (sum for 2026-11: 75, 🔴 red against 200 due by 2026-11-20, "
        "progress 25%)."
    )
    assert sent(core)[-1].splitlines()[:2] == [
        "🔴 Leads is red",
        "green → red: 75 vs 200 due so far (target 300 a month)",
    ]


async def test_the_last_day_and_an_earlier_period_are_judged_on_the_whole_target(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    await chat.ok(LEADS)
    assert await chat.ok("/kpi set leads 250") == (
        "Saved Leads = 250 (sum for 2026-11: 250, 🟢 green, progress 83%)."
    )
    assert await chat.ok("/kpi set leads 25 2026-10-02") == (
        "Saved Leads = 25 for 2026-10-02 (sum for 2026-10: 25, 🔴 red, progress 8%). "
        "An older date: the latest value is unchanged."
    )


async def test_a_budget_summed_over_the_month_is_judged_on_the_whole_budget(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    await chat.ok(
        '/kpi add spend "Spend" baseline=6000 target=4000 unit=$ agg=sum perspective=finance'
    )
    assert await chat.ok("/kpi set spend 3000") == (
        "Saved Spend = 3 000 $ (sum for 2026-11: 3 000 $, 🟢 green, progress 150%)."
    )


async def test_the_card_explain_and_alerts_say_what_the_colour_judged(
    chat: FakeChat, clock: FixedClock
) -> None:
    await leads_from_the_2nd(chat, clock)
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    await chat.ok("/kpi set leads 50")
    card = (await chat.ok("/kpi leads")).splitlines()
    assert card[4:7] == [
        "Progress: 25%",
        "Judged against: 200 due by 2026-11-20 (a sum is judged on the share of its month gone)",
        "Performance: 37%",
    ]
    explained = (await chat.ok("/kpi leads explain")).splitlines()
    assert explained[2] == (
        "judged against 200 due by 2026-11-20 = 300 × 20 of 30 days of 2026-11 (a sum is "
        "judged on the share of its month gone); progress of the whole target 25%"
    )
    assert explained[-1] == "status = red: performance 37% (37.5%) < yellow threshold 50%"
    assert " · 75 vs 200 due so far (target 300 a month)" in await chat.ok("/alerts")


async def test_an_alert_names_the_stage_of_its_readings_day_not_of_the_alerts_day(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    """November's last leads typed on 1 December: the sum was judged against November's
    whole stage (300), and the reply said so, but the alert read "200 vs 300 due so far
    (target 400 a month)", December's stage, as if 300 were a share of it (probe16)."""
    clock.now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    await chat.ok("/alerts set group=0")
    await chat.ok(
        '/kpi add leads "Leads" baseline=0 target=400 agg=sum due=2027-06-30 from=2026-10-01 '
        "staged=2026-11-30:300 perspective=customers"
    )
    await chat.ok("/kpi set leads 190")
    clock.now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert await chat.ok("/kpi set leads 10 2026-11-30") == (
        "Saved Leads = 10 for 2026-11-30 (sum for 2026-11: 200, 🟡 yellow, progress 66%)."
    )
    assert sent(core)[-1].splitlines()[:2] == [
        "🟡 Leads is yellow",
        "green → yellow: 200 vs target 300",
    ]

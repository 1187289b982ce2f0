"""Issue 7 §1: every reply shows the same colour and the same percent for the same KPI.

Exact transcripts (whole replies): `/kpi`, `/alerts`, `explain`, an alert text, a digest.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import Core
from handlers.jobs import digest_build, sweeper
from handlers.numbers import format_number, format_percent, format_percent_exact
from scoring.models import Status, Thresholds
from scoring.status import status_from_performance
from tests.alerts.support import CHAT, queued_text
from tests.support import FakeChat, FixedClock

LEADS = '/kpi add leads "Leads" target=100 perspective=customers'
CONV = '/kpi add conv "Conversion" target=3 unit=% perspective=customers'


async def test_a_hysteresis_hold_shows_the_kpis_colour_and_says_when_the_alert_clears(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(LEADS)
    await chat.ok("/alerts set group=0")
    await chat.ok("/kpi set leads 40")
    clock.advance(hours=1)
    assert await chat.ok("/kpi set leads 52") == (
        "Saved Leads = 52 (replaced 40) (🟡 yellow, progress 52%)."
    )
    assert await chat.ok("/kpi") == (
        "KPIs · index 52%\n"
        "KPI               value  target  progress     updated\n"
        "CUSTOMERS\n"
        "🟡 Leads (leads)     52     100       52%     today"
    )
    assert await chat.ok("/alerts") == (
        "Alerts · 1 firing\n"
        "🟡 Leads (leads) yellow now · 52 vs target 100; "
        "the red alert (since 21 Nov 10:00) clears at 55%\n"
        "Alerts go to: this chat (default)\n"
        "Muted: nothing\n"
        "Quiet hours: none\n"
        "Rules: hysteresis 5%, confirm 1, repeat 1d, group 0 (off)\n"
        "Charts: on (alerts and digests carry a small chart)\n"
        "Sending: 1 message(s) waiting\n"
        "Test-mode KPIs never alert; their would-be alerts are in /alerts log."
    )
    clock.advance(hours=1)
    await chat.ok("/kpi set leads 55")  # clears yellow + 5 points: the alert follows
    firing = (await chat.ok("/alerts")).splitlines()[1]
    assert firing == "🟡 Leads (leads) yellow since 21 Nov 12:00 · 55 vs target 100"


async def test_a_value_sent_again_says_as_before_not_replaced(chat: FakeChat) -> None:
    await chat.ok(LEADS)
    await chat.ok("/kpi set leads 40")
    assert await chat.ok("/kpi set leads 40") == (
        "Saved Leads = 40 (as before) (🔴 red, progress 40%)."
    )
    # what people read decides: 40.001 shows as 40, so it is "as before" too
    assert await chat.ok("/kpi set leads 40.001") == (
        "Saved Leads = 40 (as before) (🔴 red, progress 40%)."
    )
    assert await chat.ok("/kpi set leads 41") == (
        "Saved Leads = 41 (replaced 40) (🔴 red, progress 41%)."
    )


async def test_alerts_says_a_colour_waits_for_confirmation(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(LEADS)
    await chat.ok("/alerts set group=0 confirm=2")
    for value in (90, 90, 30):
        await chat.ok(f"/kpi set leads {value}")
        clock.advance(hours=1)
    lines = (await chat.ok("/alerts")).splitlines()
    assert lines[:2] == [
        "Alerts · nothing firing",
        "🔴 Leads (leads) red now · 30 vs target 100; "
        "red is announced after 2 readings in a row (confirm=2; 1 so far)",
    ]


async def test_alerts_names_a_warn_crit_hold_in_the_kpis_unit(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(
        '/kpi add cac "CAC" baseline=120 target=80 unit=$ crit=110 warn=100 perspective=finance'
    )
    await chat.ok("/alerts set group=0")
    await chat.ok("/kpi set cac 115")
    clock.advance(hours=1)
    await chat.ok("/kpi set cac 109")  # yellow by crit 110, not cleared by 5% of 40 = 2
    line = (await chat.ok("/alerts")).splitlines()[1]
    assert line == (
        "🟡 CAC (cac) yellow now · 109 $ vs target 80 $; "
        "the red alert (since 21 Nov 10:00) clears at 108 $ or less"
    )


async def test_an_alert_sent_during_a_hysteresis_hold_says_the_colour_now(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok(LEADS)
    await chat.ok("/kpi set leads 90")
    clock.advance(hours=1)
    await chat.ok("/kpi set leads 40")  # red, waiting for its group
    await chat.ok("/kpi set leads 52")  # yellow now, the red alert holds until 55
    clock.advance(seconds=60)
    with core.store.atomic():
        sweeper.flush_alerts(core.ctx, CHAT)
    assert queued_text(core) == [
        "🔴 Leads is red\n"
        "green → red: 52 vs target 100 (yellow now; the red alert clears at 55%)\n"
        "logged by @anna · hurts Customers\n"
        "[Explain: /kpi leads explain]  [Mute 1 day: /alerts mute leads 1d]"
    ]


async def test_explain_prints_the_percent_kpi_shows_then_its_decimals(chat: FakeChat) -> None:
    await chat.ok(CONV)
    await chat.ok("/kpi set conv 2.39")
    assert "Progress: 79%\nPerformance: 79%\nStatus: 🟡 yellow" in await chat.ok("/kpi conv")
    assert await chat.ok("/kpi conv explain") == (
        "How Conversion is scored\n"
        "progress = (value − baseline) / (target − baseline) = (2.39 − 0) / (3 − 0) "
        "= 2.39 / 3 = 79% (79.66%)\n"
        "performance = clamp(progress) = 79% (79.66%)\n"
        "status = yellow: performance 79% (79.66%) ≥ yellow threshold 50% and < green 80%"
    )


async def test_an_alert_text_whole(chat: FakeChat, core: Core) -> None:
    await chat.ok(CONV)
    await chat.ok("/alerts set group=0")
    await chat.ok("/kpi set conv 2.5")
    await chat.ok("/kpi set conv 1.2", user="ivan")
    assert queued_text(core) == [
        "🔴 Conversion is red\n"
        "green → red: 1.2% vs target 3%\n"
        "logged by @ivan · hurts Customers\n"
        "[Explain: /kpi conv explain]  [Mute 1 day: /alerts mute conv 1d]"
    ]


async def test_a_digest_whole(chat: FakeChat, core: Core, clock: FixedClock) -> None:
    await chat.ok(CONV)
    await chat.ok(LEADS)
    await chat.ok("/kpi set conv 2.39")
    await chat.ok("/kpi set leads 12345.5")
    await chat.ok("/kpi set conv 1.4 2026-11-14")
    clock.advance(days=1)
    ask = await chat.say("/kpi set leads 30")  # 400× below 12 345.5: asked first
    await chat.ok(ask[0].buttons[0].command)
    with core.store.atomic():
        reply = digest_build.build_digest(core.ctx, CHAT)
    assert reply.plain() == (
        "Weekly review · Sun 22 Nov\n"
        "Index: 54%\n"
        "Movers: ▼ Leads −70 pts; ▲ Conversion +33 pts\n"
        "Red: 🔴 Leads 30 vs 100\n"
        "Details: /scorecard, /kpi, /okr progress, /initiatives"
    )


# --- the formatter and the status function agree -----------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10000.0, "10 000"),
        (1234.56, "1 234.6"),
        (-5.0, "−5"),
        (0.0234, "0.023"),
        (1e-05, "0.00001"),
        (2.5e20, "250 000 000 000 000 000 000"),
        (None, "—"),
    ],
)
def test_one_number_formatter_groups_thousands_and_never_writes_scientific_notation(
    value: float | None, expected: str
) -> None:
    assert format_number(value) == expected


@given(
    share=st.floats(min_value=-2, max_value=3, allow_nan=False),
    green=st.integers(min_value=1, max_value=100),
)
def test_a_shown_percent_never_contradicts_its_colour(share: float, green: int) -> None:
    thresholds = Thresholds(green=green / 100, yellow=min(green, 50) / 100)
    shown = format_percent(share)
    reached = int(shown.rstrip("%").replace("−", "-")) >= green
    assert reached == (status_from_performance(share, thresholds) is Status.GREEN), shown
    exact = float(format_percent_exact(share).rstrip("%").replace("−", "-"))
    assert (exact >= green) == reached

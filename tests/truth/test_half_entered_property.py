"""Property (trust9, design choice A1): a calculated KPI alerts on whole days only.

Random days of a month, each typed as people do: spend first, new customers some minutes
later (fewer than `INPUTS_WAIT`), or never. Timers fire in between. New customers are
missing only when they were typed with spend on spend's last two days (a team that types
them on their own schedule is not told one is missing; spend's day then stands alone, and
its change goes out as any). Whatever the values,
CAC's alerts name exactly the colour changes between its readings on days whose inputs
were all in, one group window after the day became whole, plus, for a day whose new
customers never came, the change that day's reading made once the wait was over: never a
colour seen only between the two entries of one day (spam), none lost, none twice, none
kept waiting once the day is whole.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers.calculated import INPUTS_WAIT
from handlers.jobs import sweeper
from scoring.models import Status
from scoring.status import would_be_status
from tests.alerts.support import CHAT, queued_text
from tests.support import FakeChat, FixedClock

SETUP = (
    '/kpi add spend "Spend" baseline=6000 target=4000 agg=sum test=yes perspective=finance',
    '/kpi add newc "New customers" target=60 agg=sum test=yes perspective=customers',
    '/kpi add cac "CAC" formula="spend / newc" baseline=150 target=50 perspective=finance',
    "/alerts set hysteresis=0",
)
WORDS = {"green": Status.GREEN, "yellow": Status.YELLOW, "red": Status.RED}

day = st.tuples(
    st.integers(100, 9000),  # spend typed first
    st.one_of(st.none(), st.integers(5, 120)),  # new customers, or never that day
    st.integers(1, int(INPUTS_WAIT.total_seconds() // 60) - 1),  # minutes between them
)


def changes(texts: list[str]) -> list[tuple[Status, Status]]:
    """(old, new) of every CAC change alerted, in order (reminders left out)."""
    found = []
    for text in texts:
        title, line = text.split("\n")[:2]
        assert title.startswith(("🟢 CAC", "🟡 CAC", "🔴 CAC")), text
        if line.startswith("red since"):
            continue  # a red CAC's daily reminder: not a change
        old, new = line.split(":")[0].split(" → ")
        found.append((WORDS[old], WORDS[new]))
    return found


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(day, min_size=1, max_size=6))
@example([(2000, 1, 1)])  # yellow on half the day and on the whole: no new change re-queues it
def test_a_calculated_kpi_alerts_on_whole_days_only(
    days: list[tuple[int, int | None, int]],
) -> None:
    asyncio.run(_run(days))


async def _run(days: list[tuple[int, int | None, int]]) -> None:
    clock = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    core = build_core(None, clock=clock)
    chat = FakeChat(core)
    try:
        for text in SETUP:
            await chat.ok(text)
        await chat.ok("/kpi set spend 3000")
        await chat.ok("/kpi set newc 50")  # CAC 60: green, its first reading
        clock.advance(minutes=30)
        await _flush(core)
        before = len(queued_text(core))
        kpi = core.store.kpis.get(CHAT, "cac")
        thresholds = core.store.scorecards.thresholds(CHAT)
        assert kpi is not None
        spend, newc, colour = 3000.0, 50.0, Status.GREEN
        expected: list[tuple[Status, Status]] = []
        typed = [True]  # each day: were new customers typed with spend
        for n, (spent, won, gap) in enumerate(days, start=1):
            clock.now = datetime(2026, 11, 2 + n, 9, 0, tzinfo=UTC)
            await chat.ok(f"/kpi set spend {spent}")
            spend += spent
            half = would_be_status(kpi, spend / newc, thresholds)
            together = all(typed[-2:])  # on spend's last two days (or its only one)
            if not together and half != colour:  # not missing: spend's day stands alone
                expected.append((colour, half))
                colour = half
            clock.advance(minutes=gap)
            await _flush(core)  # the group window is over; the wait is not
            assert changes(queued_text(core)[before:]) == expected
            typed.append(won is not None)
            if won is not None:
                await chat.ok(f"/kpi set newc {won}")
                newc += won
            now = would_be_status(kpi, spend / newc, thresholds)
            if now != colour:
                expected.append((colour, now))
                colour = now
            if won is not None:  # a whole day's alert goes out one group window later
                clock.advance(minutes=1)
                await _flush(core)
                assert changes(queued_text(core)[before:]) == expected
            clock.advance(minutes=30)
            await _flush(core)
        assert changes(queued_text(core)[before:]) == expected
    finally:
        core.close()


async def _flush(core: Core) -> None:
    """The flush timer firing."""
    with core.store.atomic():
        sweeper.flush_alerts(core.ctx, CHAT)
    await core.store.commit()

"""A calculated KPI waiting for an input of its day holds back its own alert only: another
KPI's alert goes out on its own schedule (found by review9)."""

from __future__ import annotations

import pytest

from bot.app import Core
from handlers.jobs import sweeper
from tests.alerts.support import CHAT, queued_text
from tests.support import FakeChat, FixedClock

SETUP = (
    '/kpi add spend "Marketing spend" baseline=6000 target=4000 unit=$ agg=sum test=yes '
    "perspective=finance",
    '/kpi add newc "New customers" target=60 agg=sum test=yes perspective=customers',
    '/kpi add cac "CAC" formula="spend / newc" baseline=150 target=50 unit=$ perspective=finance',
    '/kpi add leads "Leads" target=100 perspective=customers',
)


def _flush(core: Core) -> int:
    with core.store.atomic():
        return sweeper.flush_alerts(core.ctx, CHAT)


@pytest.fixture
async def waiting(chat: FakeChat, core: Core, clock: FixedClock) -> FakeChat:
    """CAC and leads green on whole days, then spend typed today: CAC yellow, waiting for
    today's new customers."""
    for text in SETUP:
        await chat.ok(text)
    await chat.ok("/kpi set spend 3000 2026-11-20")
    await chat.ok("/kpi set newc 50 2026-11-20")  # CAC 60: green
    await chat.ok("/kpi set leads 95 2026-11-20")
    clock.advance(minutes=2)
    _flush(core)
    await chat.ok("/kpi set spend 2000")  # 5 000 / 50 = 100: yellow on half a day, waits
    return chat


async def test_a_red_kpi_is_not_held_back_by_a_calculated_kpi_waiting_for_its_input(
    waiting: FakeChat, core: Core, clock: FixedClock
) -> None:
    """With grouping off, leads turning red goes out at once; it waited the 15 minutes of
    CAC's missing input, since it joined CAC's "group still collecting"."""
    await waiting.ok("/alerts set group=0")
    clock.advance(seconds=61)
    _flush(core)
    told = len(queued_text(core))
    await waiting.ok("/kpi set leads 10")
    _flush(core)
    assert [t.splitlines()[0] for t in queued_text(core)[told:]] == ["🔴 Leads is red"]


async def test_a_grouped_alert_goes_out_after_its_window_not_after_the_inputs_wait(
    waiting: FakeChat, core: Core, clock: FixedClock
) -> None:
    """With the default 60 s window, leads turning red goes out once its window is over."""
    clock.advance(seconds=61)
    _flush(core)
    told = len(queued_text(core))
    await waiting.ok("/kpi set leads 10")
    clock.advance(seconds=61)
    _flush(core)
    assert [t.splitlines()[0] for t in queued_text(core)[told:]] == ["🔴 Leads is red"]


async def test_a_calculated_kpi_goes_out_once_its_day_is_complete_not_at_the_waits_end(
    waiting: FakeChat, core: Core, clock: FixedClock
) -> None:
    """More spend turns CAC red on half a day; new customers arrive a minute later and CAC
    is yellow, worse than the green people last heard: that alert goes out after the group
    window, not 15 minutes after spend was typed (it kept the wait's place)."""
    told = len(queued_text(core))
    await waiting.ok("/kpi set spend 3000")  # 8 000 / 50 = 160: red on half a day, waits
    clock.advance(minutes=1)
    await waiting.ok("/kpi set newc 40")  # 8 000 / 90 = 89: yellow, the day complete
    clock.advance(seconds=61)
    _flush(core)
    assert [t.splitlines()[0] for t in queued_text(core)[told:]] == ["🟡 CAC is yellow"]


async def test_a_waiting_alert_goes_out_once_the_missing_input_is_in(
    waiting: FakeChat, core: Core, clock: FixedClock
) -> None:
    """New customers arrive a minute later and CAC stays yellow (no new change of its
    own): the day is complete, so the yellow goes out after the group window, not 15
    minutes after spend was typed."""
    told = len(queued_text(core))
    clock.advance(minutes=1)
    await waiting.ok("/kpi set newc 1")  # 5 000 / 51 = 98: still yellow, the day complete
    clock.advance(seconds=61)
    _flush(core)
    assert [t.splitlines()[0] for t in queued_text(core)[told:]] == ["🟡 CAC is yellow"]


async def test_a_waiting_alert_still_waits_while_its_input_is_missing(
    waiting: FakeChat, core: Core, clock: FixedClock
) -> None:
    """Another value recorded meanwhile (leads) brings no new customers: CAC still waits."""
    told = len(queued_text(core))
    clock.advance(minutes=1)
    await waiting.ok("/kpi set leads 96")
    clock.advance(seconds=61)
    _flush(core)
    assert queued_text(core)[told:] == []
    clock.advance(minutes=15)
    _flush(core)
    assert [t.splitlines()[0] for t in queued_text(core)[told:]] == ["🟡 CAC is yellow"]

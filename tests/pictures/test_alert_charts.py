"""Alerts and digests carry a small chart, drawn when they are sent (`/alerts set charts=`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import Core
from tests.alerts.support import FakeSleep, RecordingAdapter, queued
from tests.pictures.support import decode
from tests.support import FakeChat, FixedClock


@pytest.fixture
async def sent(core: Core, clock: FixedClock) -> AsyncIterator[RecordingAdapter]:
    adapter = RecordingAdapter()
    await core.start([adapter], schedule=False, sleep=FakeSleep(clock))
    yield adapter
    await core.stop()


async def _two_kpis(chat: FakeChat) -> None:
    await chat.ok("/alerts set group=0")
    await chat.ok(
        '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ '
        "perspective=finance"
    )
    await chat.ok('/kpi add leads "Лиды" target=200 perspective=customers')
    await chat.ok("/kpi set cac 85 2026-11-01")
    await chat.ok("/kpi set leads 190 2026-11-01")


async def test_an_alert_is_sent_with_a_small_chart_of_its_kpi(
    chat: FakeChat, core: Core, sent: RecordingAdapter
) -> None:
    await _two_kpis(chat)
    await chat.ok("/kpi set cac 118")
    assert queued(core)[-1].chart is not None  # the outbox keeps keys, not picture bytes
    await core.delivery.wait_idle(timeout=120)  # type: ignore[union-attr]  # drawing under load
    alert = sent.sent[-1]
    assert alert.kind == "alert" and alert.image is not None and alert.chart is None
    assert alert.image.filename == "cac.png" and decode(alert.image.data) == (520, 250)


async def test_a_grouped_alert_carries_one_small_multiples_picture(
    chat: FakeChat, core: Core, sent: RecordingAdapter
) -> None:
    await _two_kpis(chat)
    preview = await chat.say("/kpi import\ncac 118\nleads 20")
    await chat.ok(preview[0].buttons[0].command)  # Apply: one step, one grouped alert
    await core.delivery.wait_idle(timeout=120)  # type: ignore[union-attr]  # drawing under load
    alert = sent.sent[-1]
    assert alert.image is not None and alert.image.filename == "charts.png"
    assert "Customer acquisition cost ($)" in alert.image.alt and "Лиды" in alert.image.alt


async def test_charts_off_sends_alerts_without_pictures(
    chat: FakeChat, core: Core, sent: RecordingAdapter
) -> None:
    await _two_kpis(chat)
    assert "no charts on alerts" in await chat.ok("/alerts set charts=off")
    await chat.ok("/kpi set cac 118")
    await core.delivery.wait_idle(timeout=120)  # type: ignore[union-attr]  # drawing under load
    assert sent.sent[-1].kind == "alert" and sent.sent[-1].image is None
    assert "charts is on or off" in await chat.error("/alerts set charts=maybe")


async def test_the_digest_draws_its_red_kpis(chat: FakeChat) -> None:
    await _two_kpis(chat)
    await chat.ok("/kpi set cac 118")
    replies = await chat.say("/digest")
    assert replies[0].image is not None and replies[0].image.filename == "cac.png"


async def test_alerts_shows_whether_alerts_carry_charts(chat: FakeChat) -> None:
    shown = (
        "Alerts · nothing firing\n"
        "Every KPI with data is green (or never alerted).\n"
        "Alerts go to: this chat (default)\n"
        "Muted: nothing\n"
        "Quiet hours: none\n"
        "Rules: hysteresis 5%, confirm 1, repeat 1d, group 1m\n"
        "Charts: {}\n"
        "Test-mode KPIs never alert; their would-be alerts are in /alerts log."
    )
    assert await chat.ok("/alerts") == shown.format("on (alerts and digests carry a small chart)")
    assert await chat.ok("/alerts set charts=off") == (
        "Alert rules: hysteresis 5%, confirm 1, repeat 1d, group 1m; "
        "charts off (no charts on alerts)."
    )
    assert await chat.ok("/alerts") == shown.format("off (no charts on alerts)")

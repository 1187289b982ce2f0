"""Alerts on KPIs that aggregate a period (`agg=sum`): they judge the period's total."""

from __future__ import annotations

from bot.app import Core
from handlers.jobs import sweeper
from tests.alerts.support import queued_text
from tests.support import FakeChat, FixedClock


async def test_a_monthly_sum_alerts_and_is_reminded_on_its_total(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok("/alerts set group=0 repeat=1d")
    await chat.ok(
        '/kpi add cost "Ad cost" baseline=1000 target=500 agg=sum unit=$ perspective=finance'
    )
    await chat.ok("/kpi set cost 300 2026-11-02")
    await chat.ok("/kpi set cost 600")  # 600 alone would be green; the month's 900 is red
    [first] = queued_text(core)
    assert "green → red: 900 $ vs target 500 $" in first
    clock.advance(hours=24, minutes=1)
    report = await sweeper.sweep(core.ctx)
    await core.store.commit()
    assert report.reminders == 1
    assert "is still red" in queued_text(core)[-1] and "900 $" in queued_text(core)[-1]


async def test_a_calculated_kpi_gets_no_record_a_value_reminder(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok('/kpi add spend "Spend" target=100 every=day perspective=finance')
    await chat.ok(
        '/kpi add twice "Twice" formula="spend * 2" target=200 every=day perspective=finance'
    )
    await chat.ok("/kpi set spend 50")
    summary = core.store.sweeps.get("console:team", clock.now)
    assert [key for key, *_ in summary.rows()] == ["spend"]

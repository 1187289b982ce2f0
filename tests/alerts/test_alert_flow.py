"""Threshold alerts end to end: a chat conversation in, outbox messages out (fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from handlers import alert_pipeline
from handlers.contract import ChatRef
from handlers.jobs import sweeper
from scoring.models import Measurement
from tests.alerts.support import CHAT, queued, queued_text, wakes
from tests.support import FakeChat, FixedClock

CAC = (
    '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ '
    "perspective=finance owner=@anna"
)
LEADS = '/kpi add leads "Leads" target=200 objective=reach'


@pytest.fixture
async def team(chat: FakeChat) -> FakeChat:
    await chat.ok('/objective add reach "Reach more buyers" perspective=customers')
    await chat.ok(CAC)
    await chat.ok(LEADS)
    return chat


async def sweep(core: Core) -> sweeper.SweepReport:
    report = await sweeper.sweep(core.ctx)
    await core.store.commit()
    return report


async def test_crossing_a_threshold_queues_exactly_one_message_with_the_facts(
    team: FakeChat, core: Core
) -> None:
    await team.ok("/alerts set group=0")
    await team.ok("/kpi set leads 170")  # first reading green: nothing to say
    assert queued(core) == []
    await team.ok("/kpi set leads 90", user="ivan")
    [alert] = queued(core)
    assert alert.kind == "alert" and alert.to == ChatRef(platform="console", chat_id="team")
    text = alert.plain()
    assert "Leads" in text and "green → red" in text
    assert "90 vs target 200" in text
    assert "logged by @ivan" in text
    assert "hurts Reach more buyers (Customers)" in text
    assert "/alerts mute leads 1d" in text


async def test_hysteresis_keeps_a_value_hovering_at_the_threshold_from_flapping(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0")
    for value in (170, 158, 162, 158, 163, 159, 171):  # green at 160 (80%), margin 5 pts
        await team.ok(f"/kpi set leads {value}")
        clock.advance(hours=1)
    texts = queued_text(core)
    assert len(texts) == 2, texts
    assert "green → yellow" in texts[0]
    assert "back to green" in texts[1]


async def test_confirmation_waits_for_n_readings_in_a_row(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0 confirm=2")
    await team.ok("/kpi set leads 170")
    clock.advance(hours=1)
    await team.ok("/kpi set leads 170")  # green confirmed (silent)
    clock.advance(hours=1)
    await team.ok("/kpi set leads 60")
    assert queued(core) == [], "one red reading is not enough"
    clock.advance(hours=1)
    await team.ok("/kpi set leads 170")  # back to green resets the count
    clock.advance(hours=1)
    await team.ok("/kpi set leads 60")
    assert queued(core) == []
    clock.advance(hours=1)
    await team.ok("/kpi set leads 60")
    [alert] = queued_text(core)
    assert "green → red" in alert


async def test_changes_within_the_group_window_go_out_as_one_message(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    start = clock.now
    await team.ok("/kpi set cac 130")
    clock.advance(seconds=20)
    await team.ok("/kpi set leads 50", user="ivan")
    assert queued(core) == [], "the group window (60 s) is still collecting"
    assert wakes(core) == {CHAT: start + timedelta(seconds=60)}
    clock.advance(seconds=40)
    with core.store.atomic():
        assert sweeper.flush_alerts(core.ctx, CHAT) == 2
    [grouped] = queued(core)
    assert grouped.title is not None and grouped.title.startswith("2 KPI alerts")
    assert "Customer acquisition cost (cac)" in grouped.text
    assert "Leads (leads)" in grouped.text


async def test_one_import_of_several_values_is_one_message(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0")
    ctx, now = core.ctx, clock.now
    kpis = [k for k in ctx.store.kpis.all(CHAT) if k.key in ("cac", "leads")]
    with ctx.store.atomic():
        for kpi, value in zip(kpis, (130.0, 40.0), strict=True):
            ctx.store.kpis.record(
                CHAT, Measurement(kpi=kpi.key, value=value, day=now.date(), at=now, by="import")
            )
        alert_pipeline.on_values_recorded(ctx, CHAT, kpis)
    [message] = queued(core)
    assert message.title is not None and message.title.startswith("2 KPI alerts")


async def test_a_kpi_that_stays_red_is_reminded_once_per_repeat_interval(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0 repeat=1d")
    await team.ok("/kpi set cac 130")
    assert len(queued(core)) == 1
    clock.advance(hours=23)
    assert (await sweep(core)).reminders == 0
    clock.advance(hours=1)
    assert (await sweep(core)).reminders == 1
    clock.advance(hours=1)
    await sweep(core)
    texts = queued_text(core)
    assert len(texts) == 2
    assert "is still red" in texts[1] and "red since 21 Nov 10:00 (24 h)" in texts[1]


async def test_going_back_to_green_sends_one_resolved_message(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0")
    await team.ok("/kpi set cac 130")
    clock.advance(hours=2)
    await team.ok("/kpi set cac 85")
    clock.advance(hours=2)
    await team.ok("/kpi set cac 84")
    texts = queued_text(core)
    assert len(texts) == 2
    assert "back to green" in texts[1] and "red → green" in texts[1]
    clock.advance(days=3)
    await sweep(core)
    assert len(queued(core)) == 2, "green is never reminded"


async def test_test_mode_kpis_never_alert_but_show_in_the_log(team: FakeChat, core: Core) -> None:
    await team.ok("/alerts set group=0")
    await team.ok('/kpi add trial "Trial metric" target=100 perspective=finance test=yes')
    await team.ok("/kpi set trial 10")
    assert queued(core) == []
    log = await team.ok("/alerts log")
    assert "trial" in log and "test mode: not sent" in log


async def test_a_mute_silences_until_it_ends_then_the_red_people_never_heard_is_told_once(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0")
    answer = await team.ok("/alerts mute cac 2h", user="ivan")
    assert "until 21 Nov 12:00" in answer and "@ivan" in answer
    await team.ok("/kpi set cac 130")
    assert queued(core) == []
    overview = await team.ok("/alerts")
    assert "muted by @ivan until 21 Nov 12:00" in overview
    assert "muted by @ivan" in await team.ok("/alerts log")
    clock.advance(hours=1)
    await sweep(core)
    assert queued(core) == [], "still muted"
    clock.advance(hours=1, minutes=1)
    await sweep(core)
    [alert] = queued_text(core)
    assert "is red\nfirst reading is red: 130 $" in alert, "never heard red: not 'still red'"
    await team.ok("/alerts mute all 1d")
    assert "all KPIs until" in await team.ok("/alerts")
    assert "Unmuted everything" in await team.ok("/alerts unmute all")


async def test_quiet_hours_hold_non_critical_alerts_until_morning_but_red_comes_through(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 21, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    await team.ok("/timezone Europe/Moscow")
    await team.ok("/alerts set group=0")
    await team.ok("/alerts quiet 22:00-08:00")
    await team.ok("/kpi set leads 170")
    await team.ok("/kpi set leads 140")  # yellow: not urgent
    assert queued(core) == []
    morning = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
    assert wakes(core) == {CHAT: morning}
    await team.ok("/kpi set cac 130")  # red breaks through
    [red] = queued_text(core)
    assert "Customer acquisition cost is red" in red
    clock.now = morning
    with core.store.atomic():
        assert sweeper.flush_alerts(core.ctx, CHAT) == 1
    held = queued(core)[1]
    assert "green → yellow" in held.plain() and held.footer == "Held during quiet hours."


async def test_alert_state_survives_a_restart_so_nothing_fires_twice(
    tmp_path: Path, clock: FixedClock
) -> None:
    core = build_core(tmp_path, clock=clock)
    chat = FakeChat(core)
    await chat.ok(CAC)
    await chat.ok("/alerts set group=0 repeat=1d")
    await chat.ok("/kpi set cac 130")
    assert len(queued(core)) == 1
    core.close()

    clock.advance(hours=2)
    core = build_core(tmp_path, clock=clock)
    try:
        chat = FakeChat(core)
        await chat.ok("/kpi set cac 135")
        await sweep(core)
        assert len(queued(core)) == 1, "still red after a restart: no new alert"
        assert "1 firing" in await chat.ok("/alerts")
    finally:
        core.close()


async def test_alerts_here_picks_the_topic_and_off_stops_sending_but_keeps_the_log(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0")
    team.chat = ChatRef(platform="console", chat_id="team", thread_id="42")
    assert "this topic" in await team.ok("/alerts here")
    await team.ok("/kpi set cac 130")
    [alert] = queued(core)
    assert alert.to == ChatRef(platform="console", chat_id="team", thread_id="42")
    assert "topic 42" in await team.ok("/alerts")
    await team.ok("/alerts off")
    clock.advance(hours=1)
    await team.ok("/kpi set cac 85")
    assert len(queued(core)) == 1
    assert "red → green" in await team.ok("/alerts log")
    assert "alerts are off" in await team.ok("/alerts")


async def test_alerts_overview_shows_permanent_delivery_failures(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0")
    await team.ok("/kpi set cac 130")
    [entry] = core.store.outbox.pending(CHAT)
    core.store.outbox.mark_failed(
        CHAT, entry.id, error="forbidden: bot was kicked from the group chat", now=clock.now
    )
    overview = await team.ok("/alerts")
    assert "⚠ Not delivered" in overview
    assert "Customer acquisition cost is red" in overview and "bot was kicked" in overview


async def test_quiet_off_releases_held_alerts(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    await team.ok("/alerts set group=0")
    await team.ok("/alerts quiet 22-8")
    await team.ok("/kpi set leads 170")
    await team.ok("/kpi set leads 140")
    assert queued(core) == []
    assert "1 held alert(s) sent now" in await team.ok("/alerts quiet off")
    assert len(queued(core)) == 1


@pytest.mark.parametrize(
    "command",
    [
        "/alerts mute cac",
        "/alerts mute nope 1d",
        "/alerts mute cac forever",
        "/alerts mute cac 200d",
        "/alerts mute cac 1d extra",
        "/alerts unmute cac",
        "/alerts quiet 25:00-08:00",
        "/alerts quiet 8-8",
        "/alerts set",
        "/alerts set confirm=x",
        "/alerts set confirm=0",
        "/alerts set foo=1",
        "/alerts set repeat=0",
        "/alerts set repeat=never",
        "/alerts set hysteresis=90%",
        "/alerts set group=soon",
        "/alerts log 0",
        "/alerts here now",
        "/alerts nonsense",
        "/digest every funday 09:00",
        "/digest every mon 25:00",
        "/digest every 09:00",
        "/digest every",
        "/digest later",
    ],
)
async def test_bad_input_gets_one_friendly_line_and_changes_nothing(
    team: FakeChat, core: Core, command: str
) -> None:
    before = core.store.alerts.settings(CHAT)
    text = await team.error(command)
    assert text and len(text) < 200
    assert core.store.alerts.settings(CHAT) == before


@pytest.mark.parametrize("word", ["never", "off", "0", "None"])
async def test_switching_reminders_off_says_how_far_they_space_and_how_to_silence(
    team: FakeChat, word: str
) -> None:
    assert await team.error(f"/alerts set repeat={word}") == (
        "Reminders of a KPI that stays red cannot be switched off, only spaced out: "
        "repeat=90d is the longest. To silence alerts use /alerts mute <kpi|all> <duration> "
        "or /alerts off."
    )


async def test_a_red_kpi_whose_target_was_edited_into_green_resolves_at_its_reminder(
    team: FakeChat, core: Core, clock: FixedClock
) -> None:
    await team.ok("/alerts set group=0 repeat=1d")
    await team.ok("/kpi set leads 60")
    await team.ok("/kpi edit leads target=70")
    clock.advance(days=1)
    await sweep(core)
    texts = queued_text(core)
    assert len(texts) == 2 and "back to green" in texts[1]

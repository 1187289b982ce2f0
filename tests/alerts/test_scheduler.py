"""The APScheduler wiring: stable jobs rebuilt from settings, local time through DST, misfires."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent

from bot.app import Core
from bot.scheduler import JobSpec, Scheduler, chat_job_specs
from scoring.schedule import Schedule
from tests.alerts.support import CHAT, RecordingAdapter, queued
from tests.support import FakeChat, FixedClock

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def running(core: Core) -> AsyncIterator[Core]:
    await core.start([RecordingAdapter("telegram")], schedule=True)  # console stays queued
    yield core
    await core.stop()


def scheduler(core: Core) -> Scheduler:
    assert core.scheduler is not None
    return core.scheduler


async def restart(core: Core) -> Scheduler:
    await scheduler(core).stop()
    core.scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    await core.scheduler.start()
    await core.scheduler.drain()
    return core.scheduler


MONDAY_9 = Schedule(weekdays=frozenset({0}), at=time(9, 0))


def test_weekly_digest_follows_berlin_wall_clock_through_both_dst_changes() -> None:
    spring = MONDAY_9.fires_between(
        datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), BERLIN, 10
    )
    assert spring == [
        datetime(2026, 3, 23, 8, 0, tzinfo=UTC),  # 09:00 CET
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # 09:00 CEST
    ]
    autumn = MONDAY_9.fires_between(
        datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC), BERLIN, 10
    )
    assert [t.astimezone(BERLIN).hour for t in autumn] == [9, 9]
    assert [t.hour for t in autumn] == [7, 8]


def test_the_trigger_asks_the_stored_schedule_for_its_fire_times() -> None:
    spec = JobSpec("digest", CHAT, MONDAY_9, "Europe/Berlin")
    now = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # exactly a fire: APScheduler wants it
    assert spec.trigger().get_next_fire_time(None, now) == now
    assert spec.trigger().get_next_fire_time(None, now + timedelta(seconds=1)) == datetime(
        2026, 3, 30, 7, 0, tzinfo=UTC
    )


async def test_jobs_are_rebuilt_from_settings_with_stable_ids_and_no_duplicates(
    chat: FakeChat, running: Core
) -> None:
    await chat.ok("/digest every mon 09:00")
    await chat.ok('/okr add grow "Grow" cycle=2026Q4')
    ids = scheduler(running).job_ids()
    assert ids == sorted(
        ["sweep", "pulls", f"digest:{CHAT}", f"okr-checkin:{CHAT}", f"okr-cycle:{CHAT}"]
    )
    assert (await restart(running)).job_ids() == ids
    assert (await restart(running)).job_ids() == ids
    job = scheduler(running)._aps.get_job(f"digest:{CHAT}")  # type: ignore[union-attr]
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (900, True, 1)
    await chat.ok("/digest off")
    assert f"digest:{CHAT}" not in scheduler(running).job_ids()


async def test_timezone_change_moves_the_chat_schedule_at_once(
    chat: FakeChat, running: Core
) -> None:
    await chat.ok("/digest every mon 09:00")
    await chat.ok("/timezone Europe/Moscow")
    moscow = ZoneInfo("Europe/Moscow")
    nxt = scheduler(running).next_run(f"digest:{CHAT}")
    assert nxt is not None
    local = nxt.astimezone(moscow)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert chat_job_specs(running.ctx, CHAT)[f"digest:{CHAT}"].timezone == "Europe/Moscow"


async def test_a_fire_missed_by_less_than_the_grace_runs_once_after_a_restart(
    chat: FakeChat, running: Core, clock: FixedClock
) -> None:
    await chat.ok("/digest every mon 09:00")  # Saturday 21 Nov 10:00: tracking starts
    clock.now = datetime(2026, 11, 23, 9, 10, tzinfo=UTC)  # down over Monday 09:00
    await restart(running)
    assert [r.kind for r in queued(running)] == ["digest"]
    await restart(running)
    assert [r.kind for r in queued(running)] == ["digest"], "never twice"


async def test_older_misses_are_reported_in_the_next_digest_not_run(
    chat: FakeChat, running: Core, clock: FixedClock
) -> None:
    await chat.ok("/digest every mon 09:00")
    clock.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # missed 23 and 30 Nov
    await restart(running)
    assert queued(running) == []
    [missed] = running.ctx.store.alerts.jobstate(CHAT).missed
    assert missed.at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC) and missed.count == 2
    text = await chat.ok("/digest")
    assert "weekly digest due Mon 30 Nov 09:00 did not run" in text and "(+1 earlier)" in text


async def test_missed_and_failed_runs_of_a_running_scheduler_are_recorded(
    chat: FakeChat, running: Core
) -> None:
    await chat.ok("/digest every mon 09:00")
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    on_event = scheduler(running)._on_event
    on_event(JobExecutionEvent(EVENT_JOB_MISSED, f"digest:{CHAT}", "default", at))
    on_event(
        JobExecutionEvent(
            EVENT_JOB_ERROR, f"okr-checkin:{CHAT}", "default", at, exception=RuntimeError("x")
        )
    )
    missed = running.ctx.store.alerts.jobstate(CHAT).missed
    assert [(m.job, m.reason) for m in missed] == [("digest", "missed"), ("okr-checkin", "failed")]
    text = await chat.ok("/digest")
    assert "OKR check-in reminder due Mon 23 Nov 09:00 failed" in text


async def test_held_alerts_get_their_flush_timer_back_after_a_restart(
    chat: FakeChat, running: Core
) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok("/kpi set cac 130")  # group window: 60 s
    assert f"flush:{CHAT}" in scheduler(running).job_ids()
    assert f"flush:{CHAT}" in (await restart(running)).job_ids()


async def test_an_earlier_flush_timer_is_kept(running: Core) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    scheduler(running).arm_flush(CHAT, soon)
    scheduler(running).arm_flush(CHAT, soon + timedelta(minutes=5))
    assert scheduler(running).next_run(f"flush:{CHAT}") == soon
    scheduler(running).arm_flush(CHAT, soon - timedelta(minutes=5))
    assert scheduler(running).next_run(f"flush:{CHAT}") == soon - timedelta(minutes=5)


async def test_a_schedule_over_the_weekend_becomes_a_valid_trigger(
    chat: FakeChat, running: Core
) -> None:
    await chat.ok("/digest every fri-mon 18:00")
    nxt = scheduler(running).next_run(f"digest:{CHAT}")
    assert nxt is not None and nxt.weekday() in (4, 5, 6, 0) and nxt.hour == 18


async def test_a_job_running_at_shutdown_ends_quietly_and_every_job_runs_that_way(
    running: Core, caplog: pytest.LogCaptureFixture
) -> None:
    """A console session closed while a sweep ran printed 'Job "sweep" raised an
    exception … CancelledError' with a traceback: APScheduler logs a cancelled job as a
    failed one."""
    caplog.set_level(logging.INFO)
    sched = scheduler(running)
    aps = sched._aps
    assert aps is not None
    assert {job.func for job in aps.get_jobs()} == {sched._run}
    started = asyncio.Event()

    async def slow_sweep() -> None:
        started.set()
        await asyncio.Event().wait()  # still running when the bot stops

    before = asyncio.all_tasks()
    aps.add_job(sched._run, args=(slow_sweep,), id="slow", next_run_time=datetime.now(UTC))
    await started.wait()
    job_tasks = asyncio.all_tasks() - before
    await sched.stop()
    await asyncio.gather(*job_tasks, return_exceptions=True)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "job slow_sweep stopped by the shutdown" in caplog.messages

"""Scheduled work with an injected clock: stale data, cadence, OKR nudges, digests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import Core
from handlers.jobs import bookkeeping, digest_build, okr_jobs, reminders, sweeper
from handlers.jobs.reminders import day_month, day_text
from tests.alerts.support import CHAT, queued, queued_text
from tests.support import FakeChat, FixedClock

MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def sweep(core: Core) -> sweeper.SweepReport:
    report = await sweeper.sweep(core.ctx)
    await core.store.commit()
    return report


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1, 1, 1)))
def test_a_stale_line_writes_the_last_day_as_strftime_would(day: date) -> None:
    assert day_month(day) == f"{day:%d %b}"


class _Day(date):
    """A date subclass with its own spelling: `day_text` must not answer it from the cache."""

    def __str__(self) -> str:
        return f"day {self.isoformat()}"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dates(min_value=date(1, 1, 1)), min_size=1, max_size=8), st.booleans())
def test_a_day_is_spelled_as_str_spells_it_however_often(days: list[date], sub: bool) -> None:
    """`day_text` (the sweep's sent marks and outbox keys) is `str(day)` for any day, asked
    once or again (from the cache), for None, and for a subclass with its own `__str__`."""
    for day in [*days, *days]:
        assert day_text(day) == str(day)
        if sub:
            odd = _Day(day.year, day.month, day.day)
            assert day_text(odd) == str(odd)
    assert day_text(None) == "None"


def test_a_period_start_spelled_in_the_cadence_window_is_str_of_it() -> None:
    """The cadence window spells its period's first day once, as `str` does (the sent mark
    a cadence reminder compares and stores)."""
    for kind in ("week", "month", "quarter"):
        period, *_, start = reminders._cadence_window(kind, date(2026, 11, 25), ZoneInfo("UTC"))
        assert start == str(period.start)


@pytest.fixture
async def weekly(chat: FakeChat, clock: FixedClock) -> FakeChat:
    clock.now = MONDAY
    await chat.ok(
        '/kpi add visits "Site visits" target=1000 perspective=customers every=week owner=@anna'
    )
    await chat.ok("/kpi set visits 900")
    return chat


async def test_weekly_kpi_reminds_its_owner_a_week_plus_grace_after_the_last_value(
    weekly: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # 8 days: within the grace
    assert (await sweep(core)).stale == 0
    clock.now = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)  # 9 days: week + 2 days grace
    assert (await sweep(core)).stale == 1
    [reminder] = queued(core)
    assert reminder.kind == "reminder"
    text = reminder.plain()
    assert "@anna: Site visits (visits, every week)" in text
    assert "last value 02 Nov, 9 days ago" in text and "/kpi set visits" in text
    clock.advance(minutes=5)
    await sweep(core)
    clock.advance(days=1)
    await sweep(core)
    assert len(queued(core)) == 1, "one reminder per missing value"


async def test_a_new_value_restarts_the_staleness_clock(
    weekly: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
    await sweep(core)
    await weekly.ok("/kpi set visits 950")
    clock.now = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
    assert (await sweep(core)).stale == 0
    clock.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert (await sweep(core)).stale == 1
    assert len(queued(core)) == 2


async def test_stale_reminders_wait_for_local_working_hours(
    weekly: FakeChat, core: Core, clock: FixedClock
) -> None:
    await weekly.ok("/timezone Asia/Tokyo")
    clock.now = datetime(2026, 11, 11, 13, 0, tzinfo=UTC)  # 22:00 in Tokyo
    assert (await sweep(core)).stale == 0
    clock.now = datetime(2026, 11, 12, 0, 5, tzinfo=UTC)  # 09:05 in Tokyo
    assert (await sweep(core)).stale == 1


async def test_test_mode_and_removed_kpis_are_never_stale(
    weekly: FakeChat, core: Core, clock: FixedClock
) -> None:
    await weekly.ok("/kpi edit visits test=yes")
    clock.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert (await sweep(core)).stale == 0


async def test_initiative_behind_its_cadence_is_flagged_once_per_period(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month owner=@anna')
    await chat.ok("/log articles +1")
    clock.now = datetime(2026, 11, 8, 10, 0, tzinfo=UTC)  # 1 done, 1 expected: fine
    assert (await sweep(core)).cadence == 0
    clock.now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 1 of 4, 5 days left
    assert (await sweep(core)).cadence == 1
    [flag] = queued_text(core)
    assert "@anna: Publish articles (articles) is behind" in flag
    assert "1 of 4 this month, 5 days left (3 expected by now)" in flag
    clock.advance(days=1)
    assert (await sweep(core)).cadence == 0, "flagged once per period"
    clock.now = datetime(2026, 12, 10, 10, 0, tzinfo=UTC)  # a new month, nothing logged yet
    assert (await sweep(core)).cadence == 1


async def test_on_track_and_done_initiatives_are_not_flagged(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    await chat.ok('/initiative add posts "Posts" cadence=4/month')
    await chat.ok("/log posts +3")
    await chat.ok('/initiative add talks "Talks" cadence=4/month done=yes')
    assert (await sweep(core)).cadence == 0


@pytest.fixture
async def okrs(chat: FakeChat, clock: FixedClock) -> FakeChat:
    clock.now = datetime(2026, 11, 13, 10, 0, tzinfo=UTC)  # the Friday before
    await chat.ok('/okr add grow "Grow the audience" cycle=2026Q4 owner=@ivan')
    await chat.ok('/okr kr grow nps "NPS" start=30 target=50 owner=@anna')
    await chat.ok('/okr kr grow mql "MQLs" start=0 target=400')
    await chat.ok('/okr kr grow subs "Subscribers" start=0 target=1000 owner=@anna')
    await chat.ok("/okr checkin nps 35")  # last week's: does not count
    clock.now = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)  # Wednesday
    await chat.ok("/okr checkin mql 120")
    return chat


async def test_friday_okr_nudge_lists_owners_of_krs_without_a_check_in_this_week(
    okrs: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    with core.store.atomic():
        reply = okr_jobs.okr_checkin_reminder(core.ctx, CHAT)
        again = okr_jobs.okr_checkin_reminder(core.ctx, CHAT)
    assert reply is not None and again is None
    assert reply.title == "OKR check-in · 2026Q4, week 47"
    assert reply.text == "@anna: NPS (nps), Subscribers (subs)"
    assert len(queued(core)) == 1


async def test_cycle_summary_goes_out_once_after_the_cycle_ends(
    okrs: FakeChat, core: Core, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
    with core.store.atomic():
        assert okr_jobs.okr_cycle_summary(core.ctx, CHAT) == []
    clock.now = datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    with core.store.atomic():
        [summary] = okr_jobs.okr_cycle_summary(core.ctx, CHAT)
        assert okr_jobs.okr_cycle_summary(core.ctx, CHAT) == []
    assert summary.title == "OKR cycle 2026Q4 is over"
    assert "Grow the audience:" in summary.text and "nps 0.2" in summary.text


async def test_digest_shows_index_change_movers_red_okr_pace_due_work_and_missed_runs(
    okrs: FakeChat, core: Core, clock: FixedClock
) -> None:
    chat = okrs
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    await chat.ok("/kpi set cac 100")
    await chat.ok("/kpi set leads 100")
    await chat.ok('/initiative add launch "Launch webinar" due=2026-11-20')
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with core.store.atomic():
        assert digest_build.send_digest(core.ctx, CHAT) is not None
    await chat.ok("/kpi set cac 130")
    await chat.ok("/kpi set leads 180")
    with core.store.atomic():
        bookkeeping.record_missed(
            core.ctx, CHAT, "digest", datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
        )
    text = await chat.ok("/digest")
    assert "Index: " in text and "pts since 09:00 today" in text
    assert "Movers: ▼ CAC −50 pts; ▲ Leads +40 pts" in text
    assert "Red: 🔴 CAC 130 $ vs 80 $" in text
    assert "OKR pace 2026Q4" in text and "Grow the audience" in text
    assert "⏰ Launch webinar overdue since 2026-11-20" in text
    assert "weekly digest due Mon 16 Nov 09:00 did not run" in text
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with core.store.atomic():
        digest_build.send_digest(core.ctx, CHAT)
    assert "Missed schedules" not in await chat.ok("/digest"), "reported once"


async def test_a_scheduled_digest_goes_out_once_even_when_a_dst_fold_repeats_its_time(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok("/timezone Europe/Berlin")
    await chat.ok("/digest every sun 02:30")
    clock.now = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    with core.store.atomic():
        assert digest_build.send_digest(core.ctx, CHAT) is not None
    clock.now = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the clock went back
    with core.store.atomic():
        assert digest_build.send_digest(core.ctx, CHAT) is None
    assert [r.kind for r in queued(core)] == ["digest"]


async def test_digest_schedule_answers_with_the_next_local_run(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday before summer time
    await chat.ok("/timezone Europe/Berlin")
    text = await chat.ok("/digest every mon 09:00")
    assert "every mon 09:00 (Europe/Berlin); next Mon 30 Mar 09:00" in text
    assert "every weekday 08:30" in await chat.ok("/digest every weekdays at 8:30")
    assert "every day 07:00" in await chat.ok("/digest every day 07:00")
    assert "every mon,thu 09:00" in await chat.ok("/digest every mon,thursday 09:00")
    assert "every fri-mon 18:00" in await chat.ok("/digest every fri-mon 18:00")
    assert "Scheduled digest off" in await chat.ok("/digest off")
    assert "nothing to do" in await chat.ok("/digest off")

"""The one schedule type: parsing stored day names, naming days, and next fire times that
agree with APScheduler's cron (the oracle) in every timezone, summer time included."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.schedule import (
    WEEKDAY_NAMES,
    Schedule,
    weekday_names,
    weekdays_from_names,
)
from tests.refusals import refuses

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@pytest.mark.parametrize(
    "names, days",
    [
        ("mon", {0}),
        ("mon,thu", {0, 3}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("*", set(range(7))),
        ("fri,sat,sun,mon", {4, 5, 6, 0}),  # how wrap-arounds were stored before
    ],
)
def test_stored_day_names_are_read(names: str, days: set[int]) -> None:
    assert weekdays_from_names(names) == frozenset(days)


@pytest.mark.parametrize(
    "days, names",
    [({0}, "mon"), ({0, 3}, "mon,thu"), ({0, 1, 2, 3, 4}, "mon-fri"), ({4, 5, 6, 0}, "fri-mon")],
)
def test_days_get_their_shortest_names(days: set[int], names: str) -> None:
    assert weekday_names(frozenset(days)) == names


@given(st.frozensets(st.integers(0, 6), min_size=1))
def test_day_names_round_trip(days: frozenset[int]) -> None:
    assert weekdays_from_names(weekday_names(days)) == days


def test_a_schedule_stored_with_apscheduler_day_names_still_loads() -> None:
    stored = {"days": "mon-fri", "at": "09:00:00"}
    assert Schedule.model_validate(stored) == Schedule(weekdays=frozenset(range(5)), at=time(9, 0))


def test_a_bad_weekday_name_is_refused() -> None:
    with refuses(ValueError, "not a weekday"):
        weekdays_from_names("funday")


def test_a_time_inside_the_spring_gap_fires_right_after_it() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    schedule = Schedule(at=time(2, 30))  # 29 March 2026: 02:00 → 03:00
    fire = schedule.next_fire(datetime(2026, 3, 29, 0, 0, tzinfo=UTC), berlin)
    assert fire is not None and fire.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_the_first_of_each_quarter() -> None:
    schedule = Schedule(months=frozenset({1, 4, 7, 10}), day=1, at=time(10, 0))
    fires = schedule.fires_between(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC), ZoneInfo("UTC"), 10
    )
    assert [(f.month, f.day) for f in fires] == [(1, 1), (4, 1), (7, 1), (10, 1), (1, 1)]


def test_a_day_that_never_comes_never_fires() -> None:
    assert (
        Schedule(months=frozenset({2}), day=30, at=time(9)).next_fire(
            datetime(2026, 1, 1, tzinfo=UTC), ZoneInfo("UTC")
        )
        is None
    )


@settings(max_examples=150, deadline=None)
@given(
    days=st.frozensets(st.integers(0, 6), min_size=1),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 59]),
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31)),
)
def test_next_fire_agrees_with_apscheduler_cron(
    days: frozenset[int], hour: int, minute: int, zone: str, start: datetime
) -> None:
    tz = ZoneInfo(zone)
    after = start.replace(tzinfo=UTC)
    ours = Schedule(weekdays=days, at=time(hour, minute)).next_fire(after, tz)
    cron = CronTrigger(
        day_of_week=",".join(WEEKDAY_NAMES[d] for d in sorted(days)),
        hour=hour,
        minute=minute,
        timezone=tz,
    )
    theirs = cron.get_next_fire_time(None, after + timedelta(microseconds=1))
    assert ours is not None and theirs is not None
    if ours != theirs and not _cron_skipped(ours, theirs, tz, time(hour, minute)):
        # both libraries may differ only on times a fold makes ambiguous
        assert ours.astimezone(tz).replace(tzinfo=None) == theirs.astimezone(tz).replace(
            tzinfo=None
        ) or abs(ours - theirs) <= timedelta(hours=1)


def _cron_skipped(ours: datetime, theirs: datetime, tz: ZoneInfo, at: time) -> bool:
    """APScheduler's cron skips a fire in the day after the clocks go forward (00:00 on the
    Monday after 9 March 2025 in New York comes out a week later); ours is that real time
    (tests/qa/test_midnight_after_summer_time.py pins it)."""
    offset_before = (ours - timedelta(days=1)).astimezone(tz).utcoffset() or timedelta()
    offset_now = ours.astimezone(tz).utcoffset() or timedelta()
    spring_forward = offset_before < offset_now
    return theirs > ours and spring_forward and ours.astimezone(tz).time() == at

"""A weekly run at 00:00 the day after summer time starts fires that day, not a week later.

APScheduler 3.11's own cron skips exactly that fire (2025-03-10 00:00 in New York comes
out as 2025-03-17), which made the schedule property test fail whenever hypothesis drew
it. The bot fires by our `Schedule` through `ScheduleTrigger`, so its digests are right;
these pin both that and the oracle's known blind spot.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.scheduler import ScheduleTrigger
from scoring.schedule import Schedule

MONDAY_MIDNIGHT = Schedule(weekdays=frozenset({0}), at=time(0, 0))


@pytest.mark.parametrize(
    "zone, after, fire",
    [
        ("America/New_York", datetime(2025, 3, 3, 7, 30, tzinfo=UTC), "2025-03-10 00:00"),
        ("Europe/Berlin", datetime(2025, 3, 27, 7, 30, tzinfo=UTC), "2025-03-31 00:00"),
        ("Australia/Sydney", datetime(2025, 10, 1, 7, 30, tzinfo=UTC), "2025-10-06 00:00"),
    ],
)
def test_the_digest_at_midnight_after_the_clocks_go_forward_is_not_skipped(
    zone: str, after: datetime, fire: str
) -> None:
    tz = ZoneInfo(zone)
    ours = ScheduleTrigger(MONDAY_MIDNIGHT, tz).get_next_fire_time(None, after)
    assert ours is not None and f"{ours.astimezone(tz):%Y-%m-%d %H:%M}" == fire
    theirs = CronTrigger(day_of_week="mon", hour=0, minute=0, timezone=tz).get_next_fire_time(
        None, after
    )
    assert theirs is not None and (theirs - ours).days == 7  # APScheduler's blind spot

"""Quiet hours: parsing, windows crossing midnight, and release instants across DST switches."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from scoring.alerts_quiet import QuietHours, quiet_release_time
from scoring.errors import ScoringError
from tests.refusals import refuses

BERLIN = ZoneInfo("Europe/Berlin")  # 2026: CET→CEST 29 Mar 02:00, CEST→CET 25 Oct 03:00
NEW_YORK = ZoneInfo("America/New_York")  # 2026: EST→EDT 8 Mar 02:00, EDT→EST 1 Nov 02:00
MOSCOW = ZoneInfo("Europe/Moscow")  # no DST
NIGHT = QuietHours(start=time(22), end=time(8))


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("22:00-08:00", time(22), time(8)),
        ("22-8", time(22), time(8)),
        (" 22.30 – 07.15 ", time(22, 30), time(7, 15)),
        ("13:00-14:00", time(13), time(14)),
        ("0:00-6:00", time(0), time(6)),
    ],
)
def test_quiet_windows_people_type(text: str, start: time, end: time) -> None:
    assert QuietHours.parse(text) == QuietHours(start=start, end=end)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("22:00", "not a quiet window"),
        ("night", "not a quiet window"),
        ("22:00-8:0", "not a quiet window"),
        ("25:00-08:00", "impossible time"),
        ("22:61-08:00", "impossible time"),
        ("08:00-08:00", "same time"),
    ],
)
def test_bad_quiet_windows_get_a_friendly_error(text: str, why: str) -> None:
    with refuses(ScoringError, why):
        QuietHours.parse(text)


def test_quiet_hours_model_refuses_empty_or_zoned_windows() -> None:
    with pytest.raises(ValidationError):
        QuietHours(start=time(8), end=time(8))
    with pytest.raises(ValidationError):
        QuietHours(start=time(22, tzinfo=UTC), end=time(8))


@pytest.mark.parametrize(
    ("wall", "inside"),
    [
        (time(21, 59, 59), False),
        (time(22), True),  # start included
        (time(23, 30), True),
        (time(0), True),
        (time(7, 59, 59), True),
        (time(8), False),  # end excluded
        (time(12), False),
    ],
)
def test_window_crossing_midnight_contains_evening_and_early_morning(
    wall: time, inside: bool
) -> None:
    assert NIGHT.contains(wall) is inside
    assert str(NIGHT) == "22:00-08:00"


@pytest.mark.parametrize(
    ("now", "release"),
    [
        (datetime(2026, 5, 4, 23, 0, tzinfo=MOSCOW), datetime(2026, 5, 5, 8, 0, tzinfo=MOSCOW)),
        (datetime(2026, 5, 5, 3, 0, tzinfo=MOSCOW), datetime(2026, 5, 5, 8, 0, tzinfo=MOSCOW)),
        (datetime(2026, 5, 5, 8, 0, tzinfo=MOSCOW), None),
        (datetime(2026, 5, 5, 21, 59, tzinfo=MOSCOW), None),
        (datetime(2026, 5, 5, 22, 0, tzinfo=MOSCOW), datetime(2026, 5, 6, 8, 0, tzinfo=MOSCOW)),
        (utc(5, 4, 20, 30), datetime(2026, 5, 5, 8, 0, tzinfo=MOSCOW)),  # 23:30 in Moscow
    ],
)
def test_release_is_the_next_end_of_the_window_on_the_chats_clock(
    now: datetime, release: datetime | None
) -> None:
    assert quiet_release_time(now, NIGHT, MOSCOW) == release


def test_window_within_one_day() -> None:
    lunch = QuietHours.parse("13:00-14:00")
    assert quiet_release_time(utc(5, 5, 13, 30), lunch, UTC) == utc(5, 5, 14)
    assert quiet_release_time(utc(5, 5, 12, 59), lunch, UTC) is None
    assert quiet_release_time(utc(5, 5, 14), lunch, UTC) is None


def test_no_quiet_hours_hold_nothing() -> None:
    assert quiet_release_time(utc(5, 5, 3), None, BERLIN) is None


@pytest.mark.parametrize(
    ("tz", "now", "release"),
    [
        # spring forward: the night is an hour shorter, still ends at 08:00 on the clock
        (BERLIN, utc(3, 28, 22), utc(3, 29, 6)),  # 23:00 CET → 08:00 CEST (7 h)
        (BERLIN, utc(3, 29, 1, 30), utc(3, 29, 6)),  # 03:30 CEST, just after the jump
        (NEW_YORK, utc(3, 8, 3), utc(3, 8, 12)),  # 22:00 EST → 08:00 EDT (10 h)
        # fall back: an hour longer
        (BERLIN, utc(10, 24, 21), utc(10, 25, 7)),  # 23:00 CEST → 08:00 CET (9 h)
        (NEW_YORK, utc(11, 1, 3), utc(11, 1, 13)),  # 23:00 EDT → 08:00 EST (10 h)
    ],
)
def test_release_follows_the_wall_clock_across_dst_switches(
    tz: ZoneInfo, now: datetime, release: datetime
) -> None:
    assert quiet_release_time(now, NIGHT, tz) == release


def test_a_window_ending_inside_the_spring_forward_gap_ends_at_the_jump() -> None:
    # 22:00-02:30 in Berlin; 29 Mar 2026 the clock goes 01:59:59 CET → 03:00 CEST
    short = QuietHours.parse("22:00-02:30")
    assert quiet_release_time(utc(3, 28, 22), short, BERLIN) == utc(3, 29, 1)
    assert quiet_release_time(utc(3, 29, 1), short, BERLIN) is None  # 03:00 CEST: over


def test_a_window_ending_in_the_repeated_hour_ends_at_each_pass() -> None:
    # 25 Oct 2026 Berlin shows 02:00-02:59 twice (CEST, then CET)
    short = QuietHours.parse("22:00-02:30")
    assert quiet_release_time(utc(10, 25, 0, 15), short, BERLIN) == utc(10, 25, 0, 30)
    assert quiet_release_time(utc(10, 25, 0, 45), short, BERLIN) is None  # 02:45 CEST
    assert quiet_release_time(utc(10, 25, 1, 15), short, BERLIN) == utc(10, 25, 1, 30)


def test_release_needs_an_aware_now() -> None:
    with refuses(ValueError, "aware"):
        quiet_release_time(datetime(2026, 5, 5, 3), NIGHT, BERLIN)

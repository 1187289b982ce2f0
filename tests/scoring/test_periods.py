"""Calendar periods in a timezone: weeks, months, quarters, local dates, DST-exact shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.errors import ScoringError
from scoring.periods import (
    Period,
    PeriodKind,
    days_left,
    elapsed_share,
    iso_week,
    local_date,
    local_midnight,
    period_containing,
    period_instants,
    quarter_of,
)
from tests.refusals import refuses

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        ("week", date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 29)),  # a Monday
        ("week", date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 29)),  # its Sunday
        ("week", date(2026, 12, 31), date(2026, 12, 28), date(2027, 1, 3)),  # across new year
        ("month", date(2028, 2, 14), date(2028, 2, 1), date(2028, 2, 29)),  # leap February
        ("month", date(2026, 2, 28), date(2026, 2, 1), date(2026, 2, 28)),
        ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
        ("quarter", date(2026, 11, 23), date(2026, 10, 1), date(2026, 12, 31)),
        ("quarter", date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30)),
        ("quarter", date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31)),
        ("half", date(2026, 6, 30), date(2026, 1, 1), date(2026, 6, 30)),
        ("half", date(2026, 7, 1), date(2026, 7, 1), date(2026, 12, 31)),
        ("year", date(2026, 5, 5), date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_period_containing_a_date(kind: PeriodKind, day: date, start: date, end: date) -> None:
    period = period_containing(kind, day)
    assert (period.start, period.end) == (start, end)
    assert period.contains(day)
    assert not period.contains(start - timedelta(days=1))
    assert not period.contains(end + timedelta(days=1))


@pytest.mark.parametrize(
    ("kind", "days"),
    [("week", 7), ("month", 31), ("quarter", 92), ("half", 184), ("year", 365)],
)
def test_period_length_in_days(kind: PeriodKind, days: int) -> None:
    assert period_containing(kind, date(2026, 12, 15)).days == days


def test_every_day_of_a_year_is_in_exactly_one_period_of_each_kind() -> None:
    kinds: list[PeriodKind] = ["week", "month", "quarter", "half", "year"]
    for kind in kinds:
        period = period_containing(kind, date(2026, 1, 1))
        covered = 0
        while period.start.year <= 2026:
            assert period.next().start == period.end + timedelta(days=1)
            covered += period.days
            period = period.next()
        first = period_containing(kind, date(2026, 1, 1)).start
        assert covered == (period.start - first).days


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 1, 1), 1),
        (date(2026, 3, 31), 1),
        (date(2026, 4, 1), 2),
        (date(2026, 6, 30), 2),
        (date(2026, 7, 1), 3),
        (date(2026, 12, 31), 4),
    ],
)
def test_quarter_of_a_date(day: date, quarter: int) -> None:
    assert quarter_of(day) == quarter


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 23), (2026, 48)),
        (date(2027, 1, 1), (2026, 53)),  # 2026 starts on a Thursday: it has 53 ISO weeks
        (date(2024, 12, 30), (2025, 1)),
    ],
)
def test_iso_week_can_belong_to_another_year(day: date, expected: tuple[int, int]) -> None:
    assert iso_week(day) == expected


MARCH = Period("month", date(2026, 3, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 2, 20), 31),
        (date(2026, 3, 1), 31),
        (date(2026, 3, 23), 9),
        (date(2026, 3, 31), 1),
        (date(2026, 4, 1), 0),
    ],
)
def test_days_left_counts_today(today: date, expected: int) -> None:
    assert days_left(MARCH, today) == expected


@pytest.mark.parametrize(
    ("instant", "tz", "expected"),
    [
        (datetime(2026, 3, 31, 22, 30, tzinfo=UTC), BERLIN, date(2026, 4, 1)),  # CEST +2
        (datetime(2026, 3, 31, 21, 59, tzinfo=UTC), BERLIN, date(2026, 3, 31)),
        (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), BERLIN, date(2026, 2, 1)),  # CET +1
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), TOKYO, date(2026, 4, 1)),
        (datetime(2026, 4, 1, 0, 30, tzinfo=TOKYO), UTC, date(2026, 3, 31)),
    ],
)
def test_local_date_of_an_instant(instant: datetime, tz: ZoneInfo, expected: date) -> None:
    assert local_date(instant, tz) == expected


def test_naive_datetimes_are_refused() -> None:
    with refuses(ScoringError, "no timezone"):
        local_date(datetime(2026, 3, 1, 12, 0), BERLIN)


def test_local_midnight_is_aware_and_on_the_local_calendar() -> None:
    midnight = local_midnight(date(2026, 3, 29), BERLIN)  # the spring-forward day
    assert (midnight.hour, midnight.utcoffset()) == (0, timedelta(hours=1))
    after = local_midnight(date(2026, 3, 30), BERLIN)
    assert after.utcoffset() == timedelta(hours=2)
    assert after.timestamp() - midnight.timestamp() == 23 * 3600


def test_local_midnight_skipped_by_dst_is_the_first_real_instant() -> None:
    # Chile springs forward at midnight: 2026-09-06 starts at 01:00 -03
    santiago = ZoneInfo("America/Santiago")
    start = local_midnight(date(2026, 9, 6), santiago)
    assert (start.hour, start.utcoffset()) == (1, timedelta(hours=-3))
    assert start.astimezone(UTC) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)


def test_period_instants_span_local_midnights_with_exclusive_end() -> None:
    start, end = period_instants(MARCH, BERLIN)
    assert start == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert end.timestamp() - start.timestamp() == (31 * 24 - 1) * 3600


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 2, 28, 23, 0, tzinfo=UTC), 0.0),
        (datetime(2026, 2, 1, tzinfo=UTC), 0.0),
        (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), 1.0),
        (datetime(2026, 6, 1, tzinfo=UTC), 1.0),
        (datetime(2026, 3, 16, 10, 30, tzinfo=UTC), 371.5 / 743),
    ],
)
def test_elapsed_share_uses_real_hours(now: datetime, expected: float) -> None:
    start, end = period_instants(MARCH, BERLIN)
    assert elapsed_share(start, end, now) == pytest.approx(expected, abs=1e-12)


def test_elapsed_share_refuses_empty_period_and_naive_now() -> None:
    start, _ = period_instants(MARCH, BERLIN)
    with refuses(ScoringError, "end after it starts"):
        elapsed_share(start, start, start)
    with refuses(ScoringError, "no timezone"):
        elapsed_share(start, start + timedelta(days=1), datetime(2026, 3, 1))

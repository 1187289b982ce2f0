"""Calendar periods in a chat's timezone, shared by OKR cycles and initiative cadences.

Periods are ranges of *local dates*: a log written at 00:30 on 1 April in Berlin
is still 31 March in UTC, yet for a Berlin chat it belongs to April, so every
instant is first turned into the date it had where the chat lives. Periods are
bounded by local midnights, and shares of elapsed time are computed on absolute
instants (POSIX timestamps) so a DST change inside a period counts as the hour it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from scoring.errors import ScoringError

PeriodKind = Literal["day", "week", "month", "quarter", "half", "year"]


@dataclass(frozen=True, slots=True)
class Period:
    """A run of whole local days; `end` is the last day, included."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the period has (a quarter has 90–92)."""
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        """Whether a local date falls inside the period."""
        return self.start <= day <= self.end

    def next(self) -> Period:
        """The period of the same kind that starts the day after this one ends."""
        return period_containing(self.kind, self.end + timedelta(days=1))


def quarter_of(day: date) -> int:
    """The calendar quarter (1–4) a date is in."""
    return (day.month - 1) // 3 + 1


def iso_week(day: date) -> tuple[int, int]:
    """(ISO year, ISO week): 2027-01-01 is in week 53 of 2026, so the year can differ."""
    iso = day.isocalendar()
    return iso.year, iso.week


def _month_start(year: int, month: int) -> date:
    """First day of a month given as a possibly out-of-range month number (13 → next January)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The day, week (ISO, Monday–Sunday), month, quarter, half or year that contains `day`."""
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year, 12, 31))
    months = {"month": 1, "quarter": 3, "half": 6}[kind]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return Period(kind, start, _month_start(day.year, first_month + months) - timedelta(days=1))


def days_left(period: Period, today: date) -> int:
    """Days still available in the period, today included (1 on the last day, 0 after it).

    Today counts because work logged today still counts for the period; a
    reminder on the last day says "last day", not "0 days left".
    """
    if today < period.start:
        return period.days
    return max(0, (period.end - today).days + 1)


def require_aware(instant: datetime, code: str = "time.naive") -> None:
    """Refuse a naive datetime: without an offset the local date is a guess (`code` says
    which time it was: `time.naive_current` for the clock's own)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ScoringError(code, instant=instant)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date an aware instant had in `tz` (23:30 UTC is tomorrow in Moscow)."""
    require_aware(instant)
    return instant.astimezone(tz).date()


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The aware instant at which `day` starts in `tz`.

    Where a DST jump skips midnight itself (e.g. America/Santiago), zoneinfo picks
    the pre-transition offset, which is the first real instant of that day.
    """
    naive = datetime.combine(day, time(0))
    aware = naive.replace(tzinfo=tz)
    # Normalise through UTC so a non-existent wall time becomes the instant it maps to.
    return aware.astimezone(UTC).astimezone(tz)


def period_instants(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """(start, end) of a period as aware local midnights; `end` is exclusive (next day 00:00)."""
    return local_midnight(period.start, tz), local_midnight(period.end + timedelta(days=1), tz)


def elapsed_share(start: datetime, end: datetime, now: datetime) -> float:
    """Share of [start, end) that has passed at `now`, within 0..1.

    Uses timestamps, not wall-clock differences: subtracting two datetimes that
    share a tzinfo ignores a DST change between them in Python.
    """
    require_aware(now, "time.naive_current")
    total = end.timestamp() - start.timestamp()
    if total <= 0:
        raise ScoringError("period.backwards")
    share = (now.timestamp() - start.timestamp()) / total
    return min(1.0, max(0.0, share))

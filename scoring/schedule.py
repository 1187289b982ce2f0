"""When a recurring job fires, on a chat's wall clock: the one schedule type.

`/digest every mon,thu 09:00` stores a `Schedule`; the scheduler asks the same value for
its next fire time (through a thin APScheduler trigger), and so does the command's
confirmation line, so they can never disagree. Wall-clock times follow summer time: a
time that does not exist on a spring-forward day fires at the first instant after the gap.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from scoring.errors import ScoringError

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # 0 is Monday
EVERY_WEEKDAY = frozenset(range(7))
EVERY_MONTH = frozenset(range(1, 13))
_SEARCH_DAYS = 4 * 366  # the longest gap between two fires (a 29 Feb in a leap year)
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])?(?(3)\.?m\.?)", re.IGNORECASE)


class Schedule(BaseModel):
    """Fires at `at` local time on each day matching weekdays, months and day-of-month."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    at: time
    weekdays: frozenset[int] = EVERY_WEEKDAY  # 0 = Monday
    months: frozenset[int] = EVERY_MONTH  # 1 = January
    day: int | None = None  # day of the month; None: any

    @model_validator(mode="before")
    @classmethod
    def _from_named_days(cls, data: Any) -> Any:
        """Read schedules stored before this type: `days` as "mon-fri" or "mon,thu"."""
        if isinstance(data, dict) and isinstance(data.get("days"), str):
            data = {**data, "weekdays": weekdays_from_names(data["days"])}
            del data["days"]
        return data

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: frozenset[int]) -> frozenset[int]:
        if not value or not value <= EVERY_WEEKDAY:
            raise ScoringError("schedule.weekdays")
        return value

    @field_validator("months")
    @classmethod
    def _months(cls, value: frozenset[int]) -> frozenset[int]:
        if not value or not value <= EVERY_MONTH:
            raise ScoringError("schedule.months")
        return value

    @field_validator("day")
    @classmethod
    def _day(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 31:
            raise ScoringError("schedule.day")
        return value

    def fires_on(self, day: date) -> bool:
        """Whether `day` is one of the schedule's days."""
        return (
            day.weekday() in self.weekdays
            and day.month in self.months
            and (self.day is None or day.day == self.day)
        )

    def next_fire(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        """The first fire strictly after `after`, in `tz`; None if it never fires."""
        start = after.astimezone(tz).date() - timedelta(days=1)  # a fold may reach back
        for offset in range(_SEARCH_DAYS):
            day = start + timedelta(days=offset)
            if not self.fires_on(day):
                continue
            # normalise through UTC: a wall time inside a spring-forward gap moves past it
            fire = datetime.combine(day, self.at, tzinfo=tz).astimezone(UTC).astimezone(tz)
            if fire > after:
                return fire
        return None

    def fires_between(
        self, after: datetime, until: datetime, tz: ZoneInfo, limit: int
    ) -> list[datetime]:
        """Fire times in (`after`, `until`], at most `limit`, in UTC."""
        found: list[datetime] = []
        cursor = after
        while len(found) < limit:
            fire = self.next_fire(cursor, tz)
            if fire is None or fire > until:
                break
            found.append(fire.astimezone(UTC))
            cursor = fire
        return found


def weekdays_from_names(days: str) -> frozenset[int]:
    """ "mon", "mon,thu", "mon-fri", "fri-mon" or "*" → weekday numbers (0 = Monday)."""
    if days.strip() == "*":
        return EVERY_WEEKDAY
    found: set[int] = set()
    for part in filter(None, days.replace(" ", "").split(",")):
        first, _, last = part.partition("-")
        if first not in WEEKDAY_NAMES or (last and last not in WEEKDAY_NAMES):
            raise ScoringError("schedule.not_a_weekday", part=part)
        lo = WEEKDAY_NAMES.index(first)
        hi = WEEKDAY_NAMES.index(last) if last else lo
        found.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(hi + 1)])
    if not found:
        raise ScoringError("schedule.no_weekday")
    return frozenset(found)


def weekday_names(weekdays: frozenset[int]) -> str:
    """Weekday numbers → the shortest names: "mon-fri", "mon,thu", "sat-mon", "*"."""
    if weekdays == EVERY_WEEKDAY:
        return "*"
    runs: list[list[int]] = []
    for day in sorted(weekdays):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:  # wraps over the weekend
        runs[0] = runs.pop() + runs[0]
    names = [[WEEKDAY_NAMES[run[0]], WEEKDAY_NAMES[run[-1]]] for run in runs]
    return ",".join(first if first == last else f"{first}-{last}" for first, last in names)


def read_clock(text: str) -> time | None:
    """A time of day as people type it, wherever they do (`/digest every`, `/alerts quiet`):
    `9`, `09:00`, `9.30`, `9am`, `9:30 pm`, `12am` (midnight). None when the text is not
    shaped like one; ValueError when it is but no clock shows it (`25:00`, `13pm`)."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3):  # 12am is midnight, 12pm noon; no clock shows 13pm (24 o'clock)
        pm = match.group(3).casefold() == "p"
        hour = hour % 12 + (12 if pm else 0) if 1 <= hour <= 12 else 24
    return time(hour, minute)  # ValueError beyond 23:59

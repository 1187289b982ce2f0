"""Quiet hours: when non-critical alerts wait, and the instant they may go out.

A chat's quiet window is read off the local wall clock: it is quiet whenever the
chat's clock shows a time inside `start`-`end` (a window with `start > end` crosses
midnight). That makes DST a non-issue for people ("nothing before 08:00" means 08:00
on the day's clock, winter or summer) and leaves two corner cases, both handled:

- the window ends inside a spring-forward gap (e.g. ends 02:30 on the night clocks
  jump 02:00→03:00): it ends at the jump, the first instant the clock shows ≥ 02:30;
- the clock passes the end twice (autumn fall-back): the window ends at the first
  pass; if the clock goes back inside it, it is quiet again until the second pass.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from pydantic import BaseModel, ConfigDict, model_validator

from scoring.errors import ScoringError
from scoring.schedule import read_clock

_WINDOW = re.compile(r"([^-–—]+)[-–—]([^-–—]+)")


class QuietHours(BaseModel):
    """A daily window, in the chat's timezone, during which non-critical alerts are held."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time
    end: time

    @model_validator(mode="after")
    def _distinct(self) -> QuietHours:
        if self.start == self.end:
            raise ScoringError("quiet.same_ends")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ScoringError("quiet.zoned")
        return self

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Read `22:00-08:00` (also `22-8`, `22.00–08.00`, `10pm-8am`: each end as any
        time of day is read, `read_clock`); friendly error otherwise."""
        match = _WINDOW.fullmatch(text)
        ends = [] if match is None else [_end(end) for end in match.groups()]
        if len(ends) != 2 or None in ends:  # `abc-25`: not a window, whatever 25 is
            raise ScoringError("quiet.not_a_window", text=text)
        start, end = ends
        if not isinstance(start, time) or not isinstance(end, time):
            raise ScoringError("quiet.impossible_time", text=text)
        if start == end:
            raise ScoringError("quiet.starts_at_end", text=text)
        return cls(start=start, end=end)

    def contains(self, wall: time) -> bool:
        """Whether a local wall-clock time is inside the window (start included, end not)."""
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _end(text: str) -> time | ValueError | None:
    """One end of a window: its time, the ValueError of a time no clock shows (`25`), or
    None when it is no time at all, so a window with a word for an end is named as no
    window before an impossible hour at its other end is."""
    try:
        return read_clock(text)
    except ValueError as exc:
        return exc


def quiet_release_time(now: datetime, quiet: QuietHours | None, tz: tzinfo) -> datetime | None:
    """When an alert raised at `now` may be sent: None if it is not quiet now.

    The result is the first instant after `now` at which the chat's clock leaves
    the window (in UTC).
    """
    if now.tzinfo is None:
        raise ScoringError("time.naive_now")
    if quiet is None:
        return None
    local = now.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
    if not quiet.contains(wall):
        return None
    day = local.date() + timedelta(days=1 if wall >= quiet.end else 0)
    # After a fall-back the clock may show `end` twice: the first pass still ahead wins.
    return min(at for at in _instants(day, quiet.end, tz) if at > now)


def _instants(day: date, wall: time, tz: tzinfo) -> list[datetime]:
    """The UTC instants the clock in `tz` shows `wall` on `day` (in a gap: when it jumps past)."""
    naive = datetime.combine(day, wall)
    found = sorted(
        {
            candidate.astimezone(UTC)
            for fold in (0, 1)
            if _shows(candidate := naive.replace(tzinfo=tz, fold=fold), naive, tz)
        }
    )
    if found:
        return found
    # Spring-forward gap: `wall` never shows; the window ends when the clock jumps.
    before = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)  # clock still short of `wall`
    after = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)  # clock already past it
    lo, hi = int(before.timestamp()), int(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return [datetime.fromtimestamp(hi, UTC)]


def _shows(candidate: datetime, naive: datetime, tz: tzinfo) -> bool:
    """Whether an aware candidate really exists (round-trips through UTC to the same wall time)."""
    return candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive

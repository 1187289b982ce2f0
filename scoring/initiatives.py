"""Initiatives: cadence targets ("4 articles a month"), progress in the current period, overdue.

Periods are local calendar periods (ISO week Monday–Sunday, month, quarter,
year) in the chat's timezone; a log counts for the period its instant falls
in *locally*. Days left include today, so the last day of a month has 1 day
left and its label says "last day".

Behind cadence, the rule reminders use: the count expected by now is the
target pro rata to the whole days already past in the period, rounded half
up; an initiative is behind when it has done less than that. So 4/month is
behind with 0 done after a week (4 × 7/31 = 0.9 → 1), 1/month only after
mid-month, and 1 of 4 with 5 days of a 31-day month left is behind (3 expected).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from scoring.errors import CadenceFormatError, ScoringError
from scoring.models import Cadence, CadencePeriod, Initiative, ProgressLog
from scoring.periods import Period, days_left, local_date, period_containing

_CADENCE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:x|times)?\s*(?:/|per\b|an?\b)\s*([a-z]+)$")
_PERIODS: dict[str, CadencePeriod] = {
    **dict.fromkeys(("w", "wk", "week", "weeks"), "week"),
    **dict.fromkeys(("m", "mo", "mon", "month", "months"), "month"),
    **dict.fromkeys(("q", "qtr", "quarter", "quarters"), "quarter"),
    **dict.fromkeys(("y", "yr", "year", "years"), "year"),
}


#: Decimal places a period's total is judged at: beyond any amount typed, and above the last
#: binary digit of a sum of them for totals up to about 1e9 (beyond that it changes nothing).
DONE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class CadenceProgress:
    """How much of an initiative's cadence target is done in the current period."""

    done: float
    target: int
    period_start: date
    period_end: date  # the period's last day, included
    days_left: int  # today included
    period: CadencePeriod = "month"

    @property
    def met(self) -> bool:
        """Whether the period's target is already reached."""
        return self.done >= self.target


def parse_cadence(text: str) -> Cadence:
    """Read "4/month", "3 per quarter", "2 a week", "1/yr" into a Cadence."""
    compact = text.strip().casefold()
    match = _CADENCE.match(compact)
    if match is None:
        raise CadenceFormatError("cadence.unreadable", text=text)
    raw_count, raw_period = match.groups()
    period = _PERIODS.get(raw_period)
    if period is None:
        raise CadenceFormatError("cadence.unknown_period", period=raw_period)
    if not raw_count.isdigit():
        raise CadenceFormatError("cadence.not_whole", count=raw_count, period=period)
    count = int(raw_count)
    if count < 1:
        raise CadenceFormatError("cadence.too_few", period=period, count=count)
    return Cadence(count=count, period=period)


def format_cadence(cadence: Cadence) -> str:
    """The canonical spelling, which parse_cadence reads back: "4/month"."""
    return f"{cadence.count}/{cadence.period}"


def cadence_progress(
    initiative: Initiative, logs: Iterable[ProgressLog], today: date, tz: ZoneInfo
) -> CadenceProgress:
    """Progress logged in the period containing `today` against the initiative's cadence."""
    period = period_containing(_cadence_of(initiative).period, today)
    done = sum(
        log.amount
        for log in logs
        if log.initiative == initiative.key and period.contains(local_date(log.at, tz))
    )
    return period_progress(initiative, period, done, today)


def period_progress(
    initiative: Initiative, period: Period, done: float, today: date
) -> CadenceProgress:
    """`done`, logged in `period` (its cadence's period containing `today`), against the
    initiative's cadence: for a caller that summed the period itself (a hashtag reads its
    log blocks' totals, not a model per entry)."""
    cadence = _cadence_of(initiative)
    return count_progress(cadence.count, cadence.period, period, done, today)


def count_progress(
    count: int, every: CadencePeriod, period: Period, done: float, today: date
) -> CadenceProgress:
    """`period_progress` of a cadence given as its `count` per `every`: the sweep reads them
    off the stored initiative without building the model."""
    return CadenceProgress(
        # at the precision people type: a binary sum of tenths lands a hair off (0.1 + 0.2
        # is 0.30000000000000004), and which hair depends on the order it was added in, so
        # "4 of 4" could be met in one reply and not in the next, or after a restart
        done=round(float(done), DONE_DIGITS),
        target=count,
        period_start=period.start,
        period_end=period.end,
        days_left=days_left(period, today),
        period=every,
    )


def _cadence_of(initiative: Initiative) -> Cadence:
    if initiative.cadence is None:
        raise ScoringError("initiative.no_cadence", key=initiative.key)
    return initiative.cadence


def expected_by_now(progress: CadenceProgress, today: date) -> int:
    """The count the cadence expects before today: target × days past / days, rounded half up."""
    total = (progress.period_end - progress.period_start).days + 1
    past = min(total, max(0, (today - progress.period_start).days))
    return math.floor(progress.target * past / total + 0.5)


def behind_cadence(progress: CadenceProgress, today: date) -> bool:
    """Whether the initiative has done less than the cadence expects by now (see module doc)."""
    return not progress.met and progress.done < expected_by_now(progress, today)


def is_overdue(initiative: Initiative, today: date) -> bool:
    """Past its due date (local `today` after `due`) and not marked done."""
    return initiative.due is not None and not initiative.done and today > initiative.due

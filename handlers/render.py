"""Small formatting rules every reply shares: numbers, percentages, colours, trends, ages.

`num` and `pct` are *the* number and percent formatters (handlers.numbers): every reply,
alert, digest and chart writes numbers through them, so they never disagree.
"""

from __future__ import annotations

from datetime import date

from handlers.numbers import (
    format_number,
    format_percent,
    format_percent_exact,
    format_percent_explained,
)
from scoring.aggregation import period_label
from scoring.initiatives import CadenceProgress
from scoring.models import Status, TimeAggregate
from scoring.okr import Pace
from scoring.periods import Period

#: 12.5, 10 000, 0.25, −5; `num(95, "$")` → "95 $"; None → "—" (handlers.numbers).
num = format_number
#: A share as the whole percent reached: 0.7997 → "79%", None → "—" (handlers.numbers).
pct = format_percent
#: A share with two decimals, cut the same way: 0.79666 → "79.66%" (handlers.numbers).
pct_exact = format_percent_exact
#: The whole percent, then its decimals when it has any: "79% (79.66%)" (explain).
pct_explained = format_percent_explained

#: How replies name a KPI's per-period aggregate (`agg=`).
AGG_WORDS: dict[TimeAggregate, str] = {
    "last": "latest value",
    "sum": "sum",
    "avg": "average",
    "max": "highest value",
    "min": "lowest value",
}


def period_aggregate(agg: TimeAggregate, period: Period) -> str:
    """`sum for 2026-11`: a period's value as `/kpi set` and `/kpi unset` name it."""
    return f"{AGG_WORDS[agg]} for {period_label(period)}"


#: How replies name an OKR's or a dated KPI's pace (scoring.okr.Pace is the verdict).
PACE_WORD = {Pace.ON_TRACK: "on track", Pace.BEHIND: "behind", Pace.AT_RISK: "at risk"}
PACE_MARK = {Pace.ON_TRACK: "🟢", Pace.BEHIND: "🟡", Pace.AT_RISK: "🔴"}

STATUS_MARK = {
    Status.GREEN: "🟢",
    Status.YELLOW: "🟡",
    Status.RED: "🔴",
    Status.NODATA: "⚪",
    Status.TEST: "🧪",
}
STATUS_WORD = {
    Status.GREEN: "green",
    Status.YELLOW: "yellow",
    Status.RED: "red",
    Status.NODATA: "no data",
    Status.TEST: "test mode",
}


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 value`, `4 values`, `1 200 values` (irregular plurals via `many`)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}".replace(",", " ")


def cadence_label(progress: CadenceProgress) -> str:
    """An initiative's period so far: `3 of 4 this month, 9 days left` (or `target met`)."""
    label = f"{num(progress.done)} of {progress.target} this {progress.period}"
    if progress.met:
        return label + ", target met"
    if progress.days_left == 1:
        return label + ", last day"
    return label + f", {progress.days_left} days left"


def span(low: float, high: float, unit: str = "") -> str:
    """A range KPI's goal, `2–4 h`: the range it aims for, not the middle it is stored with."""
    return f"{num(low)}–{num(high, unit)}"


def mark(status: Status) -> str:
    """The colour marker shown next to a KPI or score."""
    return STATUS_MARK[status]


def trend(previous: float | None, current: float | None) -> str:
    """↑ / ↓ / → versus the previous value (raw direction; colour says good or bad)."""
    if previous is None or current is None:
        return " "
    if current > previous:
        return "↑"
    if current < previous:
        return "↓"
    return "→"


def day(when: date) -> str:
    """A due day as every reply writes it (`/initiatives`, the digest, a KPI's due date): as
    `due=` takes it, with its year; the list and the digest spelled one day two ways."""
    return when.isoformat()


def age(day: date | None, today: date) -> str:
    """How old a value is, in the words people use in a review meeting."""
    if day is None:
        return "never"
    days = (today - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "1d ago"
    if days < 14:
        return f"{days}d ago"
    if days < 60:
        return f"{days // 7}w ago"
    return f"{days // 30}mo ago"

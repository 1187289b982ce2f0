"""Time aggregation: how a KPI's values inside one period combine into the period's value.

Each KPI declares `agg`: `last` (the latest value of the period; the default, so a KPI
that is typed once a period behaves as before), `sum` (leads per month from daily
counts), `avg` (a conversion rate), `max` or `min`. Its period is its `every` interval
(day, week, month, quarter). `/kpi`, roll-ups, alerts and formulas read the value of the
latest period that has values, so on the first day of a month a monthly sum shows last
month's total until this month gets its first value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from scoring.models import Interval, Measurement, TimeAggregate
from scoring.periods import Period, iso_week, period_containing, quarter_of


def combine(agg: TimeAggregate, values: Sequence[float]) -> float | None:
    """The values (oldest first) combined by `agg`; None when there are none."""
    if not values:
        return None
    if agg == "last":
        return values[-1]
    if agg == "sum":
        return float(sum(values))
    if agg == "avg":
        return sum(values) / len(values)
    if agg == "max":
        return max(values)
    return min(values)


def kpi_period(every: Interval, day: date) -> Period:
    """The period of a KPI's interval that contains `day` (a day is its own period)."""
    return period_containing(every, day)


def period_label(period: Period) -> str:
    """How a period is named in replies: 2026-11-21, 2026-W47, 2026-11, 2026Q4, 2026."""
    if period.kind == "day":
        return period.start.isoformat()
    if period.kind == "week":
        year, week = iso_week(period.start)
        return f"{year}-W{week:02d}"
    if period.kind == "month":
        return period.start.isoformat()[:7]
    if period.kind == "quarter":
        return f"{period.start.year}Q{quarter_of(period.start)}"
    if period.kind == "half":
        return f"{period.start.year}H{1 if period.start.month <= 6 else 2}"
    return str(period.start.year)


@dataclass(frozen=True, slots=True)
class PeriodValue:
    """One period's aggregate: the period, its value, how many readings and the newest day."""

    period: Period
    value: float
    count: int
    last_day: date


def by_period(
    every: Interval, agg: TimeAggregate, history: Iterable[Measurement]
) -> list[PeriodValue]:
    """A history (any order) turned into one aggregate per period, oldest period first."""
    groups: dict[date, list[Measurement]] = {}
    periods: dict[date, Period] = {}
    for m in history:
        period = kpi_period(every, m.day)
        groups.setdefault(period.start, []).append(m)
        periods[period.start] = period
    out: list[PeriodValue] = []
    for start in sorted(groups):
        items = sorted(groups[start], key=lambda m: (m.day, m.at))
        value = combine(agg, [m.value for m in items])
        assert value is not None  # every group has at least one value
        out.append(PeriodValue(periods[start], value, len(items), items[-1].day))
    return out

"""Time aggregation: how the values inside a period combine, and periods by interval."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.aggregation import by_period, combine, kpi_period, period_label
from scoring.models import Measurement, TimeAggregate

AT = datetime(2026, 11, 21, tzinfo=UTC)


def reading(day: date, value: float) -> Measurement:
    return Measurement(kpi="leads", value=value, day=day, at=AT)


@pytest.mark.parametrize(
    "agg, expected", [("last", 4.0), ("sum", 10.0), ("avg", 2.5), ("max", 4.0), ("min", 1.0)]
)
def test_values_of_a_period_combine_by_the_kpis_agg(agg: TimeAggregate, expected: float) -> None:
    assert combine(agg, [2.0, 3.0, 1.0, 4.0]) == expected
    assert combine(agg, []) is None


@pytest.mark.parametrize(
    "every, label",
    [("day", "2026-11-21"), ("week", "2026-W47"), ("month", "2026-11"), ("quarter", "2026Q4")],
)
def test_periods_are_named_as_people_say_them(every: str, label: str) -> None:
    assert period_label(kpi_period(every, date(2026, 11, 21))) == label  # type: ignore[arg-type]


def test_leads_sum_per_month_oldest_period_first() -> None:
    history = [
        reading(date(2026, 11, 2), 30),
        reading(date(2026, 10, 31), 5),
        reading(date(2026, 11, 20), 12),
        reading(date(2026, 10, 1), 7),
    ]
    periods = by_period("month", "sum", history)
    assert [(period_label(p.period), p.value, p.count) for p in periods] == [
        ("2026-10", 12.0, 2),
        ("2026-11", 42.0, 2),
    ]
    assert periods[-1].last_day == date(2026, 11, 20)


_values = st.lists(
    st.tuples(st.integers(0, 400), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=60
)


@settings(max_examples=150, deadline=None)
@given(items=_values, agg=st.sampled_from(["last", "sum", "avg", "max", "min"]))
def test_period_aggregates_partition_the_history(
    items: list[tuple[int, float]], agg: TimeAggregate
) -> None:
    by_day = {date(2026, 1, 1) + timedelta(days=d): v for d, v in items}
    history = [reading(day, v) for day, v in by_day.items()]
    periods = by_period("month", agg, history)
    assert sum(p.count for p in periods) == len(history)
    starts = [p.period.start for p in periods]
    assert starts == sorted(set(starts))
    for p in periods:
        inside = [v for day, v in sorted(by_day.items()) if p.period.contains(day)]
        assert min(inside) - 1e-6 <= p.value <= max(inside) + 1e-6 or agg == "sum"
        if agg == "sum":
            assert p.value == pytest.approx(sum(inside), abs=1e-3)
        if agg == "last":
            assert p.value == inside[-1]

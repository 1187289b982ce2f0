"""`performance`, `progress` and `colour` take the common KPI (no min/max, not a range,
no warn/crit) without their general checks, three to six Python calls fewer at every
scoring: over any definition (broken ones too) and any value (NaN and infinities too),
each gives what the general path gives, the same number or the same error; a planted
bug (a range KPI or a min/max scale taken for the common case) fails that."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import kpi as scales
from scoring import status
from scoring.models import Kpi, Thresholds

NUMBERS = st.one_of(
    st.sampled_from([0.0, 1.0, 50.0, 80.0, 100.0, 120.0, -5.0, math.nan, math.inf, -math.inf]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
MAYBE = st.one_of(st.none(), NUMBERS)
KPIS = st.builds(
    lambda direction, target, baseline, lo, hi, tolerance, warn, crit: Kpi(
        key="k",
        name="K",
        objective="o",
        target=target,
        baseline=baseline,
        direction=direction,
        min=lo,
        max=hi,
        tolerance=tolerance,
        warn=warn,
        crit=crit,
    ),
    st.sampled_from(["up", "down", "range"]),
    NUMBERS,
    NUMBERS,
    MAYBE,
    MAYBE,
    MAYBE,
    MAYBE,
    MAYBE,
)
THRESHOLDS = st.sampled_from([Thresholds(), Thresholds(green=0.9, yellow=0.6)])


def _outcome(score: Callable[[], object]) -> object:
    """What a call gives: its result (NaN as text, so it equals itself) or its error."""
    try:
        found = score()
    except Exception as exc:  # the same error, with the same details
        return (type(exc).__name__, str(exc))
    return "nan" if isinstance(found, float) and math.isnan(found) else found


def _general_colour(kpi: Kpi, value: float, share: float, thresholds: Thresholds) -> object:
    by_limits = status.limits_status(kpi, value)
    if by_limits is not None:
        return by_limits
    return status.status_from_performance(share, thresholds)


def _same(kpi: Kpi, value: float, thresholds: Thresholds) -> None:
    assert _outcome(lambda: scales.progress(kpi, value)) == _outcome(
        lambda: scales._progress(kpi, value)
    )
    assert _outcome(lambda: scales.performance(kpi, value)) == _outcome(
        lambda: scales._performance(kpi, value)
    )
    for share in (0.0, 0.5, 0.79999999999, 0.8, 1.0):
        assert status.colour(kpi, value, share, thresholds) == _general_colour(
            kpi, value, share, thresholds
        )


@settings(max_examples=200, deadline=None)
@given(KPIS, NUMBERS, THRESHOLDS)
def test_the_common_case_scores_as_the_general_path(
    kpi: Kpi, value: float, thresholds: Thresholds
) -> None:
    _same(kpi, value, thresholds)


def test_the_property_catches_a_scale_taken_for_the_common_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: `performance` forgets that a min/max scale or a range changes it."""
    monkeypatch.setattr(
        scales, "performance", lambda kpi, value: scales.clamp01(scales.progress(kpi, value))
    )
    with pytest.raises(AssertionError):
        settings(max_examples=200, deadline=None, derandomize=True)(
            given(KPIS, NUMBERS, THRESHOLDS)(_same)
        )()

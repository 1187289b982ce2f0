"""KPI scales: progress (unclamped), performance (clamped), range tolerance, validation."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest

from handlers.messages import error_text
from scoring.errors import KpiDefinitionError, ScoringError, ZeroWidthScaleError
from scoring.kpi import (
    clamp01,
    infer_direction,
    performance,
    progress,
    validate_kpi,
)
from scoring.models import Kpi
from tests.refusals import refuses


def kpi(**fields: Any) -> Kpi:
    """A KPI with only the fields a test cares about."""
    fields.setdefault("key", "k")
    fields.setdefault("name", "K")
    fields.setdefault("objective", "o")
    fields.setdefault("target", 100.0)
    return Kpi(**fields)


CAC = kpi(key="cac", baseline=120, target=80, direction="down")
SALES = kpi(key="sales", baseline=0, target=40)
BAND = kpi(key="band", target=50, direction="range", min=40, max=60)


# --- progress --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        (CAC, 100, 0.5),
        (CAC, 120, 0.0),
        (CAC, 80, 1.0),
        (CAC, 60, 1.5),
        (CAC, 130, -0.25),
        (SALES, 52, 1.3),
        (SALES, 20, 0.5),
        (SALES, -8, -0.2),
        (kpi(baseline=-10, target=10), 0, 0.5),
    ],
)
def test_progress_is_unclamped_share_of_baseline_to_target(
    item: Kpi, value: float, expected: float
) -> None:
    assert progress(item, value) == pytest.approx(expected)


def test_decrease_is_better_kpi_halfway_is_50_percent() -> None:
    assert progress(CAC, 100) == 0.5
    assert performance(CAC, 100) == 0.5


def test_sales_from_articles_over_target_is_130_percent_progress_but_100_percent_performance() -> (
    None
):
    assert progress(SALES, 52) == pytest.approx(1.3)
    assert performance(SALES, 52) == 1.0


def test_range_kpi_progress_is_its_performance() -> None:
    for value in (30, 35, 40, 50, 60, 65, 90):
        assert progress(BAND, value) == performance(BAND, value)


# --- performance -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        (SALES, 52, 1.0),
        (SALES, -8, 0.0),
        (SALES, 30, 0.75),
        (CAC, 130, 0.0),
        (CAC, 90, 0.75),
    ],
)
def test_performance_without_min_max_is_clamped_progress(
    item: Kpi, value: float, expected: float
) -> None:
    assert performance(item, value) == pytest.approx(expected)


UP_SCALE = kpi(baseline=0, target=40, min=0, max=60)
DOWN_SCALE = kpi(baseline=120, target=80, direction="down", min=60, max=150)


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        (UP_SCALE, 52, 52 / 60),
        (UP_SCALE, 0, 0.0),
        (UP_SCALE, 60, 1.0),
        (UP_SCALE, 70, 1.0),
        (UP_SCALE, -10, 0.0),
        (DOWN_SCALE, 100, 50 / 90),
        (DOWN_SCALE, 150, 0.0),
        (DOWN_SCALE, 60, 1.0),
        (DOWN_SCALE, 40, 1.0),
        (DOWN_SCALE, 200, 0.0),
    ],
)
def test_performance_uses_min_max_scale_mirrored_for_down(
    item: Kpi, value: float, expected: float
) -> None:
    assert performance(item, value) == pytest.approx(expected)


def test_min_max_scale_leaves_progress_on_baseline_target_scale() -> None:
    assert progress(UP_SCALE, 52) == pytest.approx(1.3)
    assert performance(UP_SCALE, 52) == pytest.approx(52 / 60)


@pytest.mark.parametrize(
    ("tolerance", "value", "expected"),
    [
        (None, 40, 1.0),
        (None, 50, 1.0),
        (None, 60, 1.0),
        (None, 35, 0.75),  # 5 below, default tolerance = width 20
        (None, 30, 0.5),
        (None, 20, 0.0),  # exactly at the tolerance
        (None, 10, 0.0),
        (None, 65, 0.75),
        (None, 80, 0.0),
        (10, 35, 0.5),
        (10, 30, 0.0),
        (10, 62.5, 0.75),
        (0, 39.99, 0.0),
        (0, 40, 1.0),
        (0, 60.01, 0.0),
    ],
)
def test_range_is_full_inside_and_fades_to_zero_at_tolerance_outside(
    tolerance: float | None, value: float, expected: float
) -> None:
    item = kpi(target=50, direction="range", min=40, max=60, tolerance=tolerance)
    assert performance(item, value) == pytest.approx(expected)


# --- refusals by the formulas ----------------------------------------------------------


def test_zero_width_progress_scale_is_refused_with_the_numbers() -> None:
    item = kpi(key="flat", baseline=50, target=50)
    with refuses(ZeroWidthScaleError, "baseline and target both 50"):
        progress(item, 60)
    with pytest.raises(ZeroWidthScaleError):
        performance(item, 60)


@pytest.mark.parametrize("direction", ["up", "down", "range"])
def test_zero_width_min_max_scale_is_refused(direction: str) -> None:
    item = kpi(baseline=0, target=10, min=5, max=5, direction=direction)
    with refuses(ZeroWidthScaleError, "min and max both 5"):
        performance(item, 5)


def test_range_without_min_max_cannot_be_scored() -> None:
    with refuses(KpiDefinitionError, "needs both min and max"):
        performance(kpi(direction="range"), 5)


def test_only_one_of_min_max_cannot_be_scored() -> None:
    with refuses(KpiDefinitionError, "min=0 but no max"):
        performance(kpi(min=0), 5)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_value_is_refused(value: float) -> None:
    with refuses(ScoringError, "finite number"):
        progress(SALES, value)
    with refuses(ScoringError, "finite number"):
        performance(SALES, value)


# --- direction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "target", "expected"),
    [(0, 40, "up"), (120, 80, "down"), (-5, 0, "up"), (0, -3, "down"), (0.1, 0.2, "up")],
)
def test_infer_direction_reads_target_against_baseline(
    baseline: float, target: float, expected: str
) -> None:
    assert infer_direction(baseline, target) == expected


def test_infer_direction_refuses_equal_baseline_and_target() -> None:
    with refuses(ZeroWidthScaleError, "both 7"):
        infer_direction(7, 7)


# --- validate_kpi ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        CAC,
        SALES,
        BAND,
        UP_SCALE,
        DOWN_SCALE,
        kpi(target=50, direction="range", min=40, max=60, tolerance=0),
        kpi(baseline=0, target=100, warn=50, crit=30),
        kpi(baseline=0, target=100, warn=50, crit=50),
        kpi(baseline=0, target=100, crit=30),
        kpi(baseline=120, target=80, direction="down", warn=110, crit=130),
        kpi(baseline=0, target=100, weight=0),
        kpi(baseline=50, target=50, direction="range", min=40, max=60),  # range ignores them
    ],
)
def test_valid_definitions_pass(item: Kpi) -> None:
    validate_kpi(item)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"baseline": 5, "target": 5}, ZeroWidthScaleError, "baseline and target both 5"),
        ({"min": 3, "max": 3}, ZeroWidthScaleError, "min and max both 3"),
        ({"min": 0}, KpiDefinitionError, "has min=0 but no max; give both min and max"),
        ({"max": 9}, KpiDefinitionError, "has max=9 but no min"),
        ({"direction": "range"}, KpiDefinitionError, "needs both min and max, e.g. min=40"),
        ({"min": 60, "max": 40}, KpiDefinitionError, "min 60 above max 40; swap them"),
        (
            {"baseline": 120, "target": 80, "direction": "up"},
            KpiDefinitionError,
            "target 80 is below its baseline 120; for a lower-is-better KPI the target is "
            "below the baseline, so use direction=down",
        ),
        (
            {"baseline": 80, "target": 120, "direction": "down"},
            KpiDefinitionError,
            "target 120 is above its baseline 80; for a lower-is-better KPI the target is "
            "below the baseline",
        ),
        ({"target": math.nan}, KpiDefinitionError, "target of KPI 'k' must be a finite number"),
        ({"baseline": math.inf}, KpiDefinitionError, "baseline of KPI 'k' must be a finite"),
        ({"min": -math.inf, "max": 1}, KpiDefinitionError, "min of KPI 'k' must be a finite"),
        ({"warn": math.nan}, KpiDefinitionError, "warn of KPI 'k' must be a finite"),
        ({"weight": -1}, KpiDefinitionError, "weight of KPI 'k' must be 0 or more, not −1"),
        (
            {"direction": "range", "min": 1, "max": 2, "tolerance": -0.5},
            KpiDefinitionError,
            "tolerance of KPI 'k' must be 0 or more, not −0.5",
        ),
        ({"tolerance": 5}, KpiDefinitionError, "only applies to range KPIs"),
        (
            {"warn": 30, "crit": 50},
            KpiDefinitionError,
            "crit must be at or below warn (red comes after yellow on the way down); "
            "got warn 30, crit 50",
        ),
        (
            {"baseline": 120, "target": 80, "direction": "down", "warn": 130, "crit": 110},
            KpiDefinitionError,
            "crit must be at or above warn (red comes after yellow on the way up); "
            "got warn 130, crit 110",
        ),
        (
            {"direction": "range", "min": 40, "max": 60, "warn": 45},
            KpiDefinitionError,
            "range KPI: its colour comes from min, max and tolerance, so remove warn/crit",
        ),
    ],
)
def test_validate_kpi_names_each_problem(
    fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    item = kpi(**fields)
    with pytest.raises(error) as caught:
        validate_kpi(item)
    assert message in error_text(caught.value)
    assert "\n" not in error_text(caught.value)
    assert isinstance(caught.value, ScoringError)


def test_a_definition_with_several_problems_is_refused_for_the_most_basic() -> None:
    with pytest.raises(KpiDefinitionError) as caught:
        validate_kpi(kpi(weight=-2, min=9, max=1, baseline=3, target=3, tolerance=1))
    assert "weight of KPI" in error_text(caught.value)


def test_nan_definition_is_refused_for_the_nan_not_a_nonsense_comparison() -> None:
    with pytest.raises(KpiDefinitionError) as caught:
        validate_kpi(kpi(baseline=math.nan, warn=1, crit=5))
    assert error_text(caught.value) == "The baseline of KPI 'k' must be a finite number, not nan."


# --- properties over many cases ----------------------------------------------------------


def _grid_kpis() -> list[Kpi]:
    items = [CAC, SALES, BAND, UP_SCALE, DOWN_SCALE]
    for lo, hi in ((-5, 5), (0, 1), (100, 250)):
        for tolerance in (None, 0.0, 0.5, 30.0):
            items.append(kpi(direction="range", min=lo, max=hi, tolerance=tolerance))
        items.append(kpi(baseline=lo, target=hi, min=lo - 1, max=hi + 1))
        items.append(kpi(baseline=hi, target=lo, direction="down"))
    return items


VALUES = [x / 4 for x in range(-1200, 1201, 7)]


def test_performance_always_within_0_and_1() -> None:
    for item in _grid_kpis():
        validate_kpi(item)
        for value in VALUES:
            assert 0.0 <= performance(item, value) <= 1.0


def test_performance_moves_with_direction() -> None:
    for item in _grid_kpis():
        if item.direction == "range":
            continue
        shares = [performance(item, v) for v in VALUES]
        pairs = list(pairwise(shares))
        if item.direction == "up":
            assert all(a <= b for a, b in pairs)
        else:
            assert all(a >= b for a, b in pairs)


def test_progress_is_0_at_baseline_and_1_at_target_and_linear() -> None:
    for item in _grid_kpis():
        if item.direction == "range":
            continue
        assert progress(item, item.baseline) == 0.0
        assert progress(item, item.target) == 1.0
        middle = (item.baseline + item.target) / 2
        assert progress(item, middle) == pytest.approx(0.5)


def test_range_performance_is_symmetric_around_the_band() -> None:
    for item in _grid_kpis():
        if item.direction != "range" or item.min is None or item.max is None:
            continue
        for gap in (0.1, 1.0, 3.0, 40.0):
            below = performance(item, item.min - gap)
            above = performance(item, item.max + gap)
            assert below == pytest.approx(above)


@pytest.mark.parametrize(("share", "expected"), [(-0.2, 0.0), (0.0, 0.0), (0.4, 0.4), (1.3, 1.0)])
def test_clamp01_limits_to_0_and_1(share: float, expected: float) -> None:
    assert clamp01(share) == expected

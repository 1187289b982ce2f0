"""Colours: scorecard thresholds, explicit warn/crit, no data and test mode."""

from __future__ import annotations

import pytest

from scoring.models import Kpi, Status, Thresholds
from scoring.status import (
    colour,
    has_limits,
    kpi_status,
    limits_status,
    status_from_performance,
    would_be_status,
)
from tests.scoring.test_kpi import CAC, SALES, kpi

G, Y, R = Status.GREEN, Status.YELLOW, Status.RED


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (1.0, G),
        (0.8, G),
        (0.7999999999999, G),  # float noise from arithmetic is forgiven
        (0.7999, Y),
        (0.5, Y),
        (0.4999, R),
        (0.0, R),
    ],
)
def test_default_thresholds_green_from_80_yellow_from_50(share: float, expected: Status) -> None:
    assert status_from_performance(share) is expected


@pytest.mark.parametrize(
    ("share", "expected"), [(0.9, G), (0.89, Y), (0.6, Y), (0.59, R), (0.95, G)]
)
def test_scorecard_thresholds_are_settable(share: float, expected: Status) -> None:
    assert status_from_performance(share, Thresholds(green=0.9, yellow=0.6)) is expected


def test_equal_green_and_yellow_leaves_no_yellow_band() -> None:
    thresholds = Thresholds(green=0.7, yellow=0.7)
    assert status_from_performance(0.7, thresholds) is G
    assert status_from_performance(0.69, thresholds) is R


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, Y), (88, G), (96, Y), (108, R), (80, G), (130, R)],
)
def test_lower_is_better_kpi_colour_follows_its_performance(
    value: float, expected: Status
) -> None:
    # CAC 120 → 80: 88 is 80 % of the way, 100 is 50 %, 108 is 30 %
    assert kpi_status(CAC, value) is expected


UP_LIMITS = kpi(baseline=0, target=100, warn=50, crit=40)
DOWN_LIMITS = kpi(baseline=150, target=80, direction="down", warn=110, crit=130)


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        (UP_LIMITS, 30, R),
        (UP_LIMITS, 40, R),  # at crit is red: the boundary belongs to the worse colour
        (UP_LIMITS, 40.01, Y),
        (UP_LIMITS, 50, Y),
        (UP_LIMITS, 50.01, G),
        (UP_LIMITS, 100, G),
        (DOWN_LIMITS, 140, R),
        (DOWN_LIMITS, 130, R),
        (DOWN_LIMITS, 129.9, Y),
        (DOWN_LIMITS, 110, Y),
        (DOWN_LIMITS, 109.9, G),
        (DOWN_LIMITS, 60, G),
    ],
)
def test_warn_crit_boundaries_are_inclusive_and_mirrored_for_down(
    item: Kpi, value: float, expected: Status
) -> None:
    assert kpi_status(item, value) is expected


@pytest.mark.parametrize(
    ("fields", "value", "expected"),
    [
        ({"crit": 40}, 40, R),
        ({"crit": 40}, 41, G),
        ({"warn": 50}, 0, Y),
        ({"warn": 50}, 51, G),
        ({"direction": "down", "baseline": 200, "target": 100, "crit": 150}, 150, R),
        ({"direction": "down", "baseline": 200, "target": 100, "warn": 150}, 149, G),
    ],
)
def test_warn_or_crit_alone_gives_two_colours(
    fields: dict[str, float], value: float, expected: Status
) -> None:
    assert limits_status(kpi(**fields), value) is expected


def test_warn_crit_override_the_performance_thresholds() -> None:
    item = kpi(baseline=0, target=100, warn=95, crit=90)
    assert status_from_performance(1.0) is G
    assert kpi_status(item, 100) is G
    assert kpi_status(item, 92) is Y  # 92 % performance would be green by thresholds
    assert kpi_status(item, 85) is R


def test_kpi_without_limits_has_no_limits_status() -> None:
    assert not has_limits(SALES)
    assert limits_status(SALES, 10) is None
    assert has_limits(kpi(crit=0))  # 0 is a real limit, not a missing one


def test_no_value_is_nodata() -> None:
    assert kpi_status(SALES, None) is Status.NODATA
    assert would_be_status(SALES, None) is Status.NODATA


def test_test_mode_kpi_shows_test_but_would_be_colour_is_computable() -> None:
    pilot = SALES.model_copy(update={"test": True})
    assert kpi_status(pilot, 52) is Status.TEST
    assert would_be_status(pilot, 52) is G
    assert would_be_status(pilot, 10) is R


def test_test_mode_without_value_is_test_not_nodata() -> None:
    pilot = SALES.model_copy(update={"test": True})
    assert kpi_status(pilot, None) is Status.TEST


def test_colour_takes_a_precomputed_performance() -> None:
    assert colour(SALES, 10, 0.9) is G  # the caller's performance is trusted
    assert colour(UP_LIMITS, 10, 0.9) is R  # but warn/crit look at the value


def test_status_is_always_a_colour_for_every_measured_value() -> None:
    for value in range(-50, 200, 3):
        for item in (CAC, SALES, UP_LIMITS, DOWN_LIMITS):
            assert kpi_status(item, value) in (G, Y, R)

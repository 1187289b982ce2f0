"""`explain`: both formulas with the KPI's own numbers, then the colour and why."""

from __future__ import annotations

import re

import pytest

from handlers import explain as explain_text
from handlers.numbers import (
    format_number,
    format_percent,
    format_percent_exact,
    format_percent_explained,
)
from scoring import explain as steps
from scoring.kpi import DEFAULT_THRESHOLDS
from scoring.models import Kpi, Thresholds
from tests.scoring.test_kpi import BAND, CAC, DOWN_SCALE, SALES, UP_SCALE, kpi


def explain(
    item: Kpi, value: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[str]:
    """The explanation as chat lines: scoring's steps worded by handlers.explain."""
    return explain_text.lines(steps.explain(item, value, thresholds))


def test_explain_keeps_numbers_as_data_and_words_out_of_scoring() -> None:
    assert steps.explain(CAC, 100)[0] == steps.Ratio("progress", 100, 120, 80, 120)
    assert steps.explain(SALES, None) == [steps.NoValue(key="sales", test=False)]


def test_explain_lower_is_better_kpi_with_its_numbers() -> None:
    assert explain(CAC, 100) == [
        "progress = (value − baseline) / (target − baseline) = (100 − 120) / (80 − 120) "
        "= −20 / −40 = 50%",
        "performance = clamp(progress) = 50%",
        "status = yellow: performance 50% ≥ yellow threshold 50% and < green 80%",
    ]


def test_explain_shows_unclamped_progress_and_clamped_performance() -> None:
    assert explain(SALES, 52) == [
        "progress = (value − baseline) / (target − baseline) = (52 − 0) / (40 − 0) "
        "= 52 / 40 = 130%",
        "performance = clamp(progress) = clamp(130%) = 100%",
        "status = green: performance 100% ≥ green threshold 80%",
    ]


def test_explain_min_max_scale_for_higher_is_better() -> None:
    lines = explain(UP_SCALE, 52)
    assert lines[1] == (
        "performance = (value − min) / (max − min) = (52 − 0) / (60 − 0) = 52 / 60 = 86% (86.66%)"
    )
    assert lines[2] == "status = green: performance 86% (86.66%) ≥ green threshold 80%"


def test_explain_min_max_scale_for_lower_is_better_and_its_clamping() -> None:
    assert explain(DOWN_SCALE, 100)[1] == (
        "performance = (max − value) / (max − min) = (150 − 100) / (150 − 60) = 50 / 90 "
        "= 55% (55.55%)"
    )
    assert explain(DOWN_SCALE, 40)[1] == (
        "performance = (max − value) / (max − min) = (150 − 40) / (150 − 60) = 110 / 90 "
        "= 122% (122.22%), clamped to 100%"
    )
    assert explain(UP_SCALE, -6)[1].endswith("= −6 / 60 = −10%, clamped to 0%")


def test_explain_brackets_negative_operands() -> None:
    item = kpi(baseline=-5, target=15)
    assert explain(item, 0)[0] == (
        "progress = (value − baseline) / (target − baseline) = (0 − (−5)) / (15 − (−5)) "
        "= 5 / 20 = 25%"
    )


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        (BAND, 50, "performance = 100%: 50 is inside the range 40–60"),
        (BAND, 60, "performance = 100%: 60 is inside the range 40–60"),
        (
            BAND,
            35,
            "performance = 1 − (min − value) / tolerance = 1 − (40 − 35) / 20 = 1 − 5 / 20 "
            "= 75% (35 is below the range 40–60; tolerance = the range's width)",
        ),
        (
            BAND,
            85,
            "performance = 1 − (value − max) / tolerance = 1 − (85 − 60) / 20 = 1 − 25 / 20 "
            "= −25%, clamped to 0% (85 is above the range 40–60; tolerance = the range's width)",
        ),
        (
            BAND.model_copy(update={"tolerance": 4}),
            61.5,
            "performance = 1 − (value − max) / tolerance = 1 − (61.5 − 60) / 4 = 1 − 1.5 / 4 "
            "= 62% (62.5%) (61.5 is above the range 40–60)",
        ),
        (
            BAND.model_copy(update={"tolerance": 0}),
            39,
            "performance = 0%: 39 is below the range 40–60 and the tolerance is 0",
        ),
    ],
)
def test_explain_range_kpi(item: Kpi, value: float, expected: str) -> None:
    lines = explain(item, value)
    assert lines[0].startswith("progress = performance (range KPI) = ")
    assert lines[1] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (30, "status = red: value 30 ≤ crit 40"),
        (40, "status = red: value 40 ≤ crit 40"),
        (45, "status = yellow: value 45 ≤ warn 50 but > crit 40"),
        (60, "status = green: value 60 > warn 50"),
    ],
)
def test_explain_names_warn_crit_when_they_decide(value: float, expected: str) -> None:
    assert explain(kpi(baseline=0, target=100, warn=50, crit=40), value)[-1] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (130, "status = red: value 130 ≥ crit 130"),
        (115, "status = yellow: value 115 ≥ warn 110 but < crit 130"),
        (100, "status = green: value 100 < warn 110"),
    ],
)
def test_explain_mirrors_warn_crit_for_lower_is_better(value: float, expected: str) -> None:
    item = kpi(baseline=150, target=80, direction="down", warn=110, crit=130)
    assert explain(item, value)[-1] == expected


def test_explain_with_only_crit_names_crit_for_green() -> None:
    assert explain(kpi(crit=40), 60)[-1] == "status = green: value 60 > crit 40"


def test_explain_red_by_thresholds_and_custom_thresholds() -> None:
    assert explain(CAC, 110)[-1] == "status = red: performance 25% < yellow threshold 50%"
    custom = Thresholds(green=0.9, yellow=0.4)
    assert explain(CAC, 100, custom)[-1] == (
        "status = yellow: performance 50% ≥ yellow threshold 40% and < green 90%"
    )


def test_explain_shows_the_whole_percent_then_its_decimals_never_a_rounded_up_one() -> None:
    item = kpi(baseline=0, target=10000)
    assert explain(item, 7996)[-1] == (
        "status = yellow: performance 79% (79.96%) ≥ yellow threshold 50% and < green 80%"
    )


def test_explain_test_mode_says_it_is_not_counted_and_what_it_would_be() -> None:
    pilot = SALES.model_copy(update={"test": True})
    assert explain(pilot, 52)[-1] == (
        "status = test mode (not counted in roll-ups); would be green: "
        "performance 100% ≥ green threshold 80%"
    )


def test_explain_without_value_says_there_is_nothing_to_score() -> None:
    assert explain(SALES, None) == [
        "status = no data: KPI 'sales' has no value yet, so nothing to score"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, "100"),
        (0.0, "0"),
        (-0.0, "0"),
        (-20.0, "−20"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),
        (0.3 - 0.1, "0.2"),
        (2 / 3, "0.67"),
        (12000.0, "12 000"),
        (0.00004, "0.00004"),
    ],
)
def test_format_number_drops_float_noise(value: float, expected: str) -> None:
    assert format_number(value) == expected


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.5, "50%"),
        (1.304, "130%"),
        (-0.2, "−20%"),
        (0.0, "0%"),
        (12.5, "1 250%"),
        (-12.5, "−1 250%"),
        (1e13, "1 000 000 000 000 000%"),
    ],
)
def test_format_percent_is_whole_percent_grouped_like_any_number(
    share: float, expected: str
) -> None:
    assert format_percent(share) == expected


def test_exact_and_explained_percents_are_grouped_too() -> None:
    assert format_percent_exact(12.34567) == "1 234.56%"
    assert format_percent_explained(-12.34567) == "−1 234% (−1 234.56%)"


def test_explain_never_prints_float_noise() -> None:
    noisy = re.compile(r"\d\.0\b|\d{6,}\.|0{5,}\d")
    items = [CAC, SALES, BAND, UP_SCALE, DOWN_SCALE, kpi(baseline=0.1, target=0.7)]
    for item in items:
        for step in range(-20, 60):
            value = step * 3.7
            for line in explain(item, value):
                assert not noisy.search(line), line

"""Roll-ups: weighted means up the scorecard, aggregate modes, what is left out and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scoring.errors import ScoringError
from scoring.models import Aggregate, Kpi, Objective, Perspective, Status, Thresholds
from scoring.rollup import (
    aggregate,
    check_weight,
    rollup,
    score_kpi,
    score_objective,
    weighted_mean,
)
from tests.refusals import refuses
from tests.scoring.test_kpi import kpi

REMOVED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def pct_kpi(key: str, objective: str = "o", **fields: Any) -> Kpi:
    """A 0→100 KPI, so its value is its performance in percent."""
    return kpi(key=key, objective=objective, baseline=0, target=100, **fields)


def objective(key: str = "o", perspective: str = "p", **fields: Any) -> Objective:
    return Objective(key=key, name=key.title(), perspective=perspective, **fields)


def perspective(key: str = "p", order: int = 0, **fields: Any) -> Perspective:
    return Perspective(key=key, name=key.title(), order=order, **fields)


def one_objective(
    kpis: list[Kpi], latest: dict[str, float], mode: Aggregate = "wavg"
) -> float | None:
    score = rollup([perspective()], [objective(aggregate=mode)], kpis, latest)
    return score.perspectives[0].objectives[0].score


# --- objective level -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("wavg", 0.75), ("avg", 0.5), ("min", 0.0), ("max", 1.0)],
)
def test_objective_aggregate_modes(mode: Aggregate, expected: float) -> None:
    kpis = [pct_kpi("a", weight=3), pct_kpi("b", weight=1)]
    assert one_objective(kpis, {"a": 100, "b": 0}, mode) == pytest.approx(expected)


def test_objective_score_uses_clamped_performance_not_progress() -> None:
    kpis = [pct_kpi("a"), pct_kpi("b")]
    assert one_objective(kpis, {"a": 130, "b": 50}) == pytest.approx(0.75)


def test_kpi_without_data_is_left_out_not_counted_as_zero() -> None:
    kpis = [pct_kpi("a"), pct_kpi("b")]
    score = rollup([perspective()], [objective()], kpis, {"a": 60})
    assert score.perspectives[0].objectives[0].score == pytest.approx(0.6)
    assert score.left_out_nodata == 1
    assert score.left_out_test == 0


def test_test_mode_kpi_is_left_out_even_with_data() -> None:
    kpis = [pct_kpi("a"), pct_kpi("pilot", test=True)]
    score = rollup([perspective()], [objective()], kpis, {"a": 60, "pilot": 0})
    assert score.index == pytest.approx(0.6)
    assert score.left_out_test == 1
    assert score.counts[Status.TEST] == 1


def test_removed_kpi_is_left_out_and_not_shown_in_counts() -> None:
    kpis = [pct_kpi("a"), pct_kpi("old", removed_at=REMOVED_AT)]
    score = rollup([perspective()], [objective()], kpis, {"a": 60, "old": 0})
    assert score.index == pytest.approx(0.6)
    assert score.left_out_removed == 1
    assert sum(score.counts.values()) == 1
    assert [k.key for k in score.perspectives[0].objectives[0].kpis] == ["a"]


def test_weight_zero_kpi_has_no_influence_among_weighted_ones() -> None:
    kpis = [pct_kpi("a"), pct_kpi("b", weight=0)]
    assert one_objective(kpis, {"a": 90, "b": 0}) == pytest.approx(0.9)


def test_all_weights_zero_count_equally() -> None:
    kpis = [pct_kpi("a", weight=0), pct_kpi("b", weight=0)]
    assert one_objective(kpis, {"a": 90, "b": 10}) == pytest.approx(0.5)


@pytest.mark.parametrize("mode", ["wavg", "avg", "min", "max"])
def test_objective_with_nothing_to_score_is_none_and_nodata(mode: Aggregate) -> None:
    kpis = [pct_kpi("a"), pct_kpi("pilot", test=True)]
    score = rollup([perspective()], [objective(aggregate=mode)], kpis, {"pilot": 50})
    scored = score.perspectives[0].objectives[0]
    assert scored.score is None
    assert scored.status is Status.NODATA


def test_objective_without_kpis_is_none() -> None:
    score = rollup([perspective()], [objective()], [], {})
    assert score.perspectives[0].objectives[0].score is None


def test_objective_status_uses_scorecard_thresholds() -> None:
    kpis = [pct_kpi("a")]
    strict = Thresholds(green=0.9, yellow=0.7)
    assert rollup([perspective()], [objective()], kpis, {"a": 85}).status is Status.GREEN
    assert rollup([perspective()], [objective()], kpis, {"a": 85}, strict).status is Status.YELLOW


# --- perspective and index -------------------------------------------------------------


def scorecard() -> tuple[list[Perspective], list[Objective], list[Kpi]]:
    """Finance (weight 2) over customers (weight 1); customers has an empty objective."""
    perspectives = [
        perspective("customers", order=1),
        perspective("finance", order=0, weight=2),
        perspective("learning", order=3),
    ]
    objectives = [
        objective("profit", "finance", weight=3),
        objective("costs", "finance", weight=1),
        objective("content", "customers"),
        objective("prospects", "customers"),
        objective("skills", "learning"),
    ]
    kpis = [
        pct_kpi("margin", "profit"),
        kpi(key="cac", objective="costs", baseline=120, target=80, direction="down"),
        pct_kpi("reads", "content", weight=2),
        pct_kpi("shares", "content"),
        pct_kpi("leads", "prospects"),  # no data
        pct_kpi("courses", "skills", test=True),
    ]
    return perspectives, objectives, kpis


LATEST = {"margin": 100, "cac": 100, "reads": 40, "shares": 70, "courses": 10}


def test_perspective_is_weighted_mean_of_scored_objectives() -> None:
    score = rollup(*scorecard(), LATEST)
    finance = score.perspective("finance")
    customers = score.perspective("customers")
    assert finance is not None and customers is not None
    assert finance.score == pytest.approx((3 * 1.0 + 1 * 0.5) / 4)
    # content = (2·0.4 + 0.7) / 3 = 0.5; prospects has no data and is left out
    assert customers.score == pytest.approx(0.5)
    assert score.objective("prospects") is not None
    assert score.objective("prospects").score is None  # type: ignore[union-attr]


def test_index_is_weighted_mean_of_scored_perspectives() -> None:
    score = rollup(*scorecard(), LATEST)
    assert score.perspective("learning").score is None  # type: ignore[union-attr]
    assert score.index == pytest.approx((2 * 0.875 + 1 * 0.5) / 3)
    assert score.status is Status.YELLOW


def test_perspectives_come_top_to_bottom_by_order() -> None:
    score = rollup(*scorecard(), LATEST)
    assert [p.key for p in score.perspectives] == ["finance", "customers", "learning"]
    assert [o.key for o in score.perspectives[0].objectives] == ["profit", "costs"]


def test_counts_per_perspective_and_left_out_totals() -> None:
    score = rollup(*scorecard(), LATEST)
    customers = score.perspective("customers")
    learning = score.perspective("learning")
    assert customers is not None and learning is not None
    assert dict(customers.counts) == {
        Status.GREEN: 0,
        Status.YELLOW: 1,  # shares 70 %
        Status.RED: 1,  # reads 40 %
        Status.NODATA: 1,  # leads
        Status.TEST: 0,
    }
    assert learning.counts[Status.TEST] == 1
    assert learning.status is Status.NODATA
    assert (score.left_out_nodata, score.left_out_test, score.left_out_removed) == (1, 1, 0)
    assert sum(score.counts.values()) == 6


def test_all_nodata_scorecard_has_no_index() -> None:
    perspectives, objectives, kpis = scorecard()
    score = rollup(perspectives, objectives, kpis, {})
    assert score.index is None
    assert score.status is Status.NODATA
    assert all(p.score is None for p in score.perspectives)
    assert score.left_out_nodata == 5


def test_zero_weight_perspectives_and_objectives_count_equally() -> None:
    perspectives = [perspective("a", 0, weight=0), perspective("b", 1, weight=0)]
    objectives = [objective("oa", "a", weight=0), objective("ob", "b", weight=0)]
    kpis = [pct_kpi("ka", "oa"), pct_kpi("kb", "ob")]
    score = rollup(perspectives, objectives, kpis, {"ka": 100, "kb": 50})
    assert score.index == pytest.approx(0.75)


def test_kpis_and_objectives_outside_the_given_structure_are_not_placed() -> None:
    objectives = [objective("o"), objective("stray", perspective="gone")]
    kpis = [pct_kpi("a"), pct_kpi("orphan", objective="nowhere"), pct_kpi("s", "stray")]
    score = rollup([perspective()], objectives, kpis, {"a": 80, "orphan": 0, "s": 0})
    assert score.index == pytest.approx(0.8)
    assert sum(score.counts.values()) == 1


def test_empty_scorecard_scores_nothing() -> None:
    score = rollup([], [], [], {})
    assert score.index is None
    assert score.perspectives == ()
    assert score.objective("x") is None and score.perspective("x") is None


def test_broken_kpi_definition_fails_with_its_key() -> None:
    kpis = [kpi(key="flat", objective="o", baseline=5, target=5)]
    with refuses(ScoringError, "KPI 'flat'"):
        rollup([perspective()], [objective()], kpis, {"flat": 5})


# --- pieces ---------------------------------------------------------------------------


def test_score_kpi_keeps_progress_unclamped_and_performance_clamped() -> None:
    sales = kpi(key="sales", baseline=0, target=40)
    scored = score_kpi(sales, 52)
    assert scored.progress == pytest.approx(1.3)
    assert scored.performance == 1.0
    assert scored.status is Status.GREEN
    assert scored.counted


def test_score_kpi_test_mode_keeps_its_would_be_colour() -> None:
    scored = score_kpi(pct_kpi("pilot", test=True), 30)
    assert (scored.status, scored.would_be) == (Status.TEST, Status.RED)
    assert not scored.counted
    empty = score_kpi(pct_kpi("pilot", test=True), None)
    assert (empty.status, empty.would_be, empty.performance) == (Status.TEST, Status.NODATA, None)


def test_score_objective_from_scored_kpis() -> None:
    scored = [score_kpi(pct_kpi("a"), 90), score_kpi(pct_kpi("b"), None)]
    result = score_objective(objective(aggregate="min"), scored)
    assert result.score == pytest.approx(0.9)
    assert result.counts[Status.NODATA] == 1


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], None),
        ([(0.5, 1)], 0.5),
        ([(1.0, 3), (0.0, 1)], 0.75),
        ([(1.0, 0), (0.0, 0)], 0.5),
        ([(1.0, 0), (0.2, 2)], 0.2),
    ],
)
def test_weighted_mean(pairs: list[tuple[float, float]], expected: float | None) -> None:
    assert weighted_mean(pairs) == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize("mode", ["wavg", "avg", "min", "max"])
def test_aggregate_of_nothing_is_none(mode: Aggregate) -> None:
    assert aggregate(mode, []) is None


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_check_weight_refuses_unusable_weights(weight: float) -> None:
    with refuses(ScoringError, "weight of objective 'x' must be 0 or more"):
        check_weight(weight, "objective 'x'")


def test_check_weight_accepts_zero_and_positive() -> None:
    check_weight(0, "objective 'x'")
    check_weight(2.5, "objective 'x'")


def test_scores_stay_within_0_and_1_for_any_values() -> None:
    perspectives, objectives, kpis = scorecard()
    for step in range(-30, 60):
        latest = {k.key: step * 5.0 + i for i, k in enumerate(kpis)}
        score = rollup(perspectives, objectives, kpis, latest)
        shares = [score.index] + [p.score for p in score.perspectives]
        shares += [o.score for p in score.perspectives for o in p.objectives]
        assert all(s is None or 0.0 <= s <= 1.0 for s in shares)

"""KPI scales as BSC Designer defines them: progress, performance, validation, explanation.

* **Progress** is the position on the baseline→target scale,
  `(value − baseline) / (target − baseline)`, unclamped: 130 % and −20 % are
  real information. A lower-is-better KPI just has its target below its
  baseline (CAC 120 → 80: value 100 is 50 %).
* **Performance** is the position on the min→max scale, clamped to 0..1; it
  drives colours and roll-ups. Without min/max it is the clamped progress.
* A **range** KPI is good anywhere in [min, max] (100 %) and fades linearly to
  0 % at `tolerance` outside; the tolerance defaults to the range's own width
  (max − min), and 0 means anything outside is 0 %. Its progress is its
  performance; its baseline and target are not used.

The math only checks what each formula needs (so a bad definition fails with
a clear line instead of dividing by zero); `validate_kpi` checks everything a
definition can get wrong and belongs where a KPI is added or edited.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

from scoring.errors import KpiDefinitionError, ScoringError, ZeroWidthScaleError
from scoring.models import Kpi, Thresholds

DEFAULT_THRESHOLDS = Thresholds()


def clamp01(share: float) -> float:
    """A share limited to 0..1 (performance never goes below 0 % or above 100 %)."""
    return 0.0 if share < 0.0 else 1.0 if share > 1.0 else share


def infer_direction(baseline: float, target: float) -> Literal["up", "down"]:
    """Higher or lower is better, read from where the target sits against the baseline."""
    if baseline == target:
        raise ZeroWidthScaleError("kpi.direction_unknown", target=float(target))
    return "up" if target > baseline else "down"


# --- validation -------------------------------------------------------------------------


def _definition_problems(kpi: Kpi) -> Iterator[KpiDefinitionError]:
    """Every problem of a definition, most basic first, as the errors to raise."""
    key = kpi.key
    numbers = {
        "target": kpi.target,
        "baseline": kpi.baseline,
        "min": kpi.min,
        "max": kpi.max,
        "tolerance": kpi.tolerance,
        "weight": kpi.weight,
        "warn": kpi.warn,
        "crit": kpi.crit,
    }
    bad = [field for field, v in numbers.items() if v is not None and not math.isfinite(v)]
    for field in bad:
        yield KpiDefinitionError("kpi.not_finite", field=field, key=key, value=numbers[field])
    if bad:
        return  # the checks below would compare NaN and say nonsense
    if kpi.weight < 0:
        yield KpiDefinitionError("kpi.weight_negative", key=key, weight=kpi.weight)
    tolerance = _tolerance_problem(kpi)
    if tolerance is not None:
        yield tolerance
    scale = _min_max_problem(kpi)
    if scale is not None:
        yield scale
    if kpi.direction == "range":
        if kpi.warn is not None or kpi.crit is not None:
            yield KpiDefinitionError("kpi.range_with_warn", key=key)
        return
    zero = _progress_problem(kpi)
    if zero is not None:
        yield zero
    elif kpi.direction == "up" and kpi.target < kpi.baseline:
        yield KpiDefinitionError(
            "kpi.up_target_below", key=key, target=kpi.target, baseline=kpi.baseline
        )
    elif kpi.direction == "down" and kpi.target > kpi.baseline:
        yield KpiDefinitionError(
            "kpi.down_target_above", key=key, target=kpi.target, baseline=kpi.baseline
        )
    if kpi.tolerance is not None:
        yield KpiDefinitionError("kpi.tolerance_not_range", key=key, direction=kpi.direction)
    if kpi.warn is not None and kpi.crit is not None:
        if kpi.direction == "up" and kpi.crit > kpi.warn:
            yield KpiDefinitionError(
                "kpi.up_crit_above_warn", key=key, warn=kpi.warn, crit=kpi.crit
            )
        if kpi.direction == "down" and kpi.crit < kpi.warn:
            yield KpiDefinitionError(
                "kpi.down_crit_below_warn", key=key, warn=kpi.warn, crit=kpi.crit
            )


def _min_max_problem(kpi: Kpi) -> KpiDefinitionError | None:
    """What is wrong with the min→max scale, if anything (range KPIs need one)."""
    lo, hi = kpi.min, kpi.max
    if lo is not None and hi is not None and lo < hi:
        return None
    key = kpi.key
    if lo is None and hi is None:
        if kpi.direction == "range":
            return KpiDefinitionError("kpi.range_needs_scale", key=key)
        return None
    if lo is None or hi is None:
        end, missing = ("min", "max") if lo is not None else ("max", "min")
        value = lo if lo is not None else hi
        return KpiDefinitionError("kpi.half_scale", key=key, end=end, value=value, missing=missing)
    if lo > hi:
        return KpiDefinitionError("kpi.min_above_max", key=key, low=lo, high=hi)
    if lo == hi:
        return ZeroWidthScaleError("kpi.zero_width_scale", key=key, value=lo)
    return KpiDefinitionError("kpi.scale_not_finite", key=key)


def _tolerance_problem(kpi: Kpi) -> KpiDefinitionError | None:
    """A negative tolerance, which would make performance rise further outside the range."""
    if kpi.tolerance is not None and kpi.tolerance < 0:
        return KpiDefinitionError("kpi.tolerance_negative", key=kpi.key, tolerance=kpi.tolerance)
    return None


def _progress_problem(kpi: Kpi) -> ZeroWidthScaleError | None:
    """A zero-width baseline→target scale, which no value can be placed on."""
    if kpi.direction != "range" and kpi.target == kpi.baseline:
        return ZeroWidthScaleError("kpi.zero_width_progress", key=kpi.key, target=kpi.target)
    return None


def validate_kpi(kpi: Kpi) -> None:
    """Refuse a KPI definition that cannot be scored, naming the first problem found.

    Checks: finite numbers; weight and tolerance ≥ 0; min and max both or
    neither, min < max; range KPIs have min/max and no warn/crit; baseline ≠
    target and the target on the side the direction says; tolerance only on
    range KPIs; crit ≤ warn for up, crit ≥ warn for down.
    """
    for problem in _definition_problems(kpi):
        raise problem


# --- the two scales ---------------------------------------------------------------------


def _check_value(kpi: Kpi, value: float) -> None:
    """A value must be a real number before it goes on any scale."""
    if not math.isfinite(value):
        raise ScoringError("kpi.value_not_finite", key=kpi.key, value=value)


def progress(kpi: Kpi, value: float) -> float:
    """Position on the baseline→target scale, unclamped (range KPIs: their performance)."""
    baseline, target = kpi.baseline, kpi.target
    if kpi.direction != "range" and target != baseline and math.isfinite(value):
        return (value - baseline) / (target - baseline)  # `_progress`, checks passed
    return _progress(kpi, value)


def _progress(kpi: Kpi, value: float) -> float:
    """`progress`, every check made (a non-finite value, a range KPI, a zero-width scale):
    `progress` takes the common case itself, three Python calls fewer at every scoring."""
    _check_value(kpi, value)
    if kpi.direction == "range":
        return performance(kpi, value)
    zero = _progress_problem(kpi)
    if zero is not None:
        raise zero
    return (value - kpi.baseline) / (kpi.target - kpi.baseline)


def scale(kpi: Kpi) -> tuple[float, float] | None:
    """The valid (min, max) of a KPI, None when it has none; raises when it is broken."""
    problem = _min_max_problem(kpi)
    if problem is not None:
        raise problem
    if kpi.min is None or kpi.max is None:
        return None
    return kpi.min, kpi.max


def range_tolerance(kpi: Kpi, lo: float, hi: float) -> float:
    """How far outside a range performance reaches 0 %: the given tolerance or the width."""
    if kpi.tolerance is None:
        return hi - lo
    problem = _tolerance_problem(kpi)
    if problem is not None:
        raise problem
    return kpi.tolerance


def performance(kpi: Kpi, value: float) -> float:
    """Position on the min→max scale (or the progress), clamped to 0..1.

    `up`: (value − min) / (max − min); `down`: (max − value) / (max − min);
    `range`: 1 inside [min, max], then 1 − distance / tolerance outside.
    """
    if kpi.min is None and kpi.max is None and kpi.direction != "range":
        return clamp01(progress(kpi, value))  # `_performance` without a scale to check
    return _performance(kpi, value)


def _performance(kpi: Kpi, value: float) -> float:
    """`performance`, every case (`performance` takes the common one, no min/max, itself)."""
    _check_value(kpi, value)
    bounds = scale(kpi)
    if bounds is None:
        return clamp01(progress(kpi, value))
    lo, hi = bounds
    if kpi.direction == "range":
        if lo <= value <= hi:
            return 1.0
        reach = range_tolerance(kpi, lo, hi)
        gap = lo - value if value < lo else value - hi
        return 0.0 if reach == 0 else clamp01(1.0 - gap / reach)
    if kpi.direction == "down":
        return clamp01((hi - value) / (hi - lo))
    return clamp01((value - lo) / (hi - lo))

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
from scoring.numbers import format_number

DEFAULT_THRESHOLDS = Thresholds()


_n = format_number


def clamp01(share: float) -> float:
    """A share limited to 0..1 (performance never goes below 0 % or above 100 %)."""
    return 0.0 if share < 0.0 else 1.0 if share > 1.0 else share


def infer_direction(baseline: float, target: float) -> Literal["up", "down"]:
    """Higher or lower is better, read from where the target sits against the baseline."""
    if baseline == target:
        raise ZeroWidthScaleError(
            f"Baseline and target are both {_n(target)}, so I can't tell whether higher or "
            "lower is better; give a target different from the baseline."
        )
    return "up" if target > baseline else "down"


# --- validation -------------------------------------------------------------------------


def _name(kpi: Kpi) -> str:
    """How messages name a KPI."""
    return f"KPI '{kpi.key}'"


def _definition_problems(kpi: Kpi) -> Iterator[KpiDefinitionError]:
    """Every problem of a definition, most basic first, as the errors to raise."""
    name = _name(kpi)
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
        yield KpiDefinitionError(
            f"The {field} of {name} must be a finite number, not {numbers[field]}."
        )
    if bad:
        return  # the checks below would compare NaN and say nonsense
    if kpi.weight < 0:
        yield KpiDefinitionError(f"The weight of {name} must be 0 or more, not {_n(kpi.weight)}.")
    tolerance = _tolerance_problem(kpi)
    if tolerance is not None:
        yield tolerance
    scale = _min_max_problem(kpi)
    if scale is not None:
        yield scale
    if kpi.direction == "range":
        if kpi.warn is not None or kpi.crit is not None:
            yield KpiDefinitionError(
                f"{name} is a range KPI: its colour comes from min, max and tolerance, "
                "so remove warn/crit."
            )
        return
    zero = _progress_problem(kpi)
    if zero is not None:
        yield zero
    elif kpi.direction == "up" and kpi.target < kpi.baseline:
        yield KpiDefinitionError(
            f"{name} is higher-is-better (up) but its target {_n(kpi.target)} is below its "
            f"baseline {_n(kpi.baseline)}; for a lower-is-better KPI the target is below the "
            "baseline, so use direction=down."
        )
    elif kpi.direction == "down" and kpi.target > kpi.baseline:
        yield KpiDefinitionError(
            f"{name} is lower-is-better (down) but its target {_n(kpi.target)} is above its "
            f"baseline {_n(kpi.baseline)}; for a lower-is-better KPI the target is below the "
            "baseline, so lower the target or use direction=up."
        )
    if kpi.tolerance is not None:
        yield KpiDefinitionError(
            f"The tolerance of {name} only applies to range KPIs; it is direction "
            f"{kpi.direction}, so remove the tolerance."
        )
    if kpi.warn is not None and kpi.crit is not None:
        if kpi.direction == "up" and kpi.crit > kpi.warn:
            yield KpiDefinitionError(
                f"For higher-is-better {name} crit must be at or below warn (red comes after "
                f"yellow on the way down); got warn {_n(kpi.warn)}, crit {_n(kpi.crit)}."
            )
        if kpi.direction == "down" and kpi.crit < kpi.warn:
            yield KpiDefinitionError(
                f"For lower-is-better {name} crit must be at or above warn (red comes after "
                f"yellow on the way up); got warn {_n(kpi.warn)}, crit {_n(kpi.crit)}."
            )


def _min_max_problem(kpi: Kpi) -> KpiDefinitionError | None:
    """What is wrong with the min→max scale, if anything (range KPIs need one)."""
    lo, hi = kpi.min, kpi.max
    if lo is not None and hi is not None and lo < hi:
        return None
    name = _name(kpi)
    if lo is None and hi is None:
        if kpi.direction == "range":
            return KpiDefinitionError(f"Range {name} needs both min and max, e.g. min=40 max=60.")
        return None
    if lo is None or hi is None:
        given = f"min={_n(lo)}" if lo is not None else f"max={_n(hi or 0.0)}"
        missing = "max" if lo is not None else "min"
        return KpiDefinitionError(
            f"{name} has {given} but no {missing}; give both min and max, or neither."
        )
    if lo > hi:
        return KpiDefinitionError(
            f"{name} has min {_n(lo)} above max {_n(hi)}; swap them "
            "(min is the low end even when lower is better)."
        )
    if lo == hi:
        return ZeroWidthScaleError(
            f"{name} has min and max both {_n(lo)}; the scale needs two different ends."
        )
    return KpiDefinitionError(f"{name} needs min and max that are finite numbers.")


def _tolerance_problem(kpi: Kpi) -> KpiDefinitionError | None:
    """A negative tolerance, which would make performance rise further outside the range."""
    if kpi.tolerance is not None and kpi.tolerance < 0:
        return KpiDefinitionError(
            f"The tolerance of {_name(kpi)} must be 0 or more, not {_n(kpi.tolerance)}."
        )
    return None


def _progress_problem(kpi: Kpi) -> ZeroWidthScaleError | None:
    """A zero-width baseline→target scale, which no value can be placed on."""
    if kpi.direction != "range" and kpi.target == kpi.baseline:
        return ZeroWidthScaleError(
            f"{_name(kpi)} has baseline and target both {_n(kpi.target)}; "
            "progress needs a target different from the baseline."
        )
    return None


def kpi_problems(kpi: Kpi) -> list[str]:
    """Every problem of a KPI definition as a chat line (empty when it is fine)."""
    return [str(problem) for problem in _definition_problems(kpi)]


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
        raise ScoringError(f"The value of {_name(kpi)} must be a finite number, not {value}.")


def progress(kpi: Kpi, value: float) -> float:
    """Position on the baseline→target scale, unclamped (range KPIs: their performance)."""
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

"""`explain` as data: the steps of a KPI's scoring with its own numbers, no words.

Each step names which formula it is and carries the numbers that went in and the share
that came out; `handlers.explain` words them (and would translate them). Kept apart from
scoring.kpi (the scales) and scoring.status (the colours) because it builds on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scoring.kpi import DEFAULT_THRESHOLDS, clamp01, performance, progress, range_tolerance, scale
from scoring.models import Kpi, Status, Thresholds
from scoring.status import colour, has_limits


@dataclass(frozen=True)
class NoValue:
    """Nothing to score: the KPI has no value (`test` says it is in test mode)."""

    key: str
    test: bool


@dataclass(frozen=True)
class RangeProgress:
    """A range KPI's progress is its performance."""

    share: float


@dataclass(frozen=True)
class Ratio:
    """`(a − b) / (c − d)`: progress, or performance on an up / down min→max scale."""

    kind: Literal["progress", "performance_up", "performance_down"]
    a: float
    b: float
    c: float
    d: float

    @property
    def share(self) -> float:
        """What the ratio comes to (before any clamping)."""
        return (self.a - self.b) / (self.c - self.d)


@dataclass(frozen=True)
class ClampedProgress:
    """Performance without a min→max scale: the progress `raw`, clamped to `share`."""

    raw: float
    share: float


@dataclass(frozen=True)
class RangeInside:
    """A range KPI's value inside its band: 100 %."""

    value: float
    lo: float
    hi: float


@dataclass(frozen=True)
class RangeOutside:
    """A range KPI's value outside its band, fading over `tolerance` (0: straight to 0 %)."""

    value: float
    lo: float
    hi: float
    tolerance: float
    default_tolerance: bool

    @property
    def below(self) -> bool:
        """Whether the value is under the band (else over it)."""
        return self.value < self.lo

    @property
    def gap(self) -> float:
        """How far outside the band the value is."""
        return self.lo - self.value if self.below else self.value - self.hi


@dataclass(frozen=True)
class Colour:
    """The colour a measured KPI earns and what decided it (warn/crit or thresholds)."""

    status: Status
    value: float
    performance: float
    thresholds: Thresholds
    by_limits: bool
    direction: str
    warn: float | None
    crit: float | None
    test: bool


Step = NoValue | RangeProgress | Ratio | ClampedProgress | RangeInside | RangeOutside | Colour


def colour_basis(
    kpi: Kpi, value: float, perf: float, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Colour:
    """The colour of a measured KPI with everything that decided it."""
    return Colour(
        status=colour(kpi, value, perf, thresholds),
        value=value,
        performance=perf,
        thresholds=thresholds,
        by_limits=has_limits(kpi),
        direction=kpi.direction,
        warn=kpi.warn,
        crit=kpi.crit,
        test=kpi.test,
    )


def explain(
    kpi: Kpi, value: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[Step]:
    """Both formulas with the KPI's numbers filled in, then the colour and why."""
    if value is None:
        return [NoValue(key=kpi.key, test=kpi.test)]
    steps: list[Step] = []
    perf = performance(kpi, value)
    bounds = scale(kpi)
    if kpi.direction == "range":
        assert bounds is not None  # scale refuses a range without min/max
        lo, hi = bounds
        steps.append(RangeProgress(perf))
        if lo <= value <= hi:
            steps.append(RangeInside(value, lo, hi))
        else:
            reach = range_tolerance(kpi, lo, hi)
            steps.append(RangeOutside(value, lo, hi, reach, kpi.tolerance is None))
    else:
        steps.append(Ratio("progress", value, kpi.baseline, kpi.target, kpi.baseline))
        if bounds is None:
            steps.append(ClampedProgress(progress(kpi, value), perf))
        elif kpi.direction == "down":
            lo, hi = bounds
            steps.append(Ratio("performance_down", hi, value, hi, lo))
        else:
            lo, hi = bounds
            steps.append(Ratio("performance_up", value, lo, hi, lo))
    steps.append(colour_basis(kpi, value, perf, thresholds))
    return steps


__all__ = [
    "ClampedProgress",
    "Colour",
    "NoValue",
    "RangeInside",
    "RangeOutside",
    "RangeProgress",
    "Ratio",
    "Step",
    "clamp01",
    "colour_basis",
    "explain",
]

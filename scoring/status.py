"""Colours: performance (or a KPI's explicit warn/crit values) → Status.

Two kinds of boundary, each inclusive on purpose:

* Scorecard thresholds are levels to *reach*: performance at or above
  `green` is green, at or above `yellow` is yellow, else red. A float error
  of `EPS` (1e-9) is forgiven, so 0.7999999999 from arithmetic still counts as
  80 % — exactly what handlers.numbers forgives when it cuts a share to the whole
  percent reached, so a shown percent and its colour always agree.
* A KPI's `warn`/`crit` are alarm levels in the KPI's unit, to *hit*: for a
  higher-is-better KPI a value at or below `crit` is red, at or below `warn`
  yellow, else green; for a lower-is-better KPI at or above `crit` is red, at
  or above `warn` yellow. Either may be set alone (only `crit`: red or green).
  When at least one is set they replace the scorecard thresholds for that KPI.

`kpi_status` is what a KPI shows (TEST in test mode); `would_be_status` is
the colour it would have outside test mode. Callers pass the KPI as judged on its
value's day (`scoring.targets.judged_on`: a staged target, a sum's share due so far).
"""

from __future__ import annotations

from scoring.kpi import DEFAULT_THRESHOLDS, performance
from scoring.models import Kpi, Status, Thresholds
from scoring.tolerance import EPS as EPS  # re-exported: scoring.okr imports it from here


def status_from_performance(
    performance: float, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Status:
    """Green / yellow / red for a performance share by the scorecard thresholds."""
    if performance + EPS >= thresholds.green:
        return Status.GREEN
    if performance + EPS >= thresholds.yellow:
        return Status.YELLOW
    return Status.RED


def has_limits(kpi: Kpi) -> bool:
    """Whether the KPI's own warn/crit values decide its colour."""
    return kpi.warn is not None or kpi.crit is not None


def limits_status(kpi: Kpi, value: float) -> Status | None:
    """Colour from the KPI's warn/crit values, or None when it has neither."""
    if not has_limits(kpi):
        return None
    if kpi.direction == "down":
        if kpi.crit is not None and value >= kpi.crit:
            return Status.RED
        if kpi.warn is not None and value >= kpi.warn:
            return Status.YELLOW
        return Status.GREEN
    if kpi.crit is not None and value <= kpi.crit:
        return Status.RED
    if kpi.warn is not None and value <= kpi.warn:
        return Status.YELLOW
    return Status.GREEN


def colour(
    kpi: Kpi, value: float, performance: float, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Status:
    """The colour a measured KPI earns, ignoring test mode (warn/crit first, else thresholds)."""
    if kpi.warn is None and kpi.crit is None:  # `has_limits`, inline: most KPIs have none
        return status_from_performance(performance, thresholds)
    by_limits = limits_status(kpi, value)
    if by_limits is not None:
        return by_limits
    return status_from_performance(performance, thresholds)


def would_be_status(
    kpi: Kpi, value: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Status:
    """The colour a KPI would show if it were not in test mode (NODATA without a value)."""
    if value is None:
        return Status.NODATA
    return colour(kpi, value, performance(kpi, value), thresholds)


def kpi_status(
    kpi: Kpi, value: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Status:
    """The colour shown for a KPI: TEST in test mode (even without data), else its colour."""
    if kpi.test:
        return Status.TEST
    return would_be_status(kpi, value, thresholds)

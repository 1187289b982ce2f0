"""Hysteresis and confirmation: the colour an alert acts on, and why it differs from the
KPI's colour now (`Hold`, for `/alerts` and held alerts to say in words). Pure."""

from __future__ import annotations

import math
from typing import Literal

from scoring.alert_policy import AlertPolicy, Frozen
from scoring.alert_records import COLOURS, SEVERITY, AlertState
from scoring.models import Kpi, Status, Thresholds

_DEFAULT_THRESHOLDS = Thresholds()


def settle(
    current: Status,
    raw: Status,
    *,
    kpi: Kpi,
    value: float,
    performance: float,
    thresholds: Thresholds = _DEFAULT_THRESHOLDS,
    hysteresis: float = 0.05,
) -> Status:
    """The colour to act on, given the current one and the freshly computed `raw` one.

    Worse (or equal) than `current`: `raw`, at the threshold. Better: the best colour
    whose threshold the reading clears by the margin, but never better than `raw` nor
    worse than `current`. So red → 0.82 performance (green ≥ 0.8, margin 0.05) moves
    to yellow only, and a value hovering around a threshold changes colour once.

    Boundaries are those of scoring.status: the scorecard's performance shares, or,
    when the KPI has `warn`/`crit` (either alone replaces the shares), those values in
    the KPI's unit, read the way status reads them (lower-is-better only for "down";
    only `crit`: red or green; only `warn`: yellow or green).
    """
    if current not in COLOURS or SEVERITY[raw] >= SEVERITY[current]:
        return raw
    cleared = _cleared(kpi, value, performance, thresholds, hysteresis)
    capped = max(cleared, raw, key=SEVERITY.__getitem__)  # never better than raw
    return min(capped, current, key=SEVERITY.__getitem__)  # never worse than current


class Hold(Frozen):
    """Why an alert's colour differs from the KPI's colour now (for `/alerts` to say in words).

    `kind` "hysteresis": the reading is better than the alert's colour but has not cleared
    its threshold by the margin; `to` is the next better colour and `at` where it starts
    (a performance share, or with `in_value` a value in the KPI's unit, to reach upwards
    unless `downwards`). `kind` "confirm": a different colour waits for `needed` readings
    in a row and has `seen` so far.
    """

    kind: Literal["hysteresis", "confirm"]
    to: Status
    at: float | None = None
    in_value: bool = False
    downwards: bool = False
    seen: int = 0
    needed: int = 1


def hold(
    state: AlertState,
    raw: Status,
    *,
    kpi: Kpi,
    value: float,
    performance: float,
    policy: AlertPolicy,
    thresholds: Thresholds = _DEFAULT_THRESHOLDS,
) -> Hold | None:
    """Why the alert state's colour is not the KPI's colour `raw` now (None: they agree).

    Uses the same rules as `evaluate`: `settle` (hysteresis) first, then confirmation.
    """
    if raw not in COLOURS or raw == state.status:
        return None
    goal = settle(
        state.status,
        raw,
        kpi=kpi,
        value=value,
        performance=performance,
        thresholds=thresholds,
        hysteresis=policy.hysteresis,
    )
    if goal != state.status:
        seen = state.pending_count if state.pending == goal else 0
        return Hold(kind="confirm", to=goal, seen=seen, needed=policy.confirm)
    better = _next_better(state.status)
    if kpi.warn is None and kpi.crit is None:
        level = thresholds.green if better is Status.GREEN else thresholds.yellow
        return Hold(kind="hysteresis", to=better, at=level + policy.hysteresis)
    down = kpi.direction == "down"
    limit = (
        (kpi.warn if kpi.warn is not None else kpi.crit) if better is Status.GREEN else kpi.crit
    )
    margin = _value_margin(kpi, policy.hysteresis)
    at = None if limit is None else limit - margin if down else limit + margin
    return Hold(kind="hysteresis", to=better, at=at, in_value=True, downwards=down)


def _next_better(status: Status) -> Status:
    """The colour one step better than `status` (red → yellow → green)."""
    return Status.YELLOW if status is Status.RED else Status.GREEN


def _cleared(
    kpi: Kpi, value: float, performance: float, thresholds: Thresholds, hysteresis: float
) -> Status:
    """The colour the reading earns with every boundary moved `hysteresis` to the good side."""
    if kpi.warn is None and kpi.crit is None:
        if _at_least(performance - thresholds.green, hysteresis):
            return Status.GREEN
        if _at_least(performance - thresholds.yellow, hysteresis):
            return Status.YELLOW
        return Status.RED
    side = -1.0 if kpi.direction == "down" else 1.0
    margin = _value_margin(kpi, hysteresis)
    green_from = kpi.warn if kpi.warn is not None else kpi.crit
    if green_from is not None and _at_least(side * (value - green_from), margin):
        return Status.GREEN
    if kpi.crit is None or _at_least(side * (value - kpi.crit), margin):
        return Status.YELLOW
    return Status.RED


def _value_margin(kpi: Kpi, hysteresis: float) -> float:
    """`hysteresis` × the KPI's progress scale |target − baseline| (else |warn − crit|)."""
    scale = abs(kpi.target - kpi.baseline)
    if scale == 0 and kpi.warn is not None and kpi.crit is not None:
        scale = abs(kpi.warn - kpi.crit)
    return hysteresis * scale


def _at_least(amount: float, margin: float) -> bool:
    """`amount >= margin`, forgiving float noise so 0.85 clears 0.8 + 0.05."""
    return amount >= margin or math.isclose(amount, margin, rel_tol=1e-9, abs_tol=1e-12)

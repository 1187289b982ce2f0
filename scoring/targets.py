"""Dated targets: a target due on a day, staged targets on the way, pace and a forecast;
a sum's share of its target due so far.

* `due=2027-09-30` says when the target must be reached; the clock starts at `due_from`
  (the day the due date was set unless given). **Pace** compares progress with the share
  of that time elapsed, with the OKR rule (on track ≥ 95 % of expected, behind ≥ 75 %).
* `staged=2027Q1:10500,2027Q2:11000` sets intermediate targets: the one in force on a day
  is the first stage not yet over, else the final target. Scores use the target in force
  on the day of the value.
* A higher-is-better **sum** (`agg=sum`: leads a month) is judged on pace: its period's
  numbers times the share of the period's days up to its newest value (`judged_on`), so
  the month's first leads are not red against the whole month's target.
* The **forecast** is a least-squares line through the period values since `due_from`,
  read at the due date: "on pace to reach 11 400 of 12 000".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from scoring.aggregation import kpi_period
from scoring.errors import KpiDefinitionError
from scoring.kpi import validate_kpi
from scoring.models import Interval, Kpi, StagedTarget
from scoring.okr import Pace, pace


def target_on(kpi: Kpi, day: date) -> float:
    """The target in force on `day`: the first stage that has not ended, else the target."""
    for stage in kpi.staged:
        if day <= stage.until:
            return stage.target
    return kpi.target


def kpi_on(kpi: Kpi, day: date | None) -> Kpi:
    """The KPI as scored on `day` (its staged target in place of the final one)."""
    if day is None or not kpi.staged:
        return kpi
    target = target_on(kpi, day)
    return kpi if target == kpi.target else kpi.model_copy(update={"target": target})


#: The numbers of a KPI in its unit, which a share of its period scales (`judged_on`).
_SCALED = ("target", "baseline", "min", "max", "warn", "crit")


def paced(kpi: Kpi) -> bool:
    """A higher-is-better sum, judged on pace (`due_share`); a budget summed over the month
    is judged on the whole budget: what is spent stays spent."""
    return kpi.agg == "sum" and kpi.direction == "up"


def due_share(kpi: Kpi, day: date, newest: date | None = None) -> float:
    """The share of a higher-is-better sum's period numbers due by the period's newest value
    (`newest`, else `day`): its days up to that one over all its days, so 25 leads by the
    2nd of a 300-a-month target are judged against 20. 1.0 for any other KPI (`paced`), on
    the period's last day, and for a period a later value follows (it is over)."""
    if not paced(kpi):
        return 1.0
    gone, days = due_days(kpi.every, day, newest)
    return 1.0 if gone == days else gone / days


def due_days(every: Interval, day: date, newest: date | None = None) -> tuple[int, int]:
    """`due_share` in days, as `explain` says it (`20 of 30 days`): the days of `day`'s
    period up to its newest value (`newest`, else `day`), all of them once it is over."""
    period = kpi_period(every, day)
    through = day if newest is None or newest < day else newest
    if through >= period.end:
        return period.days, period.days
    return (through - period.start).days + 1, period.days


def judged_on(kpi: Kpi, day: date | None, newest: date | None = None) -> Kpi:
    """The KPI whose numbers judge a value of `day` (colour, performance, roll-up, alerts):
    `kpi_on`'s, and a sum's share of them due so far (`due_share`). What people read as
    the target and the progress stays `kpi_on`'s: the whole period's."""
    if day is None or kpi.agg != "sum":
        return kpi_on(kpi, day)
    scored = kpi_on(kpi, day)
    share = due_share(scored, day, newest)
    if share == 1.0:
        return scored
    numbers = {f: getattr(scored, f) for f in _SCALED if getattr(scored, f) is not None}
    return scored.model_copy(update={f: v * share for f, v in numbers.items()})


def validate_dated(kpi: Kpi) -> None:
    """Refuse a due date before its start, stages after the due date, or a stage target
    that could not be scored (same as the baseline, or on the wrong side of it)."""
    if kpi.due is not None and kpi.due_from is not None and kpi.due_from >= kpi.due:
        raise KpiDefinitionError("due.before_start", key=kpi.key, due=kpi.due, start=kpi.due_from)
    for stage in kpi.staged:
        if kpi.due is not None and stage.until > kpi.due:
            raise KpiDefinitionError(
                "stage.after_due", key=kpi.key, until=stage.until, due=kpi.due
            )
        if not math.isfinite(stage.target):
            raise KpiDefinitionError("stage.not_finite", key=kpi.key)
        _check_stage_side(kpi, stage)
        validate_kpi(kpi.model_copy(update={"target": stage.target}))


def _check_stage_side(kpi: Kpi, stage: StagedTarget) -> None:
    """A stage is measured from the baseline like the final target: it must differ from the
    baseline and lie on the final target's side of it (the message names the stage, since
    the KPI's own target is fine)."""
    if kpi.direction == "range" or kpi.target == kpi.baseline:
        return  # the KPI's own checks name those problems
    stage_data = {"key": kpi.key, "until": stage.until, "target": stage.target}
    if stage.target == kpi.baseline:
        raise KpiDefinitionError("stage.at_baseline", **stage_data, baseline=kpi.baseline)
    if (stage.target - kpi.baseline) * (kpi.target - kpi.baseline) < 0:
        raise KpiDefinitionError(
            "stage.wrong_side", **stage_data, baseline=kpi.baseline, final=kpi.target
        )


@dataclass(frozen=True, slots=True)
class DuePace:
    """How a dated target is going: progress against time, and where the line points."""

    elapsed: float  # share of the time from due_from to due that has passed, 0..1
    progress: float | None
    pace: Pace | None
    forecast: float | None  # value the linear trend reaches on the due date


def elapsed_days(start: date, due: date, today: date) -> float:
    """Share of the days from `start` to `due` that have passed on `today`, within 0..1."""
    total = (due - start).days
    if total <= 0:
        return 1.0
    return min(1.0, max(0.0, (today - start).days / total))


def linear_forecast(points: Sequence[tuple[date, float]], when: date) -> float | None:
    """Least-squares line through (day, value) points, read at `when`; None below 2 days."""
    if len({d for d, _ in points}) < 2:
        return None
    xs = [float(d.toordinal()) for d, _ in points]
    ys = [v for _, v in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    result = my + slope * (when.toordinal() - mx)
    return result if math.isfinite(result) else None


def due_pace(
    kpi: Kpi,
    start: date,
    today: date,
    progress: float | None,
    points: Sequence[tuple[date, float]],
) -> DuePace:
    """Pace of a KPI with a due date; `progress` is on the final target's scale."""
    assert kpi.due is not None
    elapsed = elapsed_days(start, kpi.due, today)
    verdict = None if progress is None else pace(progress, elapsed)
    return DuePace(elapsed, progress, verdict, linear_forecast(points, kpi.due))

"""Roll-ups: KPI performance → objective score → perspective score → scorecard index.

BSC Designer's defaults: an objective's score is the weighted mean (`wavg`) of
its KPIs' performance (or `avg` unweighted, `min`, `max`, chosen per
objective); a perspective's score is the weighted mean of its objectives'
scores, and the scorecard index the weighted mean of the perspectives'.

What is left out rather than counted as 0 %: KPIs without a value, KPIs in
test mode and removed KPIs. A level with nothing left to score has score None
and is left out of the level above. When every weight at a level is 0 the
items count equally (an unweighted mean), so zeroing weights never hides data.
`avg`, `min` and `max` ignore weights. KPIs whose objective, and objectives
whose perspective, are not in the input are not placed anywhere.

Runs on every `/kpi` and `/scorecard`: one pass over the KPIs, dict lookups only; after
one KPI's value changed, `rescore` aggregates again only its objective, that objective's
perspective and the index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from scoring.errors import ScoringError
from scoring.kpi import DEFAULT_THRESHOLDS, performance, progress
from scoring.models import Aggregate, Kpi, Objective, Perspective, Status, Thresholds
from scoring.status import colour, status_from_performance

Counts = Mapping[Status, int]
_ZERO_COUNTS = dict.fromkeys(Status, 0)


@dataclass(frozen=True, slots=True)
class KpiScore:
    """One KPI as the roll-up saw it: value, both shares and colours."""

    key: str
    objective: str
    weight: float
    value: float | None
    progress: float | None
    performance: float | None
    status: Status  # TEST for a test-mode KPI, NODATA without a value
    would_be: Status  # the colour outside test mode (NODATA without a value)

    @property
    def counted(self) -> bool:
        """Whether the KPI takes part in its objective's score."""
        return self.performance is not None and self.status is not Status.TEST


@dataclass(frozen=True, slots=True)
class ObjectiveScore:
    """An objective's score (None when none of its KPIs can be scored)."""

    key: str
    perspective: str
    score: float | None
    status: Status
    aggregate: Aggregate
    counts: Counts
    kpis: tuple[KpiScore, ...]


@dataclass(frozen=True, slots=True)
class PerspectiveScore:
    """A perspective's score and the colours of all KPIs under it."""

    key: str
    score: float | None
    status: Status
    counts: Counts
    objectives: tuple[ObjectiveScore, ...]


@dataclass(frozen=True, slots=True)
class ScorecardScore:
    """The whole scorecard: index, perspectives top to bottom, and what was left out."""

    index: float | None
    status: Status
    counts: Counts
    perspectives: tuple[PerspectiveScore, ...]
    left_out_nodata: int
    left_out_test: int
    left_out_removed: int

    def perspective(self, key: str) -> PerspectiveScore | None:
        """The score of one perspective, by key."""
        return next((p for p in self.perspectives if p.key == key), None)

    def objective(self, key: str) -> ObjectiveScore | None:
        """The score of one objective, by key."""
        for p in self.perspectives:
            for o in p.objectives:
                if o.key == key:
                    return o
        return None


def weighted_mean(pairs: Iterable[tuple[float, float]]) -> float | None:
    """Mean of (value, weight) pairs; all weights 0 → plain mean; no pairs → None."""
    items = list(pairs)
    if not items:
        return None
    total = sum(w for _, w in items)
    if total <= 0:
        return sum(v for v, _ in items) / len(items)
    return sum(v * w for v, w in items) / total


def aggregate(mode: Aggregate, pairs: Sequence[tuple[float, float]]) -> float | None:
    """Combine (performance, weight) pairs by an objective's aggregate mode."""
    if not pairs:
        return None
    if mode == "wavg":
        return weighted_mean(pairs)
    values = [v for v, _ in pairs]
    if mode == "avg":
        return sum(values) / len(values)
    if mode == "min":
        return min(values)
    return max(values)


def check_weight(weight: float, what: str) -> None:
    """Refuse a weight that a mean cannot use (negative, NaN or infinite)."""
    if not math.isfinite(weight) or weight < 0:
        raise ScoringError("weight.negative", what=what, weight=float(weight))


def _status(score: float | None, thresholds: Thresholds) -> Status:
    """The colour of a rolled-up score (NODATA when there is none)."""
    return Status.NODATA if score is None else status_from_performance(score, thresholds)


def _counts(statuses: Iterable[Status]) -> Counts:
    """How many KPIs have each colour; every Status is present, 0 when absent."""
    tally = _ZERO_COUNTS.copy()
    for status in statuses:
        tally[status] += 1
    return MappingProxyType(tally)


def _sum_counts(parts: Iterable[Counts]) -> Counts:
    """The counts of several groups together."""
    tally = _ZERO_COUNTS.copy()
    for part in parts:
        for status, n in part.items():
            tally[status] += n
    return MappingProxyType(tally)


def score_kpi(
    kpi: Kpi, value: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> KpiScore:
    """Score one KPI from its latest value (None: no data yet)."""
    if value is None:
        status = Status.TEST if kpi.test else Status.NODATA
        return KpiScore(
            kpi.key, kpi.objective, kpi.weight, None, None, None, status, Status.NODATA
        )
    perf = performance(kpi, value)
    would_be = colour(kpi, value, perf, thresholds)
    status = Status.TEST if kpi.test else would_be
    return KpiScore(
        kpi.key, kpi.objective, kpi.weight, value, progress(kpi, value), perf, status, would_be
    )


def score_objective(
    objective: Objective,
    kpis: Sequence[KpiScore],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ObjectiveScore:
    """An objective's score from its scored KPIs, by its aggregate mode."""
    return _score_objective(
        objective.key, objective.perspective, objective.aggregate, kpis, thresholds
    )


def _score_objective(
    key: str,
    perspective: str,
    mode: Aggregate,
    kpis: Sequence[KpiScore],
    thresholds: Thresholds,
) -> ObjectiveScore:
    pairs = [
        (k.performance, k.weight)
        for k in kpis
        if k.performance is not None and k.status is not Status.TEST
    ]
    score = aggregate(mode, pairs)
    return ObjectiveScore(
        key=key,
        perspective=perspective,
        score=score,
        status=_status(score, thresholds),
        aggregate=mode,
        counts=_counts(k.status for k in kpis),
        kpis=tuple(kpis),
    )


def rollup(
    perspectives: Sequence[Perspective],
    objectives: Sequence[Objective],
    kpis: Sequence[Kpi],
    latest: Mapping[str, float],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ScorecardScore:
    """Score the whole scorecard from each KPI's latest value (`latest[kpi.key]`)."""
    live = [kpi for kpi in kpis if kpi.removed_at is None]
    return rollup_scored(
        perspectives,
        objectives,
        [score_kpi(kpi, latest.get(kpi.key), thresholds) for kpi in live],
        len(kpis) - len(live),
        thresholds,
    )


def rollup_scored(
    perspectives: Sequence[Perspective],
    objectives: Sequence[Objective],
    scores: Sequence[KpiScore],
    removed: int = 0,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ScorecardScore:
    """`rollup` of KPIs already scored (live ones; `removed` says how many were left out), so
    a caller that remembers KPI scores need not score every KPI again."""
    by_objective: dict[str, list[KpiScore]] = {o.key: [] for o in objectives}
    for kpi in scores:
        bucket = by_objective.get(kpi.objective)
        if bucket is not None:
            bucket.append(kpi)
    by_perspective: dict[str, list[ObjectiveScore]] = {p.key: [] for p in perspectives}
    for objective in objectives:
        group = by_perspective.get(objective.perspective)
        if group is not None:
            group.append(score_objective(objective, by_objective[objective.key], thresholds))
    weights = {o.key: o.weight for o in objectives}
    scored = [
        _score_perspective(p.key, by_perspective[p.key], weights, thresholds)
        for p in sorted(perspectives, key=lambda p: p.order)
    ]
    return _scorecard(perspectives, scored, removed, thresholds)


def rescore(
    previous: ScorecardScore,
    perspectives: Sequence[Perspective],
    objectives: Sequence[Objective],
    changed: Mapping[str, KpiScore],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ScorecardScore | None:
    """`previous` after some KPIs' scores changed (`changed`, by key): only their objectives,
    those objectives' perspectives and the index are aggregated again; the rest is reused.

    `previous` must come from the same perspectives, objectives, thresholds and KPIs. None
    (score it whole instead) when a changed KPI is not in the objective it was in.
    """
    weights = {o.key: o.weight for o in objectives}
    found: set[str] = set()
    scored: list[PerspectiveScore] = []
    for p in previous.perspectives:
        members: list[ObjectiveScore] = []
        for o in p.objectives:
            if any(k.key in changed for k in o.kpis):
                kpis = [changed.get(k.key, k) for k in o.kpis]
                if any(k.objective != o.key for k in kpis):
                    return None
                found.update(k.key for k in o.kpis if k.key in changed)
                o = _score_objective(o.key, o.perspective, o.aggregate, kpis, thresholds)
            members.append(o)
        same = all(new is old for new, old in zip(members, p.objectives, strict=True))
        scored.append(p if same else _score_perspective(p.key, members, weights, thresholds))
    if any(
        previous.objective(k.objective) is not None
        for key, k in changed.items()
        if key not in found
    ):
        return None  # a KPI not placed before would be now
    if all(new is old for new, old in zip(scored, previous.perspectives, strict=True)):
        return previous
    return _scorecard(perspectives, scored, previous.left_out_removed, thresholds)


def _score_perspective(
    key: str,
    members: Sequence[ObjectiveScore],
    weights: Mapping[str, float],
    thresholds: Thresholds,
) -> PerspectiveScore:
    """A perspective's score: the weighted mean of its scored objectives."""
    score = weighted_mean((o.score, weights[o.key]) for o in members if o.score is not None)
    return PerspectiveScore(
        key=key,
        score=score,
        status=_status(score, thresholds),
        counts=_sum_counts(o.counts for o in members),
        objectives=tuple(members),
    )


def _scorecard(
    perspectives: Sequence[Perspective],
    scored: Sequence[PerspectiveScore],
    removed: int,
    thresholds: Thresholds,
) -> ScorecardScore:
    """The index (weighted mean of the scored perspectives) and the totals."""
    p_weights = {p.key: p.weight for p in perspectives}
    index = weighted_mean((p.score, p_weights[p.key]) for p in scored if p.score is not None)
    counts = _sum_counts(p.counts for p in scored)
    return ScorecardScore(
        index=index,
        status=_status(index, thresholds),
        counts=counts,
        perspectives=tuple(scored),
        left_out_nodata=counts[Status.NODATA],
        left_out_test=counts[Status.TEST],
        left_out_removed=removed,
    )

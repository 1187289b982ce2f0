"""Everything `/kpi`, `/scorecard` and `/map` show, computed once per command from storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.contract import Context
from scoring.kpi import performance, progress
from scoring.models import Kpi, Objective, Perspective, Status, Thresholds
from scoring.rollup import ScorecardScore, rollup
from scoring.status import kpi_status


@dataclass(frozen=True, slots=True)
class KpiView:
    """A KPI with its latest value and what the scoring rules make of it."""

    kpi: Kpi
    value: float | None
    previous: float | None
    day: date | None
    progress: float | None
    performance: float | None
    status: Status


@dataclass(frozen=True, slots=True)
class ScorecardView:
    """The chat's whole scorecard, scored."""

    perspectives: list[Perspective]
    objectives: list[Objective]
    kpis: list[KpiView]
    score: ScorecardScore
    thresholds: Thresholds

    def perspective_of(self, objective_key: str) -> str | None:
        """The perspective an objective belongs to."""
        for objective in self.objectives:
            if objective.key == objective_key:
                return objective.perspective
        return None


def kpi_view(ctx: Context, chat: str, kpi: Kpi, thresholds: Thresholds) -> KpiView:
    """Score one KPI from its two latest values."""
    latest = ctx.store.kpis.latest(chat, kpi.key)
    if not latest:
        return KpiView(kpi, None, None, None, None, None, kpi_status(kpi, None, thresholds))
    last = latest[-1]
    previous = latest[-2].value if len(latest) > 1 else None
    return KpiView(
        kpi=kpi,
        value=last.value,
        previous=previous,
        day=last.day,
        progress=progress(kpi, last.value),
        performance=performance(kpi, last.value),
        status=kpi_status(kpi, last.value, thresholds),
    )


def scorecard_view(ctx: Context, chat: str) -> ScorecardView:
    """Load and score the chat's scorecard."""
    repo = ctx.store.scorecards
    thresholds = repo.thresholds(chat)
    perspectives = repo.perspectives(chat)
    objectives = repo.objectives(chat)
    views = [kpi_view(ctx, chat, kpi, thresholds) for kpi in ctx.store.kpis.all(chat)]
    latest = {v.kpi.key: v.value for v in views if v.value is not None}
    score = rollup(perspectives, objectives, [v.kpi for v in views], latest, thresholds)
    return ScorecardView(perspectives, objectives, views, score, thresholds)

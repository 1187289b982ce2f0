"""Everything `/kpi`, `/scorecard` and `/map` show, computed once per command from storage;
and how a value's colour and a sum's share due so far are said (`/kpi set`, alerts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

from handlers import render
from handlers.calculated import period_values, reading
from handlers.contract import Context
from scoring.kpi import performance, progress
from scoring.models import Kpi, Objective, Perspective, Status, Thresholds
from scoring.rollup import KpiScore, ScorecardScore, rescore, rollup_scored, score_kpi
from scoring.status import kpi_status
from scoring.targets import DuePace, due_pace, judged_on, kpi_on


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
    #: The target in force on the value's day (a staged target until its stage ends), the one
    #: progress is measured against; every view shows this one next to the progress.
    target: float | None = None

    @property
    def target_now(self) -> float:
        """The target shown next to the progress: in force on the value's day, else final."""
        return self.kpi.target if self.target is None else self.target


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
    """Score one KPI from its current period's value (`agg=`) against the target in force.

    A plain `last` KPI's value is read from its values index alone, so its view is
    remembered per index version, definition and thresholds: a `/kpi` after a `/kpi set`
    scores only the KPI that changed. Others read their period's values each time.
    """
    if kpi.agg != "last" or kpi.formula:
        return _scored(ctx, chat, kpi, thresholds)
    return ctx.store.kpis.memo(
        chat, kpi.key, _scored, (kpi, thresholds), lambda: _scored(ctx, chat, kpi, thresholds)
    )


def _scored(ctx: Context, chat: str, kpi: Kpi, thresholds: Thresholds) -> KpiView:
    now = reading(ctx, chat, kpi)
    if now.value is None:
        return KpiView(kpi, None, None, None, None, None, kpi_status(kpi, None, thresholds))
    shown, judged = kpi_on(kpi, now.day), judged_on(kpi, now.day)
    return KpiView(
        kpi=kpi,
        value=now.value,
        previous=now.previous,
        day=now.day,
        progress=progress(shown, now.value),
        performance=performance(judged, now.value),
        status=kpi_status(judged, now.value, thresholds),
        target=shown.target,
    )


def scorecard_view(ctx: Context, chat: str) -> ScorecardView:
    """Load and score the chat's scorecard (the roll-up is redone only when a KPI's view,
    an objective, a perspective or the thresholds changed)."""
    repo = ctx.store.scorecards
    thresholds = repo.thresholds(chat)
    perspectives = repo.perspectives(chat)
    objectives = repo.objectives(chat)
    views = [kpi_view(ctx, chat, kpi, thresholds) for kpi in ctx.store.kpis.all(chat)]
    shown = (tuple(perspectives), tuple(objectives), tuple(views), thresholds)

    def whole() -> ScorecardScore:
        scores = [_kpi_score(v, thresholds) for v in views]
        return rollup_scored(perspectives, objectives, scores, 0, thresholds)

    def update(old: tuple[object, ...], previous: ScorecardScore) -> ScorecardScore:
        """After a few KPIs' views changed (one `/kpi set`), only they are scored again
        and only their objectives, perspectives and the index aggregated again."""
        if old[:2] != shown[:2] or old[3] != thresholds:
            return whole()
        before = cast(tuple[KpiView, ...], old[2])
        if [v.kpi.key for v in before] != [v.kpi.key for v in views]:
            return whole()
        changed = {
            new.kpi.key: _kpi_score(new, thresholds)
            for was, new in zip(before, views, strict=True)
            if was is not new
        }
        found = rescore(previous, perspectives, objectives, changed, thresholds)
        return whole() if found is None else found

    score = ctx.store.kpis.memo(chat, None, rollup_scored, shown, whole, update=update)
    return ScorecardView(perspectives, objectives, views, score, thresholds)


def _kpi_score(view: KpiView, thresholds: Thresholds) -> KpiScore:
    """What the roll-up makes of a live KPI's view: judged against the target in force (a
    sum's share of it due so far)."""
    return score_kpi(judged_on(view.kpi, view.day), view.value, thresholds)


def due_so_far(kpi: Kpi, day: date | None, newest: date | None = None) -> str | None:
    """`20 due by 2026-11-02`: the share of a sum's target due by its period's newest day
    (`newest`, else `day`), which its colour judges (`judged_on`); None for any other KPI
    and on a period's last day. The reply, the card and `explain` say it beside the whole
    target's progress, so a green 8 % reads as what it is."""
    if day is None:
        return None
    due = judged_on(kpi, day, newest).target
    if _whole_target(kpi, due, day) is None:
        return None
    by = day if newest is None else max(day, newest)
    return f"{render.num(due, kpi.unit)} due by {by.isoformat()}"


def colour_said(status: Status, progressed: float, due: str | None = None) -> str:
    """`🔴 red, progress 40%`, or `🟢 green against 20 due by 2026-11-02, progress 8%` (a
    sum judged on its share due so far, `due_so_far`): a value's colour as `/kpi set` and
    `/kpi unset` say it, its progress the whole target's."""
    against = "" if due is None else f" against {due}"
    return (
        f"{render.mark(status)} {render.STATUS_WORD[status]}{against}, "
        f"progress {render.pct(progressed)}"
    )


def paced_goal(kpi: Kpi, target: float, day: date) -> str | None:
    """`200 due so far (target 300 a month)`: `due_so_far` as an alert says it, of the
    `target` it was judged against (the one its transition kept), beside the whole
    period's; None when `target` is the whole one."""
    whole = _whole_target(kpi, target, day)
    if whole is None:
        return None
    due, per = render.num(target, kpi.unit), render.num(whole, kpi.unit)
    return f"{due} due so far (target {per} a {kpi.every})"


def _whole_target(kpi: Kpi, judged: float, day: date) -> float | None:
    """The whole period's target of a sum whose value of `day` was judged against a share
    of it (`judged`, `judged_on`); None when `judged` is the whole one (any other KPI, a
    period's last day): the one rule `due_so_far` and `paced_goal` say."""
    if kpi.agg != "sum":
        return None
    whole = kpi_on(kpi, day).target
    return None if judged == whole else whole


def due_state(ctx: Context, chat: str, view: KpiView, today: date) -> DuePace | None:
    """Pace and forecast of a KPI with a due date (None without one): the way made from the
    baseline to the final target against the time gone, as the card, list and digest show."""
    kpi = view.kpi
    if kpi.due is None:
        return None
    start = kpi.due_from or today
    points = [(p.last_day, p.value) for p in period_values(ctx, chat, kpi, start, today)]
    final = None if view.value is None else progress(kpi, view.value)
    return due_pace(kpi, start, today, final, points)


def pace_mark(state: DuePace | None) -> str:
    """The short pace mark `/kpi` rows and the digest show for a KPI with `due=`: `⏱ behind`."""
    return "" if state is None or state.pace is None else f"⏱ {render.PACE_WORD[state.pace]}"

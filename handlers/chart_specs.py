"""From a KPI and its history to what its chart shows (`pictures.charts.ChartSpec`).

The colour bands come from the shared status function itself (`would_be_status`,
sampled over the visible range and refined at each change by bisection), so a chart
never disagrees with the colour `/kpi` shows, whatever rule decides it (thresholds,
warn/crit, a range with tolerance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache, partial

from handlers import render
from handlers.common import today_of
from handlers.contract import Context, Image, Reply, UsageError
from handlers.parsing import FIRST_DAY, MAX_VALUE
from handlers.pictures.charts import ChartSpec, multiples_png, small_chart_png
from handlers.pictures.dashboard import dashboard_png
from handlers.pictures.dashboard_layout import Bar, DashboardSpec, Spark
from handlers.scores import KpiView, ScorecardView, scorecard_view
from scoring.aggregation import combine, kpi_period
from scoring.kpi import performance
from scoring.models import Kpi, Measurement, Status, Thresholds
from scoring.status import kpi_status, would_be_status
from scoring.targets import judged_on, kpi_on, paced
from storage.kpis import Points

PERIODS = {"30d": 30, "90d": 90, "1y": 365, "all": None}
DEFAULT_PERIOD = "90d"
_SAMPLES = 160


@dataclass(frozen=True, slots=True)
class Window:
    """The part of a history a chart shows and what was left out."""

    points: list[Measurement]
    label: str  # "90 days", "all values"
    dropped: int  # values stored before the input ranges existed (year 1, 1e308)


def parse_period(words: Sequence[str]) -> str | None:
    """The period word of `/kpi <key> chart [30d|90d|1y|all]` (None: the default)."""
    if not words:
        return None
    if len(words) == 1 and words[0].casefold() in PERIODS:
        return words[0].casefold()
    raise UsageError(
        f"Unknown chart period {' '.join(words)!r}: use 30d, 90d, 1y or all, "
        "e.g. /kpi cac chart 1y"
    )


def window(history: Sequence[Measurement], period: str | None, today: date) -> Window:
    """The values to chart: the period's, or by default 90 days widened until two values show."""
    # what input accepts today; older stores may hold values outside it, never drawn
    usable = [m for m in history if m.day >= FIRST_DAY and abs(m.value) <= MAX_VALUE]
    dropped = len(history) - len(usable)
    choices = [period] if period is not None else ["90d", "1y", "all"]
    for choice in choices:
        days = PERIODS[choice]
        since = today - timedelta(days=days) if days is not None else date.min
        points = [m for m in usable if m.day > since]
        if len(points) >= 2 or choice == choices[-1]:
            label = "all values" if days is None else ("1 year" if days == 365 else f"{days} days")
            return Window(points, label, dropped)
    raise AssertionError("unreachable")  # pragma: no cover


def judged_history(kpi: Kpi, history: Sequence[Measurement]) -> list[Measurement]:
    """`history` (oldest first) as the colour judges it: a KPI with `agg=` its period's
    aggregate so far at each value (the month's sum: 25, 95, 155), as `/kpi` and the reply
    show it; the values as they are for `agg=last`. A chart of a sum drew the raw 25, 70,
    60 against the whole target's bands, red where `/kpi` said green."""
    if kpi.agg == "last":
        return list(history)
    judged: list[Measurement] = []
    period, seen = None, list[float]()
    for m in history:
        current = kpi_period(kpi.every, m.day)
        if current != period:
            period, seen = current, []
        seen.append(m.value)
        total = combine(kpi.agg, seen)
        assert total is not None  # `seen` holds this value
        judged.append(m.model_copy(update={"value": total}))
    return judged


def pace_path(kpi: Kpi, points: Sequence[Measurement]) -> tuple[tuple[int, float], ...]:
    """What a sum judged on pace (`scoring.targets.paced`) has due by each day of the
    periods `points` fall in: from nothing before a period's first day to its whole target
    on its last, a sawtooth drawn as the chart's plan. Empty for any other KPI."""
    if not paced(kpi):
        return ()
    path: list[tuple[int, float]] = []
    for period in dict.fromkeys(kpi_period(kpi.every, m.day) for m in points):
        path.append((period.start.toordinal() - 1, 0.0))
        path.append((period.end.toordinal(), kpi_on(kpi, period.end).target))
    return tuple(path)


def kpi_chart_spec(
    kpi: Kpi, points: Sequence[Measurement], thresholds: Thresholds, note: str = ""
) -> ChartSpec:
    """Everything one KPI chart shows: `points` as the colour judges them (`judged_history`),
    the latest in `/kpi`'s colour; a sum judged on pace draws its pace, not bands that hold
    only on a period's last day."""
    values = [m.value for m in points]
    paced = pace_path(kpi, points)
    plan = paced or planned_path(kpi, points)
    ranged = kpi.direction == "range" and kpi.min is not None and kpi.max is not None
    marks = [*values, kpi.target] if ranged else [*values, kpi.target, kpi.baseline]
    marks += [v for _, v in plan]
    if ranged and kpi.min is not None and kpi.max is not None:
        marks += [kpi.min, kpi.max]
    low, high = min(marks), max(marks)
    pad = (high - low) * 0.08 or max(1.0, abs(high) * 0.1)
    low, high = low - pad, high + pad
    latest = values[-1] if values else None
    judged = judged_on(kpi, points[-1].day) if points else kpi
    return ChartSpec(
        title=f"{kpi.name}" + (f" ({kpi.unit})" if kpi.unit else ""),
        unit=kpi.unit,
        days=tuple(m.day.toordinal() for m in points),
        values=tuple(values),
        target=kpi.target,
        baseline=kpi.baseline,
        low=low,
        high=high,
        bands=() if paced else colour_bands(kpi, thresholds, low, high),
        range_band=(kpi.min, kpi.max)
        if ranged and kpi.min is not None and kpi.max is not None
        else None,
        status=kpi_status(judged, latest, thresholds).value,
        note=note,
        plan=plan,
    )


def planned_path(kpi: Kpi, points: Sequence[Measurement]) -> tuple[tuple[int, float], ...]:
    """A dated target's path: from where it started, through its stages, to the due day."""
    if kpi.due is None:
        return ()
    start = kpi.due_from or (points[0].day if points else kpi.due)
    if start >= kpi.due:
        return ()
    before = [m.value for m in points if m.day <= start]
    path = [(start.toordinal(), before[-1] if before else kpi.baseline)]
    path += [(s.until.toordinal(), s.target) for s in kpi.staged if start < s.until < kpi.due]
    path.append((kpi.due.toordinal(), kpi.target))
    return tuple(path)


@lru_cache(maxsize=256)
def colour_bands(
    kpi: Kpi, thresholds: Thresholds, low: float, high: float
) -> tuple[tuple[float, float, str], ...]:
    """Contiguous value ranges in `low..high` with the colour each value would get.

    Remembered for the last 256 (KPI definition, thresholds, range): a pure function of
    them, costing about 220 status evaluations on the event loop per chart otherwise.
    """
    if not high > low:
        return ()

    def colour(value: float) -> Status:
        return would_be_status(kpi, value, thresholds)

    step = (high - low) / _SAMPLES
    bands: list[tuple[float, float, str]] = []
    start, current = low, colour(low)
    previous = low
    for i in range(1, _SAMPLES + 1):
        value = low + step * i
        status = colour(value)
        if status != current:
            edge = _edge(colour, previous, value, current)
            bands.append((start, edge, current.value))
            start, current = edge, status
        previous = value
    bands.append((start, high, current.value))
    return tuple(bands)


def _edge(colour: object, a: float, b: float, left: Status) -> float:
    """Where between a and b the colour stops being `left` (bisection)."""
    assert callable(colour)
    for _ in range(30):
        mid = (a + b) / 2
        if colour(mid) == left:
            a = mid
        else:
            b = mid
    return (a + b) / 2


def chart_note(win: Window) -> str:
    """The line under a chart's title."""
    first, last = win.points[0].day, win.points[-1].day
    count = render.plural(len(win.points), "value")
    text = f"{win.label} · {count} · {first.isoformat()} – {last.isoformat()}"
    if win.dropped:
        text += f" · {render.plural(win.dropped, 'value')} out of range left out"
    return text


SPARK_POINTS = 60
MOVERS = 5


def dashboard_spec(ctx: Context, chat: str, view: ScorecardView, today: date) -> DashboardSpec:
    """The dashboard of a scored scorecard: recent history per KPI and last week's movers.

    Each KPI's part is remembered with the objects it is made of (its view, the cached
    month shards of its latest values, the day a week ago): `/scorecard` rebuilds only the
    KPIs whose values or score changed, on the event loop every other chat waits behind.
    """
    sparks: list[Spark] = []
    moves: list[tuple[float, str, str, str]] = []
    week_ago = today - timedelta(days=7)
    kpis = ctx.store.kpis
    for v in view.kpis:
        shards = kpis.recent_shards(chat, v.kpi.key, SPARK_POINTS)
        inputs = (v, shards, week_ago)
        spark, move = kpis.memo(
            chat, v.kpi.key, _spark_part, inputs, partial(_spark_part, *inputs)
        )
        sparks.append(spark)
        if move is not None:
            moves.append(move)
    moves.sort()
    bars = []
    for ps in view.score.perspectives:
        name = next((p.name for p in view.perspectives if p.key == ps.key), ps.key)
        bars.append(Bar(name, ps.score, ps.status.value, render.pct(ps.score)))
    return DashboardSpec(
        title=f"Scorecard · index {render.pct(view.score.index)}",
        index=view.score.index,
        status=view.score.status.value,
        perspectives=tuple(bars),
        sparks=tuple(sparks),
        movers=tuple((name, label, status) for _, name, label, status in moves[:MOVERS]),
        green=view.thresholds.green,
        yellow=view.thresholds.yellow,
        index_label=render.pct(view.score.index),
    )


def _spark_part(
    v: KpiView, shards: Sequence[Points], week_ago: date
) -> tuple[Spark, tuple[float, str, str, str] | None]:
    """One KPI's sparkline and its move since `week_ago` (None: none worth showing), from
    its newest month shards (`KpiRepo.recent_shards`)."""
    latest = [point for shard in shards for point in shard][-SPARK_POINTS:]
    recent = [
        (day, value)
        for day, value in latest
        if day >= FIRST_DAY and -MAX_VALUE <= value <= MAX_VALUE
    ]
    spark = Spark(
        name=v.kpi.name,
        value=render.num(v.value, v.kpi.unit),
        status=v.status.value,
        values=tuple(value for _, value in recent),
        target=v.kpi.target,
    )
    before = next((value for day, value in reversed(recent) if day <= week_ago), None)
    if v.value is None or before is None or v.kpi.test:
        return spark, None
    change = performance(v.kpi, v.value) - performance(v.kpi, before)
    if abs(change) < 0.005:
        return spark, None
    points = math.floor(abs(change) * 100 + 0.5)
    label = f"{'+' if change > 0 else '−'}{points} pp"
    return spark, (-abs(change), v.kpi.name, label, v.status.value)


async def draw_requested(ctx: Context, reply: Reply) -> Reply:
    """`reply` with its requested small chart drawn (one KPI) or small multiples (several).

    Reads the values of this moment; a KPI removed since is skipped, and a reply whose
    KPIs all lack two values goes out without a picture.
    """
    request = reply.chart
    if request is None or reply.image is not None:
        return reply
    if request.dashboard:
        return await _draw_dashboard(ctx, reply, request.chat)
    chat = request.chat
    thresholds = ctx.store.scorecards.thresholds(chat)
    today = today_of(ctx, chat)
    specs = []
    for key in request.kpis:
        kpi = ctx.store.kpis.get(chat, key)
        if kpi is None or kpi.removed_at is not None:
            continue
        history = ctx.store.kpis.history(chat, key, limit=SPARK_POINTS * 6)
        win = window(judged_history(kpi, history), "90d", today)
        if len(win.points) >= 2:
            specs.append(kpi_chart_spec(kpi, win.points, thresholds, win.label))
    if not specs:
        return reply.model_copy(update={"chart": None})
    if len(specs) == 1:
        png = await ctx.painter.paint(small_chart_png, specs[0])
        name = f"{request.kpis[0]}.png"
    else:
        png = await ctx.painter.paint(multiples_png, tuple(specs))
        name = "charts.png"
    alt = ", ".join(spec.title for spec in specs) + " over 90 days"
    return reply.model_copy(
        update={"chart": None, "image": Image(data=png, filename=name, alt=alt)}
    )


async def _draw_dashboard(ctx: Context, reply: Reply, chat: str) -> Reply:
    """`reply` with the dashboard of `chat` as it is now (none when no KPI is left)."""
    view = scorecard_view(ctx, chat)
    if not view.kpis:
        return reply.model_copy(update={"chart": None})
    spec = dashboard_spec(ctx, chat, view, today_of(ctx, chat))
    png = await ctx.painter.paint(dashboard_png, spec)
    image = Image(data=png, filename="dashboard.png", alt="Scorecard dashboard")
    return reply.model_copy(update={"chart": None, "image": image})

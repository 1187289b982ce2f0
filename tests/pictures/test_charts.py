"""KPI charts: periods, colour bands from the status rule, number and date labels, old data,
read back from the canvas record (texts drawn, colours, where lines and labels lie)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.chart_specs import chart_note, colour_bands, kpi_chart_spec, window
from handlers.pictures import charts, style
from handlers.pictures.canvas import Canvas, Drawn
from handlers.pictures.chart_layout import nice_step, nice_ticks, tick_labels
from scoring.models import Kpi, Measurement, StagedTarget, Thresholds
from scoring.status import would_be_status
from tests.pictures.support import decode, drawn_texts
from tests.support import FakeChat

AT = datetime(2026, 11, 21, tzinfo=UTC)


def _m(day: date, value: float) -> Measurement:
    return Measurement(kpi="v", value=value, day=day, at=AT)


kpis = st.builds(
    Kpi,
    key=st.just("v"),
    name=st.just("V"),
    objective=st.just("o"),
    target=st.sampled_from([80.0, 200.0, 1e9]),
    baseline=st.sampled_from([0.0, 120.0]),
    direction=st.sampled_from(["up", "down"]),
    warn=st.none() | st.just(100.0),
    crit=st.none() | st.just(50.0),
)


@settings(max_examples=60, deadline=None)
@given(kpis, st.floats(0, 1), st.floats(0, 1))
def test_colour_bands_agree_with_the_status_rule(kpi: Kpi, a: float, b: float) -> None:
    if kpi.target == kpi.baseline:
        return
    thresholds = Thresholds()
    low, high = -10.0, max(kpi.target, kpi.baseline) * 1.2
    value = low + (high - low) * a
    for lo, hi, status in colour_bands(kpi, thresholds, low, high):
        inside = lo + (hi - lo) * (0.02 + 0.96 * b)
        assert would_be_status(kpi, inside, thresholds).value == status
        if lo <= value <= hi and min(value - lo, hi - value) > (high - low) * 1e-6:
            assert would_be_status(kpi, value, thresholds).value == status


async def test_chart_periods_and_a_friendly_line_for_a_wrong_one(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 10 2025-06-01")
    await chat.ok("/kpi set v 40 2026-11-01")
    await chat.ok("/kpi set v 60")
    assert "2 values from 2026-11-01" in await chat.ok("/kpi v chart 30d")
    assert "3 values from 2025-06-01" in await chat.ok("/kpi v chart all")
    assert "2 values from 2026-11-01" in await chat.ok("/kpi v chart")
    assert "needs at least two values in 30 days" not in await chat.ok("/kpi v chart 1y")
    assert "use 30d, 90d, 1y or all" in await chat.error("/kpi v chart 2w")


def test_year_one_and_huge_values_never_break_a_chart_and_are_said_to_be_left_out() -> None:
    kpi = Kpi(key="cac", name="CAC", objective="o", target=80, baseline=120, unit="$")
    history = [_m(date(1, 1, 1), 90), _m(date(2026, 10, 1), 100), _m(date(2026, 11, 1), 95)]
    win = window([*history, _m(date(2026, 11, 2), 1e308)], "all", date(2026, 11, 21))
    assert [m.day.year for m in win.points] == [2026, 2026] and win.dropped == 2
    assert chart_note(win).endswith("2 values out of range left out")
    spec = kpi_chart_spec(kpi, win.points, Thresholds(), "note")
    assert charts.chart_png(spec).startswith(b"\x89PNG")
    raw = kpi_chart_spec(kpi, history, Thresholds())  # even if they reached the drawing
    assert charts.chart_png(raw).startswith(b"\x89PNG")


def _drawn(canvas: Canvas, gid: str) -> list[Drawn]:
    return [d for d in canvas.record if d.gid == gid]


def _within(box: tuple[float, float, float, float], outer: tuple[float, ...]) -> bool:
    tol = 1e-6
    return (
        box[0] >= outer[0] - tol
        and box[1] >= outer[1] - tol
        and box[2] <= outer[2] + tol
        and box[3] <= outer[3] + tol
    )


def test_axis_labels_group_thousands_and_never_use_scientific_notation() -> None:
    kpi = Kpi(key="r", name="Revenue 💰", objective="o", target=2e9, unit="₽")
    days = [date(2026, 1, 1), date(2026, 6, 1), date(2026, 11, 1)]
    spec = kpi_chart_spec(kpi, [_m(d, 1.2e9 + i * 1e8) for i, d in enumerate(days)], Thresholds())
    canvas = charts.chart_canvas(spec)
    shown = drawn_texts(canvas)
    ticks = [d.text for d in _drawn(canvas, "ytick")]
    assert any("000 000 000" in t for t in ticks) and not any("e" in t for t in ticks)
    assert "Revenue (₽)" in shown and "target 2 000 000 000 ₽" in shown and "₽" in shown
    assert "1 400 000 000 ₽ Nov 1" in shown  # the latest value, labelled with its date
    assert {"Mar 1", "Sep 1"} <= {d.text for d in _drawn(canvas, "xtick") if d.text}
    assert decode(canvas.png()) == (880, 440)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-1e12, 1e12, allow_nan=False),
    st.floats(1e-6, 1.0),
    st.integers(-3, 12),
)
def test_y_ticks_are_nice_few_distinct_and_cover_the_axis(
    low: float, share: float, power: int
) -> None:
    high = low + share * 10.0**power
    if not high - low > max(abs(low), abs(high)) * 1e-9:  # past float precision
        return
    ticks = nice_ticks(low, high)
    step = nice_step(low, high)
    labels = tick_labels(ticks)
    assert 3 <= len(ticks) <= 8
    assert round(step / 10 ** math.floor(math.log10(step)), 6) in (1, 2, 5)
    assert all(low - step * 1e-6 <= t <= high + step * 1e-6 for t in ticks)
    assert ticks[0] - step <= low and ticks[-1] + step >= high  # no gap of a step at an end
    assert len(set(labels)) == len(labels)
    assert not any("e" in label.lower() for label in labels)


def test_the_colour_bands_lines_and_points_lie_in_the_plot_area() -> None:
    kpi = Kpi(
        key="c", name="CAC", objective="o", target=80, baseline=120, unit="$", direction="down"
    )
    days = [date(2026, 9, 1 + i) for i in range(20)]
    spec = kpi_chart_spec(kpi, [_m(d, 125 - i * 2) for i, d in enumerate(days)], Thresholds())
    canvas = charts.chart_canvas(spec)
    (axis,) = _drawn(canvas, "axis")
    plot = (axis.box[0], axis.box[1], max(d.box[2] for d in _drawn(canvas, "grid")), axis.box[3])
    bands = (
        _drawn(canvas, "band-green") + _drawn(canvas, "band-yellow") + _drawn(canvas, "band-red")
    )
    assert {d.fill for d in bands} == {style.EDGE[b[2]] for b in spec.bands}
    assert len(spec.bands) >= 2 and all(d.alpha < 0.2 for d in bands)
    assert [d.gid for d in bands] and all(_within(d.box, plot) for d in bands)
    assert {d.gid.removeprefix("band-") for d in bands} == {b[2] for b in spec.bands}
    (history,) = _drawn(canvas, "history")
    assert len(history.points) == 20 and _within(history.box, plot)
    for word in ("target", "baseline"):
        line = next(d for d in _drawn(canvas, word) if d.kind == "line")
        assert _within(line.box, plot)
    latest = [d for d in _drawn(canvas, "latest") if d.kind == "wedge"]
    assert latest[0].fill == style.EDGE[spec.status]


def test_a_range_kpi_shows_its_band_edges_and_no_target_line() -> None:
    kpi = Kpi(
        key="n",
        name="NPS",
        objective="o",
        direction="range",
        min=30,
        max=50,
        target=40,
        unit="points",
    )
    spec = kpi_chart_spec(
        kpi, [_m(date(2026, 11, 20), 40), _m(date(2026, 11, 21), 55)], Thresholds()
    )
    canvas = charts.chart_canvas(spec)
    assert len(_drawn(canvas, "range")) == 2 and not _drawn(canvas, "target")


def test_small_and_multiples_keep_their_sizes_and_titles() -> None:
    kpi = Kpi(key="c", name="CAC", objective="o", target=80, baseline=120, unit="$")
    spec = kpi_chart_spec(
        kpi, [_m(date(2026, 11, 1), 100), _m(date(2026, 11, 9), 90)], Thresholds()
    )
    assert decode(charts.small_chart_png(spec)) == (520, 250)
    grid = charts.multiples_canvas([spec] * 4)
    assert decode(grid.png()) == (990, 440)
    assert [d.text for d in _drawn(grid, "title")] == ["CAC ($)"] * 4
    for d in grid.record:
        if d.kind == "text":
            assert _within(d.box, (0, 0, grid.width, grid.height)), d.text


@pytest.mark.parametrize(
    "first, last, expected",
    [
        (date(2026, 11, 1), date(2026, 11, 21), "Nov 1"),
        (date(2025, 12, 1), date(2026, 11, 21), "Jan 1"),
        (date(2016, 1, 1), date(2026, 11, 21), "2018"),
    ],
)
def test_date_ticks_fit_the_span(first: date, last: date, expected: str) -> None:
    a, b = first.toordinal(), last.toordinal()
    assert expected in [charts.day_label(t, b - a) for t in charts.day_ticks(a, b)]


def test_a_dated_target_draws_its_planned_path_through_its_stages() -> None:
    kpi = Kpi(
        key="v",
        name="Visits",
        objective="o",
        target=300,
        baseline=100,
        due=date(2027, 6, 30),
        due_from=date(2026, 11, 1),
        staged=(StagedTarget(until=date(2027, 3, 31), target=200),),
    )
    points = [_m(date(2026, 10, 1), 90), _m(date(2026, 11, 1), 110), _m(date(2026, 11, 20), 130)]
    spec = kpi_chart_spec(kpi, points, Thresholds())
    assert spec.plan == (
        (date(2026, 11, 1).toordinal(), 110.0),
        (date(2027, 3, 31).toordinal(), 200.0),
        (date(2027, 6, 30).toordinal(), 300.0),
    )
    canvas = charts.chart_canvas(spec)
    assert "plan" in drawn_texts(canvas)
    path = next(d for d in _drawn(canvas, "plan") if d.kind == "line")
    (axis,) = _drawn(canvas, "axis")
    assert len(path.points) == 3 and axis.box[0] <= path.box[0] and path.box[2] <= axis.box[2]
    assert path.points[-1][0] > max(p[0] for p in _drawn(canvas, "history")[0].points)


async def test_a_range_kpis_chart_caption_names_its_range_not_its_midpoint(chat: FakeChat) -> None:
    # QA #4: the caption said "target 40 points" for min=30 max=50
    await chat.ok(
        '/kpi add nps "NPS" direction=range min=30 max=50 unit=points perspective=finance'
    )
    await chat.ok("/kpi set nps 40 2026-11-20")
    await chat.ok("/kpi set nps 55")
    caption = await chat.ok("/kpi nps chart")
    assert "; latest 55 points, range 30–50 points.\n" in caption, caption


@pytest.mark.parametrize(
    "unit", ["$", "₽", "thousand unique visitors", "заявок в месяц от статей"]
)
def test_the_latest_value_and_line_labels_stay_inside_the_picture(unit: str) -> None:
    # QA #8: with a long unit the latest value's label ran off the right edge
    kpi = Kpi(key="v", name="Visitors", objective="o", target=2.5e6, baseline=1e5, unit=unit)
    first = date(2026, 9, 22)
    values = [_m(date.fromordinal(first.toordinal() + i), 1e6 + i * 3e4) for i in range(60)]
    canvas = charts.chart_canvas(kpi_chart_spec(kpi, values, Thresholds()))
    labels = [
        d for d in canvas.record if d.kind == "text" and d.gid in ("target", "baseline", "latest")
    ]
    assert len(labels) == 3  # target, baseline, latest value
    for label in labels:
        assert _within(label.box, (0, 0, canvas.width, canvas.height)), label.text
    assert any(d.text.startswith(f"2 770 000 {unit}") for d in labels)

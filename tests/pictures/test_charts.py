"""KPI charts: periods, colour bands from the status rule, number and date labels, old data."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.chart_specs import chart_note, colour_bands, kpi_chart_spec, window
from handlers.pictures import charts, style
from scoring.models import Kpi, Measurement, StagedTarget, Thresholds
from scoring.status import would_be_status
from tests.pictures.support import decode, texts
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


def test_axis_labels_group_thousands_and_never_use_scientific_notation() -> None:
    kpi = Kpi(key="r", name="Revenue 💰", objective="o", target=2e9, unit="₽")
    days = [date(2026, 1, 1), date(2026, 6, 1), date(2026, 11, 1)]
    spec = kpi_chart_spec(kpi, [_m(d, 1.2e9 + i * 1e8) for i, d in enumerate(days)], Thresholds())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = charts.chart_figure(spec)
        png = style.png(fig)  # drawing resolves the tick labels
    shown = texts(fig)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any("000 000 000" in t for t in ticks) and not any("e" in t for t in ticks)
    assert "Revenue (₽)" in shown and "target 2 000 000 000 ₽" in shown
    assert "1 400 000 000 ₽ Nov 1" in shown  # the latest value, labelled with its date
    assert decode(png) == (880, 440)


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
    fig = charts.chart_figure(spec)
    assert "plan" in " ".join(texts(fig))
    assert fig.axes[0].get_xlim()[1] >= date(2027, 6, 30).toordinal()


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
    fig = charts.chart_figure(kpi_chart_spec(kpi, values, Thresholds()))
    style.png(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    labels = [t for t in fig.axes[0].texts if t.get_text().strip()]
    assert len(labels) == 3  # target, baseline, latest value
    for label in labels:
        box = label.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1, label.get_text()
        assert box.y0 >= 0 and box.y1 <= fig.bbox.y1, label.get_text()
    assert any(t.get_text().startswith(f"2 770 000 {unit}") for t in labels)

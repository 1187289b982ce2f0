"""The dashboard's and OKR picture's geometry keeps its promises for any scorecard.

Checked on the plan (before any pixel): every text inside the picture, no two texts
overlapping, every KPI's name shown whole or cut with "…", bars as long as their shares,
colours following statuses, the needle pointing at the index.
"""

from __future__ import annotations

import math
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.pictures import style
from handlers.pictures.canvas import Canvas
from handlers.pictures.dashboard_layout import (
    BAR_BACK,
    MOVERS,
    Bar,
    DashboardSpec,
    Label,
    OkrSpec,
    Plan,
    Spark,
    dashboard_height,
    dashboard_plan,
    okr_plan,
)

STATUSES = ("green", "yellow", "red", "nodata", "test")


FONTS = Canvas(0.1, 0.1)  # measures and fits as the drawing canvas does


def shown(name: str, drawn: str) -> bool:
    """Whether `drawn` shows `name`: whole, or a start of it cut with "…"."""
    whole = " ".join(style.safe(name).split())
    cut = drawn.removesuffix("…")
    return drawn == whole or (drawn.endswith("…") and whole.startswith(cut) and bool(cut))


names = st.one_of(
    st.sampled_from(
        (
            "Leads",
            "Лиды 🚀",
            "Attract prospects interested in the topic and keep them reading",
            "Привлечь клиентов из блога и удержать их внимание надолго",
            "",
            "A/B",
        )
    ),
    st.text(min_size=0, max_size=80),
)
shares = st.one_of(st.none(), st.floats(-0.5, 1.5))
bars = st.builds(
    Bar,
    name=names,
    share=shares,
    status=st.sampled_from(STATUSES),
    label=st.sampled_from(("62%", "3 of 5", "100%")),
    indent=st.booleans(),
)
sparks = st.builds(
    Spark,
    name=names,
    value=st.sampled_from(("31 deals", "13 567 visits", "2.9 min", "1 000 000 000 ₽", "—")),
    status=st.sampled_from(STATUSES),
    values=st.lists(st.floats(-1e9, 1e9), max_size=60).map(tuple),
    target=st.one_of(st.none(), st.floats(-1e9, 1e9)),
)
thresholds = st.tuples(st.floats(0, 1), st.floats(0, 1)).map(sorted)
specs = st.builds(
    lambda t, index, status, perspectives, spark_list, movers: DashboardSpec(
        title="Scorecard · index 62%",
        index=index,
        status=status,
        perspectives=tuple(perspectives),
        sparks=tuple(spark_list),
        movers=tuple(movers),
        green=t[1],
        yellow=t[0],
        index_label="—" if index is None else f"{index:.0%}",
    ),
    thresholds,
    shares,
    st.sampled_from(STATUSES),
    st.lists(bars.map(lambda b: Bar(b.name, b.share, b.status, b.label)), max_size=7),
    st.lists(sparks, max_size=50),
    st.lists(
        st.tuples(
            names, st.sampled_from(("+5 pp", "−40 pp", "+100 pp")), st.sampled_from(STATUSES)
        ),
        max_size=5,
    ),
)
okrs = st.builds(
    OkrSpec,
    title=st.sampled_from(("OKR progress 2026Q4", "OKR progress " + "Очень длинный цикл " * 5)),
    bars=st.lists(bars, min_size=1, max_size=12).map(tuple),
    elapsed=st.floats(0, 1),
    elapsed_label=st.sampled_from(("0%", "55%", "100%")),
)


def overlap(a: Label, b: Label) -> bool:
    return (
        a.box[0] < b.box[2] and b.box[0] < a.box[2] and a.box[1] < b.box[3] and b.box[1] < a.box[3]
    )


def assert_texts_fit_and_never_overlap(plan: Plan) -> None:
    for label in plan.labels:
        x0, y0, x1, y1 = label.box
        assert 0 <= x0 <= x1 <= plan.width and 0 <= y0 <= y1 <= plan.height, label
    for a, b in combinations(plan.labels, 2):
        assert not overlap(a, b), (a, b)


def assert_bars_follow_shares_and_statuses(plan: Plan, drawn: tuple[Bar, ...]) -> None:
    tracks = [block for block in plan.blocks if block.fill == BAR_BACK]
    fills = [block for block in plan.blocks if block.fill != BAR_BACK]
    assert len(tracks) == len(drawn)
    assert [t.hatched for t in tracks] == [b.share is None for b in drawn]
    shown_bars = [b for b in drawn if b.share is not None and min(1.0, b.share) > 0]
    assert len(fills) == len(shown_bars)
    by_row = {round((t.y0 + t.y1) / 2, 6): t for t in tracks}
    for block, bar in zip(fills, shown_bars, strict=True):
        track = by_row[round((block.y0 + block.y1) / 2, 6)]
        assert bar.share is not None
        length = (block.x1 - block.x0) / (track.x1 - track.x0)
        assert math.isclose(length, min(1.0, bar.share), abs_tol=1e-9)
        assert block.fill == style.EDGE.get(bar.status, style.MUTED) and block.status == bar.status


@settings(max_examples=40, deadline=None)
@given(specs)
def test_every_dashboard_text_fits_the_picture_and_none_overlap(spec: DashboardSpec) -> None:
    plan = dashboard_plan(spec, FONTS)
    assert plan.width == 11 and plan.height == dashboard_height(spec)
    assert_texts_fit_and_never_overlap(plan)


@settings(max_examples=40, deadline=None)
@given(specs)
def test_every_kpi_name_is_shown_whole_or_cut_with_an_ellipsis(spec: DashboardSpec) -> None:
    texts = [label.text for label in dashboard_plan(spec, FONTS).labels if label.role == "kpi"]
    for spark, text in zip(spec.sparks, texts, strict=True):
        assert shown(spark.name, text) or not style.safe(spark.name).strip(), (spark.name, text)


@settings(max_examples=40, deadline=None)
@given(specs)
def test_perspective_bars_follow_scores_and_colours_follow_statuses(spec: DashboardSpec) -> None:
    plan = dashboard_plan(spec, FONTS)
    assert_bars_follow_shares_and_statuses(plan, spec.perspectives)
    lines = [stroke for stroke in plan.strokes if stroke.status]
    drawn = [s for s in spec.sparks if len(s.values) >= 2]
    assert [line.colour for line in lines] == [
        style.EDGE.get(s.status, style.MUTED) for s in drawn
    ]
    assert [len(line.points) for line in lines] == [len(s.values) for s in drawn]
    assert all(sector.fill == style.FILL[sector.status] for sector in plan.sectors)


@settings(max_examples=40, deadline=None)
@given(specs)
def test_the_needle_points_at_the_index_and_the_ring_spans_half_a_circle(
    spec: DashboardSpec,
) -> None:
    plan = dashboard_plan(spec, FONTS)
    assert math.isclose(sum(s.end - s.start for s in plan.sectors), 180, abs_tol=1e-6)
    needles = [stroke for stroke in plan.strokes if stroke.width == 2.5]
    if spec.index is None:
        assert not needles
        return
    [needle] = needles
    (cx, cy), (x, y) = needle.points
    angle = math.degrees(math.atan2(y - cy, x - cx))
    assert math.isclose(angle, 180 - min(1.0, max(0.0, spec.index)) * 180, abs_tol=1e-6)


def test_movers_keep_their_order_and_colour_at_most_five() -> None:
    movers = tuple((f"Mover {i}", f"+{10 - i} pp", ("red", "green")[i % 2]) for i in range(7))
    spec = DashboardSpec("t", 0.5, "yellow", (), (), movers, 0.8, 0.5, "50%")
    labels = dashboard_plan(spec, FONTS).labels
    changes = [label for label in labels if label.text.endswith(" pp")]
    assert [c.text for c in changes] == [m[1] for m in movers[:MOVERS]]
    assert [c.colour for c in changes] == [style.EDGE[m[2]] for m in movers[:MOVERS]]
    assert [label.text for label in labels if label.role == "mover"] == [
        m[0] for m in movers[:MOVERS]
    ]


def test_no_movers_say_so() -> None:
    spec = DashboardSpec("t", None, "nodata", (), (), (), 0.8, 0.5, "—")
    assert "no change in a week" in [label.text for label in dashboard_plan(spec, FONTS).labels]


@settings(max_examples=40, deadline=None)
@given(okrs)
def test_okr_bars_fit_follow_progress_and_mark_the_elapsed_share(spec: OkrSpec) -> None:
    plan = okr_plan(spec, FONTS)
    assert_texts_fit_and_never_overlap(plan)
    assert_bars_follow_shares_and_statuses(plan, spec.bars)
    [marker] = [stroke for stroke in plan.strokes if stroke.dashed]
    track = plan.blocks[0]
    assert math.isclose(marker.points[0][0], track.x0 + spec.elapsed * (track.x1 - track.x0))
    names = [
        label for label in plan.labels if label.align == "right" and label.colour == style.INK
    ]
    for bar, label in zip(spec.bars, names, strict=True):
        assert shown(bar.name, label.text) and label.bold == (not bar.indent)

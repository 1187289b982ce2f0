"""`/scorecard` carries the dashboard picture, `/okr progress` the OKR bars; what a reader
sees on them, read back from the canvas's record of what was drawn."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from datetime import date
from itertools import combinations

from bot.adapters.base import drawn, split_picture
from handlers.chart_specs import dashboard_spec
from handlers.contract import ChartRequest
from handlers.pictures import style
from handlers.pictures.canvas import Canvas, Drawn
from handlers.pictures.dashboard import dashboard_canvas, dashboard_png, okr_canvas
from handlers.pictures.dashboard_layout import Bar, OkrSpec
from handlers.scores import scorecard_view
from tests.pictures.dashboards import fifty
from tests.pictures.support import decode
from tests.pictures.test_dashboard_layout import shown
from tests.support import FakeChat


async def test_scorecard_asks_for_the_dashboard_drawn_at_sending(chat: FakeChat) -> None:
    await chat.ok('/kpi add leads "Лиды 🚀" target=200 perspective=customers')
    await chat.ok("/kpi set leads 80 2026-11-10")
    await chat.ok("/kpi set leads 150")
    replies = await chat.say("/scorecard")
    assert replies[0].image is None  # the words do not wait for the drawing
    assert replies[0].chart == ChartRequest(chat=chat.chat.key, dashboard=True)
    image = (await chat.core.prepare(replies[0])).image
    assert image is not None and image.filename == "dashboard.png"
    assert decode(image.data)[0] == 1100


async def test_scorecard_without_kpis_asks_for_no_dashboard(chat: FakeChat) -> None:
    replies = await chat.say("/scorecard")
    assert replies[0].chart is None and replies[0].image is None


async def test_a_dashboard_whose_kpis_are_gone_by_drawing_time_is_not_sent(chat: FakeChat) -> None:
    await chat.ok("/kpi add leads Leads target=200 perspective=customers")
    await chat.ok("/kpi set leads 150")
    [reply] = await chat.say("/scorecard")
    await chat.ok("/kpi remove leads")
    words, picture = split_picture(reply)
    assert words.chart is None and "Scorecard index" in (words.title or "")
    assert await drawn(chat.core.prepare, picture, logging.getLogger("t"), "console", "x") is None


async def test_dashboard_lists_movers_since_last_week_biggest_first(chat: FakeChat) -> None:
    await chat.ok('/kpi add a "Alpha" target=100 perspective=customers')
    await chat.ok('/kpi add b "Beta" target=100 perspective=finance')
    await chat.ok('/kpi add c "Gamma" target=100 perspective=finance')
    for key, before, now in (("a", 50, 60), ("b", 80, 40), ("c", 30, 30)):
        await chat.ok(f"/kpi set {key} {before} 2026-11-10")
        await chat.ok(f"/kpi set {key} {now}")
    view = scorecard_view(chat.core.ctx, chat.chat.key)
    spec = dashboard_spec(chat.core.ctx, chat.chat.key, view, date(2026, 11, 21))
    assert spec.movers == (("Beta", "−40 pp", "red"), ("Alpha", "+10 pp", "yellow"))
    assert [s.values for s in spec.sparks] == [(50.0, 60.0), (80.0, 40.0), (30.0, 30.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dashboard_png(spec).startswith(b"\x89PNG")


async def test_okr_progress_attaches_bars_for_objectives_and_key_results(chat: FakeChat) -> None:
    await chat.ok('/okr add delight "Delight customers" cycle=2026Q4')
    await chat.ok('/okr kr delight nps "Raise NPS" start=30 target=50')
    await chat.ok("/okr checkin nps 38")
    await chat.ok("/okr cycle 2026Q4")
    replies = await chat.say("/okr progress")
    image = replies[0].image
    assert image is not None and image.filename == "okr-2026Q4.png"
    assert decode(image.data)[0] == 800


def texts(canvas: Canvas, gid: str | None = None) -> list[Drawn]:
    return [d for d in canvas.record if d.kind == "text" and (gid is None or d.gid == gid)]


def assert_inside_and_apart(canvas: Canvas) -> None:
    for shape in canvas.record:
        left, bottom, right, top = shape.box
        assert 0 <= left <= right <= canvas.width and 0 <= bottom <= top <= canvas.height, shape
    for a, b in combinations(texts(canvas), 2):
        apart = (
            a.box[2] <= b.box[0]
            or b.box[2] <= a.box[0]
            or a.box[3] <= b.box[1]
            or b.box[3] <= a.box[1]
        )
        assert apart, (a, b)


def test_the_dashboard_of_fifty_kpis_shows_every_name_inside_the_picture_apart() -> None:
    spec = fifty()
    canvas = dashboard_canvas(spec)
    names = [d.text for d in texts(canvas, "kpi")]
    assert len(names) == 50
    assert all(shown(s.name, name) for s, name in zip(spec.sparks, names, strict=True))
    assert names[0] == "Sales from articles 0"
    assert names[1].startswith("Привлечение клиентов") and names[1].endswith("…")  # cut
    assert_inside_and_apart(canvas)
    glyphs = style._charmap()
    assert all(ord(ch) in glyphs for d in texts(canvas) for ch in d.text)
    movers = [d.text for d in texts(canvas, "mover")]
    assert len(movers) == 2 and movers[1] == "NPS" and shown(spec.movers[0][0], movers[0])


def test_dashboard_bars_follow_scores_and_colours_follow_statuses() -> None:
    spec = fifty()
    canvas = dashboard_canvas(spec)
    bars = [d for d in canvas.record if d.kind == "rect" and d.gid]
    assert [d.gid for d in bars] == ["yellow", "green", "red"]
    assert all(d.fill == style.EDGE[d.gid] for d in bars)
    tracks = [d for d in canvas.record if d.kind == "rect" and not d.gid]
    assert [t.hatch for t in tracks] == [False, False, False, True]  # no data looks apart
    lengths = [
        (d.box[2] - d.box[0]) / (t.box[2] - t.box[0]) for d, t in zip(bars, tracks, strict=False)
    ]
    assert [round(x, 6) for x in lengths] == [0.62, 0.91, 0.2]
    lines = [d for d in canvas.record if d.kind == "line" and d.gid]
    drawn = [s for s in spec.sparks if len(s.values) >= 2]
    assert [d.fill for d in lines] == [style.EDGE[s.status] for s in drawn]
    gauge = [d for d in canvas.record if d.kind == "wedge" and d.gid.startswith("gauge-")]
    assert [d.fill for d in gauge] == [
        style.FILL["red"],
        style.FILL["yellow"],
        style.FILL["green"],
    ]
    assert "no data" in [d.text for d in texts(canvas)]


def test_the_dashboard_png_decodes_at_its_size_without_warnings() -> None:
    spec = fifty()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = dashboard_png(spec)
    assert decode(png) == (1100, 1190)  # 11 inches; header, panels and ten rows of sparklines


def test_okr_bars_name_every_objective_and_key_result_and_mark_the_cycle() -> None:
    bars = (
        Bar("Delight our customers", 0.42, "yellow", "42%"),
        Bar(
            "Ответить на обращения быстрее, чем конкуренты, и удержать клиентов",
            0.6,
            "green",
            "60%",
            indent=True,
        ),
        Bar("Raise NPS", None, "red", "—", indent=True),
    )
    canvas = okr_canvas(OkrSpec("OKR progress 2026Q4", bars, 0.98, "98%"))
    names = texts(canvas, "bar")
    assert all(shown(b.name, d.text) for b, d in zip(bars, names, strict=True))
    assert [d.bold for d in names] == [True, False, False]
    assert_inside_and_apart(canvas)
    [marker] = [d for d in canvas.record if d.kind == "line"]
    assert "98% of the cycle elapsed" in [d.text for d in texts(canvas)]
    track = next(d for d in canvas.record if d.kind == "rect")
    assert abs(marker.box[0] - (track.box[0] + 0.98 * (track.box[2] - track.box[0]))) < 1e-9


def test_drawing_the_dashboard_and_okr_bars_imports_neither_matplotlib_nor_the_text_side() -> None:
    """The worker draws them right after its warm-up, without scoring's models."""
    code = (
        "import sys; from handlers.pictures.dashboard import dashboard_png, okr_png; "
        "from handlers.pictures.dashboard_layout import Bar, OkrSpec; "
        "from tests.pictures.dashboards import fifty; dashboard_png(fifty()); "
        "okr_png(OkrSpec('OKR', (Bar('Рост', 0.5, 'green', '50%'),), 0.5, '50%')); "
        "heavy = ('matplotlib', 'pydantic', 'handlers.render', 'scoring'); "
        "print(','.join(name for name in heavy if name in sys.modules) or 'light')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "light"

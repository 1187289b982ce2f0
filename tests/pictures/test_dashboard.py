"""`/scorecard` carries the dashboard picture, `/okr progress` the OKR bars."""

from __future__ import annotations

import logging
import warnings
from datetime import date

from bot.adapters.base import drawn, split_picture
from handlers.chart_specs import dashboard_spec
from handlers.contract import ChartRequest
from handlers.pictures.dashboard import dashboard_png
from handlers.scores import scorecard_view
from tests.pictures.support import decode
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

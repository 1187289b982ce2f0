"""The dashboard remembers each KPI's sparkline and move (`chart_specs.dashboard_spec`): after
any sets, unsets, imports, undos, removes, restarts and time passing, the spec it builds
from what it remembered equals a fresh one, and a memo keyed on too little is caught."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers import chart_specs
from handlers.chart_specs import colour_bands, dashboard_spec, kpi_chart_spec
from handlers.common import today_of
from handlers.pictures.dashboard_layout import DashboardSpec
from handlers.scores import scorecard_view
from scoring.models import Kpi, Measurement, Thresholds
from storage.kpis import KpiRepo
from tests.support import FakeChat, FixedClock, compute_afresh

KPIS = ("cac", "visits")
FIRST = date(2026, 9, 1)  # the setup imports daily values from here: three month shards
SETUP = (
    '/objective add o "Margin" perspective=finance',
    '/kpi add cac "CAC" baseline=120 target=80 unit=$ objective=o',
    '/kpi add visits "Site visits" target=1000 perspective=customers',
)
#: Each a `str.format` pattern over a KPI `k`, values `v`/`w`, days `d`/`e`, hours `h`.
PATTERNS = (
    "/kpi set {k} {v} {d}",  # mostly an old day: the values index does not change
    "/kpi set {k} {v}",
    "/kpi unset {k} {d}",
    "import {k} {v} {d} {w} {e}",
    "/kpi edit {k} target=150",
    "/kpi edit {k} test=yes",
    "/kpi edit {k} test=no",
    "/kpi remove {k} confirm",
    "/kpi restore {k}",
    "/undo",
    "+{h}h",  # time passes
    "reopen",  # the bot restarts on the same data
)
DAYS = st.integers(min_value=0, max_value=(date(2026, 11, 21) - FIRST).days).map(
    lambda n: (FIRST + timedelta(days=n)).isoformat()
)
VALUES = st.sampled_from(["90", "95", "0", "-5", "120.5", "1000", "1e308"])
STEPS = st.lists(
    st.builds(
        str.format,
        st.sampled_from(PATTERNS),
        k=st.sampled_from(KPIS),
        v=VALUES,
        w=VALUES,
        d=DAYS,
        e=DAYS,
        h=st.integers(min_value=1, max_value=100),
    ),
    max_size=10,
)


def _spec(core: Core, chat: FakeChat) -> DashboardSpec:
    ctx, key = core.ctx, chat.chat.key
    return dashboard_spec(ctx, key, scorecard_view(ctx, key), today_of(ctx, key))


async def _import(chat: FakeChat, lines: str) -> None:
    replies = await chat.say(f"/kpi import\n{lines}")
    if replies and replies[0].buttons:
        await chat.say(replies[0].buttons[0].command)


async def _scenario(steps: list[str], data: Path) -> None:
    clock = FixedClock()
    core = build_core(data, clock=clock)
    chat = FakeChat(core)
    try:
        for setup in SETUP:
            await chat.ok(setup)
        for key in KPIS:
            days = (FIRST + timedelta(days=n) for n in range(80))
            await _import(chat, "\n".join(f"{key} {i % 17 + 80} {d}" for i, d in enumerate(days)))
        _spec(core, chat)  # something remembered from the start
        for step in steps:
            if step.startswith("+"):
                clock.advance(hours=int(step[1:-1]))
            elif step == "reopen":
                core.close()
                core = build_core(data, clock=clock)
                chat = FakeChat(core)
            elif step.startswith("import "):
                _, key, v, d, w, e = step.split()
                await _import(chat, f"{key} {v} {d}\n{key} {w} {e}")
            else:
                await chat.say(step)
            remembered = _spec(core, chat)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(KpiRepo, "memo", compute_afresh)
                fresh = _spec(core, chat)
            assert remembered == fresh, step
    finally:
        core.close()


def _run(steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as data:
        asyncio.run(_scenario(steps, Path(data)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_a_remembered_dashboard_equals_a_fresh_one_after_any_changes(steps: list[str]) -> None:
    _run(steps)


def _keyed_on_less(drop: int) -> Callable[..., Any]:
    """A planted bug: the sparkline memo leaves argument `drop` out of what it compares."""
    memo = KpiRepo.memo

    def planted(
        self: KpiRepo, chat: str, key: str | None, tag: object, args: Any, compute: Any, **kw: Any
    ) -> Any:
        if tag is chart_specs._spark_part:
            args = args[:drop] + args[drop + 1 :]
        return memo(self, chat, key, tag, args, compute, **kw)

    return planted


@pytest.mark.parametrize(
    ("drop", "steps"),
    [
        (1, ["/kpi set cac 5 2026-11-02"]),  # an old day: the values index stays the same
        (2, ["+100h"]),  # the week-ago day moves on
    ],
    ids=["without-the-shards", "without-the-day-a-week-ago"],
)
def test_the_property_catches_a_sparkline_memo_keyed_on_too_little(
    monkeypatch: pytest.MonkeyPatch, drop: int, steps: list[str]
) -> None:
    _run(steps)  # right as built
    monkeypatch.setattr(KpiRepo, "memo", _keyed_on_less(drop))
    with pytest.raises(AssertionError):
        _run(steps)


@given(
    target=st.sampled_from([50.0, 150.0, 1000.0]),
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=2, max_size=5),
    green=st.sampled_from([0.8, 0.9]),
)
def test_a_chart_with_remembered_colour_bands_equals_one_computed_afresh(
    target: float, values: list[float], green: float
) -> None:
    kpi = Kpi(key="k", name="K", objective="o", target=target, baseline=100)
    at = datetime(2026, 11, 21, tzinfo=UTC)
    points = [
        Measurement(kpi="k", value=v, day=date(2026, 11, i + 1), at=at)
        for i, v in enumerate(values)
    ]
    thresholds = Thresholds(green=green, yellow=0.5)
    spec = kpi_chart_spec(kpi, points, thresholds)
    assert spec.bands == colour_bands.__wrapped__(kpi, thresholds, spec.low, spec.high)
    assert kpi_chart_spec(kpi, points, thresholds) == spec

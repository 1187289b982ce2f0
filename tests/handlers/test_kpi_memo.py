"""`/kpi` and `/scorecard` remember what they derived per table version (KpiRepo.memo):
whatever people change, and whatever day it is, the remembered reply is the one a fresh
computation gives, and a `/kpi` after one `/kpi set` scores and formats only that KPI."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import handlers.kpi
import handlers.scores
import scoring.rollup
from bot.app import build_core
from handlers.contract import Reply
from scoring.models import Kpi
from scoring.rollup import KpiScore
from storage.kpis import KpiRepo
from tests.support import FakeChat, FixedClock, compute_afresh

CONFIRMATION_ID = re.compile(r"/kpi confirm [0-9a-f]+")

KPIS = ("cac", "visits", "leads")
EDITS = (
    "target=75",
    "target=150",
    "baseline=10",
    "direction=down",
    "unit=$",
    'name="Renamed"',
    "agg=sum",
    "agg=last",
    "every=week",
    "test=yes",
    "test=no",
    "warn=50 crit=20",
    "due=2026-12-31",
    "weight=3",
    "objective=o",
    'formula="cac + 1"',
    "staged=2026-11-25:90",
    "confirm",
)
#: Each a `str.format` pattern over one KPI `k`, value `v`, day `d`, edit `e`, hours `h`.
PATTERNS = (
    "/kpi set {k} {v} {d}",
    "/kpi set {k} {v}",
    "/kpi unset {k} {d}",
    "/kpi edit {k} {e}",
    '/kpi edit leads formula="cac + visits"',  # a formula over the KPIs most often set
    "/kpi remove {k} confirm",
    "/kpi restore {k}",
    "/objective edit o weight={h}",
    '/perspective add service "Service" position=1',
    '/perspective rename customers "Clients"',
    "/timezone Pacific/Kiritimati",
    "/timezone America/Adak",
    "/timezone UTC",
    "/scorecard thresholds green=90 yellow=60",
    "/scorecard thresholds green=70 yellow=40",
    "/undo",
    "+{h}h",  # time passes
)
COMMANDS = st.builds(
    str.format,
    st.sampled_from(PATTERNS),
    k=st.sampled_from(KPIS),
    v=st.sampled_from(["90", "95", "0", "-5", "120.5", "1000"]),
    d=st.integers(min_value=1, max_value=21).map(lambda d: f"2026-11-{d:02d}"),
    e=st.sampled_from(EDITS),
    h=st.integers(min_value=1, max_value=40),
)
STEPS = st.lists(COMMANDS, max_size=14)
READS = ("/kpi", "/scorecard", "/kpi cac", "/kpi visits explain")


async def _reads(chat: FakeChat) -> list[list[Reply]]:
    return [await chat.say(text) for text in READS]


SETUP = (
    '/objective add o "Margin" perspective=finance',
    '/kpi add cac "CAC" baseline=120 target=80 unit=$ objective=o',
    '/kpi add visits "Site visits" target=1000 perspective=customers',
    '/kpi add leads "Leads" target=300 agg=sum perspective=customers',
    "/kpi set cac 100 2026-11-20",
    "/kpi set visits 400 2026-11-19",
)


async def _scenario(steps: list[str]) -> None:
    clock = FixedClock()
    core = build_core(None, clock=clock)
    chat = FakeChat(core)
    try:
        for setup in SETUP:
            await chat.ok(setup)
        await _reads(chat)  # something remembered from the start
        for step in steps:
            if step.startswith("+"):
                clock.advance(hours=int(step[1:-1]))
            else:
                await chat.say(step)
            remembered = await _reads(chat)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(KpiRepo, "memo", compute_afresh)
                fresh = await _reads(chat)
            assert remembered == fresh, step
    finally:
        core.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_remembered_kpi_and_scorecard_replies_equal_a_fresh_computation_after_any_changes(
    steps: list[str],
) -> None:
    asyncio.run(_scenario(steps))


def _unrandomised(replies: list[Reply]) -> str:
    """The replies with their random confirmation ids blanked (a value 100× away from the
    recent ones asks to confirm, and each store draws its own id)."""
    return CONFIRMATION_ID.sub("/kpi confirm <id>", repr(replies))


async def _said(chat: FakeChat, text: str) -> object:
    return _unrandomised(await chat.say(text))


async def _twins(
    steps: list[str],
    setup: Sequence[str] = SETUP,
    reads: Sequence[str] = READS,
    say: Callable[[FakeChat, str], Awaitable[object]] = _said,
) -> None:
    """Two bots take `steps` (`+<n>h`: hours pass), one remembering and one computing
    everything afresh; what each step and then each of `reads` says must be the same."""
    clock = FixedClock()
    remembering, forgetting = build_core(None, clock=clock), build_core(None, clock=clock)
    # this one computes everything afresh, in writes (formula graphs) as in reads
    setattr(forgetting.store.kpis, "memo", partial(compute_afresh, forgetting.store.kpis))  # noqa: B010
    chats = (FakeChat(remembering), FakeChat(forgetting))
    try:
        for text in setup:
            for chat in chats:
                await chat.ok(text)
        for step in steps:
            if step.startswith("+"):
                clock.advance(hours=int(step[1:-1]))
            else:
                said = [await say(chat, step) for chat in chats]
                assert said[0] == said[1], step
            read = [[await say(chat, text) for text in reads] for chat in chats]
            assert read[0] == read[1], step
    finally:
        remembering.close()
        forgetting.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
@example(steps=['/kpi edit leads formula="cac + visits"', "/kpi set cac 95"])
@example(steps=["/kpi set leads -5", "/kpi set leads 1000"])  # asks to confirm: random ids
def test_a_store_that_remembers_answers_every_command_like_one_that_computes_afresh(
    steps: list[str],
) -> None:
    asyncio.run(_twins(steps))


def test_a_kpi_list_after_one_set_scores_rolls_up_and_formats_only_that_kpi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scored: list[str] = []
    formatted: list[str] = []
    rolled_up: list[str] = []
    score, cells, roll = handlers.scores._scored, handlers.kpi._cells, scoring.rollup.score_kpi

    def counting_score(*args: Any) -> handlers.scores.KpiView:
        view = score(*args)
        scored.append(view.kpi.key)
        return view

    def counting_cells(view: handlers.scores.KpiView) -> tuple[str, ...]:
        formatted.append(view.kpi.key)
        return cells(view)

    def counting_roll(kpi: Kpi, *args: Any) -> KpiScore:
        rolled_up.append(kpi.key)
        return roll(kpi, *args)

    monkeypatch.setattr(handlers.scores, "_scored", counting_score)
    monkeypatch.setattr(handlers.scores, "score_kpi", counting_roll)
    monkeypatch.setattr(handlers.kpi, "_cells", counting_cells)

    async def scenario() -> None:
        core = build_core(None, clock=FixedClock())
        try:
            chat = FakeChat(core)
            for key in KPIS:
                await chat.ok(f'/kpi add {key} "{key.upper()}" target=100 perspective=customers')
                await chat.ok(f"/kpi set {key} 50 2026-11-20")
            first = await chat.ok("/kpi")
            assert sorted(scored) == sorted(formatted) == sorted(rolled_up) == sorted(KPIS)
            scored.clear()
            formatted.clear()
            rolled_up.clear()
            assert await chat.ok("/kpi") == first
            assert scored == formatted == rolled_up == []
            await chat.ok("/kpi set visits 70")
            await chat.ok("/kpi")
            assert scored == formatted == rolled_up == ["visits"]
        finally:
            core.close()

    asyncio.run(scenario())

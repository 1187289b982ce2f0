"""OKR ↔ scorecard: key results driven by KPIs, OKRs aligned to scorecard objectives."""

from __future__ import annotations

from bot.app import Core
from tests.support import FakeChat


async def _setup(chat: FakeChat) -> None:
    await chat.ok('/objective add retain "Retain customers" perspective=customers')
    await chat.ok('/kpi add nps "NPS" baseline=30 target=50 objective=retain')
    await chat.ok('/okr add delight "Delight our customers" cycle=2026Q4 align=retain')


async def test_a_kpi_driven_key_result_follows_the_kpi(chat: FakeChat, core: Core) -> None:
    await _setup(chat)
    await chat.ok("/kpi set nps 35")
    saved = await chat.ok('/okr kr delight knps "Raise NPS" start=30 target=50 kpi=nps')
    assert saved == (
        "Saved key result Raise NPS (knps) of delight: 30 → 50, following KPI nps (now 35)."
    )
    assert core.store.okrs.key_result("console:team", "knps").current == 35  # type: ignore[union-attr]
    await chat.ok("/kpi set nps 40")
    listing = await chat.ok("/okr")
    assert "Raise NPS (knps) ← KPI nps" in listing and "40 → 50" in listing
    assert "50%" in listing
    checked = await chat.ok("/okr checkin knps confidence=7 survey looks good")
    assert checked.startswith("Checked in Raise NPS: 40 (target 50).")
    assert "Confidence: 7/10" in checked
    [entry] = core.store.okrs.check_ins("console:team", "knps")
    assert (entry.value, entry.confidence, entry.note) == (40, 7, "survey looks good")
    assert "follows KPI nps" in await chat.error("/okr checkin knps 45")


async def test_an_aligned_okr_shows_on_the_map_and_in_okr(chat: FakeChat) -> None:
    await _setup(chat)
    assert "OKR delight serves scorecard objective Retain customers (retain)" in await chat.ok(
        "/okr"
    )
    strategy = await chat.ok("/map text")
    assert strategy.endswith(
        "OKRs aligned to objectives:\n"
        "   OKR Delight our customers (delight, 2026Q4) → Retain customers"
    )
    assert "No objective 'nowhere'" in await chat.error("/okr edit delight align=nowhere")
    await chat.ok("/okr edit delight align=none")
    assert "aligned" not in await chat.ok("/map text")


async def test_kr_kpi_link_refuses_unknown_kpis(chat: FakeChat) -> None:
    await _setup(chat)
    assert "No KPI 'npx'" in await chat.error(
        '/okr kr delight knps "Raise NPS" start=30 target=50 kpi=npx'
    )

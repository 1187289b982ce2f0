"""The new KPI, key-result and OKR fields survive export and re-import (JSON and CSV)."""

from __future__ import annotations

import pytest

from bot.app import Core
from handlers import exchange
from tests.support import FakeChat, FixedClock


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_formula_agg_due_staged_and_links_round_trip(
    chat: FakeChat, core: Core, clock: FixedClock, fmt: str
) -> None:
    for text in (
        '/kpi add spend "Spend" baseline=6000 target=4000 agg=sum perspective=finance',
        '/kpi add newc "New" target=60 agg=sum perspective=customers',
        '/kpi add cac "CAC" formula="spend / newc" baseline=150 target=50 perspective=finance',
        '/kpi add soc "Soc" baseline=10000 target=12000 due=2027-09-30 '
        "staged=2027Q1:10500 perspective=customers",
        "/kpi set spend 5000",
        "/kpi set newc 40",
        '/objective add retain "Retain" perspective=customers',
        '/okr add delight "Delight" align=retain',
        '/okr kr delight k1 "K" start=0 target=100 kpi=newc',
    ):
        await chat.ok(text)
    doc = exchange.snapshot(core.store, "console:team", clock())
    data = exchange.to_json(doc) if fmt == "json" else exchange.to_csv(doc)
    plan = exchange.plan_import(
        core.store, "console:copy", exchange.read_file(data, f"x.{fmt}"), clock()
    )
    assert plan.problems == []
    with core.store.atomic():
        exchange.apply_import(core.ctx, "console:copy", plan)
    assert core.store.kpis.all("console:copy") == core.store.kpis.all("console:team")
    assert core.store.okrs.okrs("console:copy") == core.store.okrs.okrs("console:team")
    assert core.store.okrs.key_results("console:copy") == core.store.okrs.key_results(
        "console:team"
    )
    assert [m.value for m in core.store.kpis.history("console:copy", "cac")] == [125.0]

"""`unit=none` clears a unit as `owner=none` clears an owner, and a long unit is refused by
key results as by KPIs, not cut (probe14).

`/kpi edit cac unit=none` stored the unit "none" (`Value: 95 none`), where `owner=none`,
`formula=none`, `due=none` and `kpi=none` all clear their field; and a key result's
`unit="customers per month"` was saved cut to "customers per mo" without a word, where a
KPI's is refused as too long.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize("cleared", ["none", "-", "None"])
async def test_unit_none_clears_a_kpis_unit(chat: FakeChat, cleared: str) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance')
    await chat.ok("/kpi set cac 95")
    assert await chat.ok(f"/kpi edit cac unit={cleared}") == "Updated CAC (cac): no unit."
    assert "Value: 95\n" in await chat.ok("/kpi cac")


async def test_unit_none_clears_a_key_results_unit(chat: FakeChat) -> None:
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow subs "Subscribers" start=1000 target=5000 unit=subs')
    await chat.ok("/okr kr edit subs unit=none")
    [row] = [line for line in (await chat.ok("/okr")).splitlines() if "(subs)" in line]
    assert " ".join(row.split()) == "Subscribers (subs) 1 000 → 5 000 1 000 0% 0.0"


async def test_a_key_results_long_unit_is_refused_not_cut(chat: FakeChat) -> None:
    await chat.ok('/okr add grow "Grow"')
    assert (
        await chat.error(
            '/okr kr grow subs "Subscribers" start=1000 target=5000 unit="customers per month"'
        )
        == "unit is too long (at most 16 characters)."
    )

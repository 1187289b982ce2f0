"""What other commands do to a KPI while a big import's Apply is being built (its slices
let them run) is seen by its last slice: it writes nothing for a KPI that is gone or now
calculated."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from bot.app import Core
from handlers import kpi_import
from tests.handlers.test_kpi_import_slices import when_laid_out
from tests.support import FakeChat

CHAT = "console:team"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpi_import, "CHUNK", 5)


async def _apply_started(core: Core) -> tuple[FakeChat, str]:
    team = FakeChat(core, "team")
    await team.ok('/kpi add cac "CAC" target=80 perspective=finance')
    start = date(2026, 1, 1)
    rows = [f"cac {90 + n % 7} {start + timedelta(days=n)}" for n in range(40)]
    await team.ok("/kpi import\n" + "\n".join(rows))
    return team, team.transcript[-1][1][0].buttons[0].command


async def _during_apply(
    core: Core, monkeypatch: pytest.MonkeyPatch, meanwhile: Sequence[str]
) -> tuple[FakeChat, str, str]:
    team, apply = await _apply_started(core)
    laid_out = when_laid_out(monkeypatch)
    applied = asyncio.ensure_future(team.say(apply))
    await laid_out.wait()  # built, not yet written: the commands below run in between
    for text in meanwhile:
        await team.ok(text)
    assert not applied.done()
    return team, apply, (await applied)[0].plain()


async def test_an_import_applied_while_its_kpi_is_deleted_for_good_writes_no_values(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    team, _, answer = await _during_apply(
        core, monkeypatch, ["/kpi remove cac", "/kpi remove cac confirm"]
    )
    assert answer == "No KPI 'cac'."
    assert core.store.kpis.count(CHAT, "cac") == 0
    assert core.store.db.table_names(f"m:{CHAT}:cac:") == set()
    await team.ok('/kpi add cac "CAC again" target=80 perspective=finance')
    assert "never" in await team.ok("/kpi")  # the new KPI starts without the old import


async def test_an_import_applied_while_its_kpi_is_removed_is_refused_and_stays_parked(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    team, apply, answer = await _during_apply(core, monkeypatch, ["/kpi remove cac"])
    assert answer.startswith("CAC (cac) is removed from the scorecard")
    assert core.store.kpis.count(CHAT, "cac") == 0
    await team.ok("/kpi restore cac")
    assert await team.ok(apply) == "Imported 40 values: CAC."  # the preview stayed parked


async def test_an_import_applied_after_its_kpi_got_a_formula_is_refused_and_stays_parked(
    core: Core,
) -> None:
    team, apply = await _apply_started(core)
    await team.ok('/kpi add visits "Visits" target=100 perspective=customers')
    await team.ok('/kpi edit cac formula="visits + 1"')
    assert await team.error(apply) == "cac is calculated from its formula; import its inputs."
    assert core.store.kpis.count(CHAT, "cac") == 0
    await team.ok("/kpi edit cac formula=none")
    assert await team.ok(apply) == "Imported 40 values: CAC."

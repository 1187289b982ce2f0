"""Commands and the collector: what a command keeps is frozen, which is safe because
commands (refusals included) make no cyclic garbage (the bound on cycles, should some
path make them anyway: tests/storage/test_gc_policy.py)."""

from __future__ import annotations

import gc

import pytest

from bot.app import Core
from storage import gc_policy
from tests.support import FakeChat, cyclic_garbage_made_by_us

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance every=week'
EVERYDAY = (
    "/kpi",
    "/kpi set cac 130",
    "/kpi set cac 70",
    "#posts +1 published the guide",
    "#posts +2",
    "/scorecard",
    "/kpi set cac lots",  # refused: not a number
    "/kpi set nosuch 5",  # refused: no such KPI
    "#nosuch +1",  # not ours: free chat text, no reply
    "/frobnicate",  # unknown command
    "/help",
)


async def test_a_run_of_everyday_commands_and_refusals_leaves_no_cyclic_garbage_of_ours(
    chat: FakeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.ok(CAC)
    await chat.ok('/initiative add posts "Posts" cadence=4/month')
    await chat.ok("/alerts set group=0 repeat=12h")

    async def commands() -> list[str]:
        return [r.kind for text in EVERYDAY * 3 for r in await chat.say(text)]

    kinds, left = await cyclic_garbage_made_by_us(commands, monkeypatch)
    assert kinds.count("error") == 3 * 3
    assert left == []


async def test_what_a_command_keeps_is_frozen_out_of_full_collections(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok(CAC)
    gc.unfreeze()
    await chat.ok("/kpi")
    assert gc.get_freeze_count() > 0
    # the young generation was emptied by the freeze (the policy's ballast aside)
    assert gc.get_count()[0] < 50 + gc_policy.BALLAST

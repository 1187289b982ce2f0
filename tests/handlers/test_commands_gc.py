"""Commands and the collector: what a command keeps is frozen, which is safe because
commands (refusals included) make no cyclic garbage; and the policy's bound on cycles."""

from __future__ import annotations

import gc
import sys

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
    assert gc.get_count()[0] < 50  # the young generation was emptied by the freeze


def _policy(monkeypatch: pytest.MonkeyPatch, *, check_every: int) -> None:
    monkeypatch.setattr(gc_policy, "CHECK_EVERY", check_every)
    monkeypatch.setattr(gc_policy, "_commands", 0)
    monkeypatch.setattr(gc_policy, "_blocks_seen", 0)
    monkeypatch.setattr(gc_policy, "_frozen_after_full", 0)


def test_frozen_objects_are_walked_only_after_memory_grew_and_collected_only_if_they_grew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cheap block count gates the walk; the frozen count alone decides a collection
    (blocks also grow with the table cache's untracked bytes, which no collection frees)."""
    calls: list[str] = []
    blocks = iter([1000, 1200, 1300, 1600, 1700, 1000, 1200])  # each getallocatedblocks()
    frozen = iter([500, 550, 700, 520])  # each walk of the frozen objects

    def walk() -> int:
        calls.append("walk")
        return next(frozen)

    _policy(monkeypatch, check_every=2)
    for name in ("freeze", "unfreeze", "collect"):
        monkeypatch.setattr(gc, name, lambda name=name: calls.append(name))
    monkeypatch.setattr(sys, "getallocatedblocks", lambda: next(blocks))
    monkeypatch.setattr(gc, "get_freeze_count", walk)
    looks = []
    for _ in range(6):
        calls.clear()
        gc_policy.after_command()  # freeze only
        gc_policy.after_command()  # freeze, then a look at the block count
        looks.append(calls[2:])
    assert looks == [
        ["walk"],  # blocks 1000: the first look walks for the baseline (500 frozen)
        [],  # 1200: under a quarter more blocks: no walk
        ["walk"],  # 1300: a quarter more blocks; 550 frozen is not a quarter more
        [],  # 1600: under a quarter more than 1300
        ["walk", "unfreeze", "collect", "freeze", "walk"],  # 1700, 700 frozen: collected
        [],  # 1200 against 1000 after the collection
    ]


def test_without_pythons_allocator_the_bound_counts_the_frozen_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`PYTHONMALLOC=malloc` has no block count (0): the bound must not switch off."""
    collected: list[bool] = []
    frozen = iter([1000, 1300, 1000])
    _policy(monkeypatch, check_every=1)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(gc, "unfreeze", lambda: None)
    monkeypatch.setattr(gc, "collect", lambda: collected.append(True))
    monkeypatch.setattr(sys, "getallocatedblocks", lambda: 0)
    monkeypatch.setattr(gc, "get_freeze_count", lambda: next(frozen))
    gc_policy.after_command()  # 1000: the baseline
    gc_policy.after_command()  # 1300: a quarter more
    assert collected == [True]

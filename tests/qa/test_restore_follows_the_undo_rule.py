"""Bringing back a removed KPI follows the rule `/undo` of its removal follows: only the one
who removed it or an admin may.

Anyone could `/kpi restore` an admin's removal, while `/undo` of that removal was refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app import Core, build_core
from tests.support import FakeChat, FixedClock

CAC = '/kpi add cac "CAC" baseline=120 target=80 perspective=finance'


@pytest.fixture
def guarded(clock: FixedClock) -> Iterator[Core]:
    core = build_core(None, clock=clock, admins=frozenset({"console:boss", "@lead"}))
    yield core
    core.close()


async def test_a_member_can_neither_restore_nor_undo_an_admins_removal(guarded: Core) -> None:
    chat = FakeChat(guarded, user="boss")
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 95", user="intern")
    await chat.ok("/kpi remove cac")
    assert await chat.error("/undo 2611-3", user="intern") == (
        "Change 2611-3 was made by @boss; only they or an admin can undo it."
    )
    assert await chat.error("/kpi restore cac", user="intern") == (
        "Change 2611-3 was made by @boss; only they or an admin can undo it."
    )
    assert "(cac) is removed" in await chat.error("/kpi cac", user="intern")
    assert await chat.ok("/history", user="intern") == await chat.ok("/history")


async def test_its_author_or_another_admin_can_restore_it(guarded: Core) -> None:
    chat = FakeChat(guarded, user="boss")
    await chat.ok(CAC)
    await chat.ok("/kpi remove cac")
    assert await chat.ok("/kpi restore cac", user="lead") == "Restored CAC (cac) with its history."
    await chat.ok("/kpi remove cac")
    assert await chat.ok("/kpi restore cac") == "Restored CAC (cac) with its history."


async def test_a_removal_the_history_does_not_name_is_restored_by_an_admin_only(
    guarded: Core,
) -> None:
    chat = FakeChat(guarded, user="boss")
    await chat.ok(CAC)
    await chat.ok("/kpi remove cac")
    guarded.store.db.table("auditm:console:team").truncate()  # audit months forgotten
    assert await chat.error("/kpi restore cac", user="intern") == (
        "The removal of cac is not in /history; only an admin can undo it."
    )
    assert await chat.ok("/kpi restore cac", user="lead") == "Restored CAC (cac) with its history."


async def test_without_configured_admins_anyone_restores(chat: FakeChat) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi remove cac")
    assert await chat.ok("/kpi restore cac", user="ivan") == "Restored CAC (cac) with its history."

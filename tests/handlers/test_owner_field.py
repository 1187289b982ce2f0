"""`owner=` reads the same on every edit command: a handle sets it, `none` or `-` clears
it (and the reply says so in words), an empty `owner=` is a friendly error."""

from __future__ import annotations

import pytest

from bot.app import Core
from tests.support import FakeChat

SETUP = (
    '/kpi add cac "CAC" target=80 perspective=finance owner=@anna',
    '/objective add o "Grow" perspective=finance owner=@anna',
    '/initiative add articles "Articles" owner=@anna',
    '/okr add d "Delight" owner=@anna',
    '/okr kr d nps "NPS" start=30 target=50 owner=@anna',
)
EDITS = (
    "/kpi edit cac",
    "/objective edit o",
    "/initiative edit articles",
    "/okr edit d",
    "/okr kr edit nps",
)


def _owners(core: Core, chat: FakeChat) -> list[str | None]:
    store, key = core.store, chat.chat.key
    found = [
        store.kpis.get(key, "cac"),
        store.scorecards.objective(key, "o"),
        store.initiatives.get(key, "articles"),
        next(o for o in store.okrs.okrs(key) if o.key == "d"),
        next(k for k in store.okrs.key_results(key) if k.key == "nps"),
    ]
    return [getattr(item, "owner", "missing") for item in found]


async def _setup(chat: FakeChat) -> None:
    for line in SETUP:
        await chat.ok(line)


@pytest.mark.parametrize("edit", EDITS)
async def test_an_empty_owner_is_a_friendly_error_and_changes_nothing(
    core: Core, chat: FakeChat, edit: str
) -> None:
    await _setup(chat)
    assert await chat.error(f"{edit} owner=") == (
        "owner= needs a chat handle, e.g. owner=@anna (owner=none clears it)"
    )
    assert _owners(core, chat) == ["@anna"] * 5


@pytest.mark.parametrize("clear", ["none", "-", "None"])
async def test_owner_none_or_a_dash_clears_the_owner_on_every_edit_command(
    core: Core, chat: FakeChat, clear: str
) -> None:
    await _setup(chat)
    for edit in EDITS:
        await chat.ok(f"{edit} owner={clear}")
    assert _owners(core, chat) == [None] * 5


async def test_clearing_a_kpi_owner_says_so_in_words_not_as_a_name(chat: FakeChat) -> None:
    await _setup(chat)
    assert await chat.ok("/kpi edit cac owner=none target=75") == (
        "Updated CAC (cac): no owner, target=75."
    )
    assert await chat.ok("/kpi edit cac owner=ivan") == "Updated CAC (cac): owner=ivan."

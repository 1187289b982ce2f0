"""`kpi_or_fail` finds a KPI typed as its stored key without `_pick`: for any word typed
(any case, script, spacing, a removed KPI's key, a name, a miss), it returns the same KPI
or refuses with the same line as `_pick` alone; a planted bug (a removed KPI served by
the shortcut) fails that."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers import common
from handlers.contract import Actor, Command
from storage.kpis import KpiRepo
from tests.support import FakeChat, FixedClock, say_confirmed

SETUP = (
    '/kpi add cac "Customer acquisition cost" target=100 perspective=finance',
    '/kpi add лиды "Leads" target=100 perspective=finance',
    '/kpi add nps.q1 "Net promoter" target=50 perspective=finance',
    '/kpi add gone "Gone" target=10 perspective=finance',
    "/kpi remove gone",
)
TYPED = st.one_of(
    st.sampled_from(
        [
            "cac",
            "CAC",
            "лиды",
            "Лиды",
            "nps.q1",
            "NPS.Q1",
            "gone",
            "GONE",
            "nope",
            "Customer",
            "1cac",
            "_cac",
            "ǰ",
            "ﬃ",
            "cac\u200b",
            "c" * 41,
        ]
    ),
    st.text(alphabet=st.sampled_from("caCAлиды.-_ 1\u200bǰ"), min_size=1, max_size=6),
)


def _core() -> tuple[Core, FakeChat]:
    core = build_core(None, clock=FixedClock())
    chat = FakeChat(core)

    async def setup() -> None:
        for text in SETUP:
            await say_confirmed(chat, text)

    asyncio.run(setup())
    return core, chat


def _found(core: Core, chat: FakeChat, raw: str, removed: bool) -> str:
    cmd = Command(
        name="kpi set",
        args=(raw, "1"),
        chat=chat.chat,
        actor=Actor(platform="console", user_id="anna", display_name="Anna", handle="@anna"),
        received_at=core.ctx.clock(),
    )
    try:
        return common.kpi_or_fail(cmd, core.ctx, raw, removed=removed).model_dump_json()
    except Exception as exc:  # the refusal, as people read it
        return f"{type(exc).__name__}: {exc}"


@contextmanager
def _pick_only() -> Iterator[None]:
    with mock.patch.object(common, "_live_as_typed", lambda *a: None):
        yield


def _same(raw: str, removed: bool) -> None:
    core, chat = _core()
    try:
        fast = _found(core, chat, raw, removed)
        with _pick_only():
            assert fast == _found(core, chat, raw, removed), raw
    finally:
        core.close()


@settings(max_examples=60, deadline=None)
@given(TYPED, st.booleans())
def test_a_key_typed_as_stored_finds_what_pick_finds(raw: str, removed: bool) -> None:
    _same(raw, removed)


def test_the_property_catches_a_shortcut_that_serves_a_removed_kpi(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the shortcut forgets that a removed KPI is refused."""

    def careless(repo: KpiRepo, chat: str, raw: str) -> Any:
        return repo.get(chat, raw) if raw.isascii() and raw.islower() else None

    monkeypatch.setattr(common, "_live_as_typed", careless)
    with pytest.raises(AssertionError):
        _same("gone", False)

"""Fixtures: a fixed clock, an in-memory core, and a chat to talk to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.app import Core, build_core
from tests.support import FakeChat, FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def core(clock: FixedClock) -> Iterator[Core]:
    core = build_core(None, clock=clock)
    yield core
    core.close()


@pytest.fixture
def chat(core: Core) -> FakeChat:
    return FakeChat(core)

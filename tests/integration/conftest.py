"""Fixtures: one chat per platform, each with its own store, the real router and a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.harness import (
    ConsoleChat,
    SlackChat,
    TelegramChat,
    console_chat,
    slack_chat,
    telegram_chat,
)
from tests.support import FixedClock


@pytest.fixture
async def telegram(clock: FixedClock) -> AsyncIterator[TelegramChat]:
    async with telegram_chat(clock) as chat:
        yield chat


@pytest.fixture
async def slack(clock: FixedClock) -> AsyncIterator[SlackChat]:
    async with slack_chat(clock) as chat:
        yield chat


@pytest.fixture
async def console(clock: FixedClock) -> AsyncIterator[ConsoleChat]:
    async with console_chat(clock) as chat:
        yield chat

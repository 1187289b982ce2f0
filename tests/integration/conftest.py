"""Fixtures: a Telegram and a Slack chat, each with its own store and the real router."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.harness import (
    SlackChat,
    TelegramChat,
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

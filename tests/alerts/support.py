"""Helpers for alert tests: read what a chat's outbox holds, a recording adapter, fake time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.adapters.base import DeliveryError
from bot.app import Core
from bot.delivery import decode_reply
from handlers.contract import Reply
from handlers.jobs import sweeper
from tests.support import FixedClock

CHAT = "console:team"


def queued(core: Core, chat: str = CHAT) -> list[Reply]:
    """Every message still waiting in `chat`'s outbox, in order."""
    return [decode_reply(e.body or {}) for e in core.store.outbox.pending(chat)]


def queued_text(core: Core, chat: str = CHAT) -> list[str]:
    """The plain text of every waiting message."""
    return [r.plain() for r in queued(core, chat)]


def wakes(core: Core) -> dict[str, object]:
    """Flush wake-ups the last commands asked for (and forget them)."""
    take: Callable[[], dict[str, object]] = core.ctx.outbox.take_wakes  # type: ignore[attr-defined]
    return take()


class FakeSleep:
    """An injected sleep that moves the fixed clock instead of waiting."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


class RecordingAdapter:
    """A platform that records what it sends and fails on demand."""

    def __init__(self, platform: str = "console") -> None:
        self.platform = platform
        self.sent: list[Reply] = []
        self.attempts = 0
        self.failures: list[DeliveryError] = []

    def fail_next(self, *errors: DeliveryError) -> None:
        self.failures.extend(errors)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, reply: Reply, skip: int = 0) -> None:
        self.attempts += 1
        await asyncio.sleep(0)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(reply)


def flush(core: Core, chat: str = CHAT) -> None:
    """The group-window / quiet-hours timer of `chat` fires now."""
    with core.store.atomic():
        sweeper.flush_alerts(core.ctx, chat)

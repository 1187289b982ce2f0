"""Test doubles shared by handler tests: a fixed clock and a chat with a transcript."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import Core
from handlers.contract import Actor, ChatRef, Reply
from handlers.parsing import command_from_text


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class FakeTime:
    """monotonic() and sleep() for the adapters' pacing: sleeping only moves this clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class FakeChat:
    """Drives the real router and store like a person typing in one chat."""

    def __init__(self, core: Core, chat_id: str = "team", user: str = "anna") -> None:
        self.core = core
        self.chat = ChatRef(platform="console", chat_id=chat_id)
        self.user = user
        self.transcript: list[tuple[str, list[Reply]]] = []

    async def say(self, text: str, user: str | None = None) -> list[Reply]:
        name = user or self.user
        actor = Actor(
            platform="console", user_id=name, display_name=name.title(), handle=f"@{name}"
        )
        cmd = command_from_text(
            text, actor=actor, chat=self.chat, received_at=self.core.ctx.clock()
        )
        replies = [] if cmd is None else await self.core.dispatch(cmd)
        self.transcript.append((text, replies))
        return replies

    async def ask(self, text: str, user: str | None = None) -> str:
        """Exactly one reply expected; returns its plain text."""
        replies = await self.say(text, user)
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        return replies[0].plain()

    async def ok(self, text: str, user: str | None = None) -> str:
        """Exactly one non-error reply expected."""
        replies = await self.say(text, user)
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        assert replies[0].kind != "error", f"{text!r} failed: {replies[0].plain()}"
        return replies[0].plain()

    async def error(self, text: str, user: str | None = None) -> str:
        """Exactly one error reply expected; returns its text."""
        replies = await self.say(text, user)
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        assert replies[0].kind == "error", f"{text!r} should fail: {replies[0].plain()}"
        assert "\n" not in replies[0].text, "errors are one line"
        return replies[0].text

"""What every platform adapter offers the application, and what it is given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from handlers.contract import Command, Reply

Dispatch = Callable[[Command], Awaitable[list[Reply]]]
"""Runs one command through the router and returns the replies to render."""


class DeliveryError(Exception):
    """Sending failed; `permanent` means retrying will not help (bot removed from chat)."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class StartupError(RuntimeError):
    """A platform refused to start (bad token, unreachable API): a message fit for the user."""


class SeenLog(Protocol):
    """Durable memory of processed update ids, so a redelivered update runs once."""

    async def first_time(self, key: str) -> bool:
        """Record `key`; True when it had not been seen before."""


class MemorySeenLog:
    """In-memory SeenLog for tests and the console."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    async def first_time(self, key: str) -> bool:
        """Record `key`; True when it had not been seen before."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


class Adapter(Protocol):
    """A chat platform: started and stopped by the app, sends replies for the outbox."""

    platform: str

    async def start(self) -> None:
        """Connect and begin receiving updates."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""

    async def send(self, reply: Reply) -> None:
        """Deliver `reply` to `reply.to`; raise DeliveryError on failure."""

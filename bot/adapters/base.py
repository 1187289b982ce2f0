"""What every platform adapter offers the application, and what it is given."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.logging import log_fields
from handlers.contract import ChatRef, Command, Reply

Dispatch = Callable[[Command], Awaitable[list[Reply]]]
"""Runs one command through the router and returns the replies to render."""

Sleep = Callable[[float], Awaitable[None]]
"""`asyncio.sleep`, or a fake that moves a test clock."""

ChatMoved = Callable[[ChatRef, ChatRef], Awaitable[object]]
"""Called with (old, new) when a platform gives a chat a new id (Telegram group →
supergroup): the application moves the chat's data to the new id (`Core.move_chat`)."""


class Pacer:
    """Spaces our messages to one chat (Telegram and Slack both allow ~1 message/s per chat).

    Slots are reserved before waiting, so concurrent senders to one chat queue up in
    order and a long reply split into several messages is not sent as a burst.
    `pause_all` holds every chat, for a platform's bot-wide flood wait.
    """

    def __init__(self, interval: float, monotonic: Callable[[], float], sleep: Sleep) -> None:
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._paused_until = 0.0

    async def wait(self, chat_id: str) -> None:
        """Return when a message may be sent to `chat_id`."""
        now = self._monotonic()
        slot = max(now, self._next.get(chat_id, now), self._paused_until)
        self._next[chat_id] = slot + self._interval
        if len(self._next) > 1024:  # forget chats that are idle
            self._next = {c: t for c, t in self._next.items() if t > now}
        if slot > now:
            await self._sleep(slot - now)

    def pause_all(self, seconds: float) -> None:
        """Hold every chat for `seconds` (after a platform's flood wait)."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)


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


SOMETHING_WRONG = "Something went wrong on my side. Please try again later."


async def dispatch_for(
    dispatch: Dispatch, cmd: Command, platform: str, logger: logging.Logger
) -> list[tuple[Reply, ChatRef]]:
    """Run `cmd` and pair each reply with its target chat on this platform.

    The router answers every command itself, so an exception here is a wiring bug: it is
    logged and the user gets an apology. Replies addressed to another platform are dropped
    (cross-platform messages go through the outbox).
    """
    try:
        replies = await dispatch(cmd)
    except Exception:
        logger.exception("dispatch failed", extra=log_fields(platform, cmd.chat.chat_id))
        replies = [Reply(text=SOMETHING_WRONG, kind="error")]
    out: list[tuple[Reply, ChatRef]] = []
    for reply in replies:
        target = reply.to or cmd.chat
        if target.platform != platform:
            logger.warning(
                "reply addressed to %s dropped; cross-platform messages go via the outbox",
                target.platform,
                extra=log_fields(platform, cmd.chat.chat_id, cmd.name),
            )
            continue
        out.append((reply, target))
    return out

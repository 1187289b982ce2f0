"""What every platform adapter offers the application, and what it is given."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from bot.logging import log_fields
from handlers.contract import ChatRef, Command, Reply

Dispatch = Callable[[Command], Awaitable[list[Reply]]]
"""Runs one command through the router and returns the replies to render."""

Sleep = Callable[[float], Awaitable[None]]
"""`asyncio.sleep`, or a fake that moves a test clock."""

Prepare = Callable[[Reply], Awaitable[Reply]]
"""Draws a reply's requested picture from the values of this moment (`Core.prepare`)."""

SendLater = Callable[[Reply, float, str, int], Awaitable[bool]]
"""Keeps a reply (to its chat) that a flood limit told to wait longer than is waited in
place in the durable outbox, sent after that many seconds (`Core.send_later`); the str
says why, the int how many of its parts had arrived (not sent again). False when it could
not be kept."""

#: Said where a person edited a command they sent (Telegram, and Slack's `@scorecard /kpi …`):
#: the edit is not run, and silence read as the correction having been made.
EDITED_COMMAND = (
    "Edited messages are not read, so that edit changed nothing: send the corrected "
    "command as a new message (/undo takes back what the first one changed)."
)
#: Said instead where the first version was not run as a command (chatter edited into one):
#: pointing to /undo there would take back someone's earlier change.
EDITED_INTO_COMMAND = (
    "Edited messages are not read, so that edit ran nothing: send the command as a new message."
)

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
        self._flooded: dict[str, float] = {}  # chat -> end of its flood wait

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

    def flood(self, chat_id: str, seconds: float) -> bool:
        """The platform told `chat_id` to wait `seconds`; True when that is bot-wide.

        A flood wait is taken as the chat's own limit (1 msg/s, 20/min in a group) and
        holds only that chat. When a second chat is told to wait while the first one
        still is, the bot-wide limit (30 msg/s) is hit: every chat is held.
        """
        now = self._monotonic()
        others = any(until > now for chat, until in self._flooded.items() if chat != chat_id)
        until = now + seconds
        self._flooded = {c: t for c, t in self._flooded.items() if t > now}
        self._flooded[chat_id] = until
        self._next[chat_id] = max(self._next.get(chat_id, now), until)
        if others:
            self.pause_all(seconds)
        return others


class ReplyLanes:
    """Replies sent in the background, in order within each chat.

    A reply that waits (a retry's backoff, a flood wait) holds only its own chat's later
    replies, never the adapter's update processing or other chats.
    """

    def __init__(self, logger: logging.Logger, platform: str) -> None:
        self._logger = logger
        self._platform = platform
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._all: set[asyncio.Task[None]] = set()

    def submit(self, chat: str, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after every reply submitted for `chat` before it."""
        previous = self._tails.get(chat)

        async def after_previous() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await work

        task = asyncio.create_task(after_previous())
        self._tails[chat] = task
        self._all.add(task)
        task.add_done_callback(functools.partial(self._done, chat))

    def _done(self, chat: str, task: asyncio.Task[None]) -> None:
        self._all.discard(task)
        if self._tails.get(chat) is task:
            del self._tails[chat]
        if not task.cancelled() and task.exception() is not None:
            self._logger.error(
                "sending a reply failed",
                exc_info=task.exception(),
                extra=log_fields(self._platform, chat),
            )

    async def idle(self) -> None:
        """Wait until every submitted reply has been sent or given up (tests, shutdown)."""
        while self._all:
            await asyncio.wait(set(self._all))

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        """Let queued replies go out (up to `timeout` s), then drop the rest."""
        if not self._all:
            return
        _done, pending = await asyncio.wait(set(self._all), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            self._logger.warning(
                "stopped with %d repl(ies) unsent", len(pending), extra=log_fields(self._platform)
            )


class DeliveryError(Exception):
    """Sending failed; `permanent` means retrying will not help (bot removed from chat).

    `maybe_delivered`: the request went out and no answer came back, so the platform may
    have accepted it (see `bot/adapters/policy.py` for what is done about it).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered
        #: parts of a multi-part message that arrived before this one failed (set by the
        #: adapter that sent them): a reply kept for later sends only the rest
        self.sent_parts = 0


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

    async def send(self, reply: Reply, skip: int = 0) -> None:
        """Deliver `reply` to `reply.to`, but its first `skip` parts (they arrived before it
        was kept for later); raise DeliveryError on failure."""


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
        out.extend((part, target) for part in split_picture(reply))
    return out


def split_picture(reply: Reply) -> list[Reply]:
    """An answer's words, then its requested picture as a message of its own.

    The words go out at once; the picture is drawn (`drawn`) only when its turn in the
    chat's lane comes, so a slow drawing never holds the answer itself.
    """
    if reply.chart is None or reply.image is not None:
        return [reply]
    words = reply.model_copy(update={"chart": None})
    picture = Reply(chart=reply.chart, to=reply.to, kind=reply.kind, private=reply.private)
    return [words, picture]


async def drawn(
    prepare: Prepare | None, reply: Reply, logger: logging.Logger, platform: str, chat: str
) -> Reply | None:
    """`reply` with its requested picture drawn now; without it if drawing fails.

    None when nothing is left to send (a picture-only message whose picture could not be
    drawn, or whose KPIs have no data any more).
    """
    if reply.chart is None:
        return reply
    try:
        if prepare is not None:
            reply = await prepare(reply)
    except Exception:
        logger.exception("could not draw a picture", extra=log_fields(platform, chat))
    reply = reply.model_copy(update={"chart": None})
    has_words = reply.title or reply.text or reply.fields or reply.table or reply.footer
    if has_words or reply.image or reply.document or reply.buttons:
        return reply
    return None


async def kept_for_later(
    later: SendLater | None,
    exc: DeliveryError,
    reply: Reply,
    target: ChatRef,
    logger: logging.Logger,
    ready: Reply | None = None,
) -> bool:
    """Whether a reply to a command that `exc` stopped was kept for later: a flood limit
    that said how long to wait (`retry_after`, beyond what is waited in place) hands it to
    the durable outbox, sent after the wait; it was dropped, and the person who asked saw
    nothing. False for any other failure, without `later`, and for a private reply (a new
    API token): the outbox would post it to the whole chat. Parts that had arrived are not
    sent again (the thread read them twice): then the reply kept is `ready`, as drawn, so
    its picture is not drawn anew and its parts stay the ones counted."""
    if later is None or exc.retry_after is None or exc.permanent or reply.private:
        return False
    sent = exc.sent_parts
    keep = ready if sent and ready is not None else reply
    kept = await later(keep.model_copy(update={"to": target}), exc.retry_after, str(exc), sent)
    if kept:
        logger.info(
            "reply kept in the outbox for after a flood wait of %.0f s",
            exc.retry_after,
            extra=log_fields(target.platform, target.chat_id),
        )
    return kept

"""The outbox and its worker: queued messages reach their chat in order, once.

`StoreOutbox` is the `Outbox` handlers and jobs see: `put` writes the serialised Reply
to storage/outbox synchronously (inside the caller's atomic step), and wake-up
requests are kept in memory until the application has committed.

`Delivery` is the only consumer. It never sends what is not yet durable (it awaits
`store.commit()` first), sends each chat's messages in order through the adapter of
the chat's platform, and records the outcome right away:

- success → delivered (and committed at once, so a restart does not send it again);
- `DeliveryError(permanent=False)` (5xx, timeouts, RetryAfter) → retried after a backoff,
  or after Telegram's `retry_after` if longer; a chat's later messages wait behind it;
- `DeliveryError(permanent=True)` (bot removed from the chat) or retries exhausted →
  failed, kept for `/alerts`, never retried.

A restart finds pending entries in the store and delivers them. How each send is tried
(timeouts, flood waits, the one resend of a message that may have arrived) is the
platform's policy in `bot/adapters/policy.py`; a "maybe delivered" failure comes back
permanent and is recorded, never retried here. The windows in which a message can arrive
twice (no chat API offers an idempotency key) are listed in the README, "What can go
wrong (delivery)".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.base import Adapter, DeliveryError, Prepare, drawn
from bot.logging import log_fields
from handlers.contract import Clock, Reply
from storage import Store
from storage.errors import StoreFailed
from storage.outbox import OutboxEntry

_LOGGER = logging.getLogger(__name__)

Sleep = Callable[[float], Coroutine[Any, Any, None]]
Backoff = Callable[[int], float]
"""Seconds to wait before attempt `n + 1`, given that attempt `n` (1-based) failed."""


#: While the store refuses writes (a full disk), or a look at the outbox failed, the outbox
#: is looked at again this often (s): each look tries to record what waits to be recorded,
#: and a message is tried only once its outcome can be saved.
STORE_RETRY_S = 5.0


def default_backoff(attempt: int) -> float:
    """5 s, 10 s, 20 s … doubling up to 10 minutes."""
    return float(min(5 * 2 ** (attempt - 1), 600))


#: The body's count of a message's parts that arrived at an earlier try, or before a reply
#: was kept for later (absent: none); not a field of the Reply, which knows nothing of how
#: a platform splits it.
SENT_PARTS = "sent_parts"


def encode_reply(reply: Reply, sent_parts: int = 0) -> dict[str, Any]:
    """A Reply as JSON-safe data for the outbox (picture bytes as base64), with how many of
    its parts had arrived when there were any."""
    if reply.image is None:
        body = reply.model_dump(mode="json")
    else:
        body = reply.model_copy(update={"image": None}).model_dump(mode="json")
        body["image"] = {
            "data_b64": base64.b64encode(reply.image.data).decode("ascii"),
            "filename": reply.image.filename,
            "alt": reply.image.alt,
        }
    if sent_parts:
        body[SENT_PARTS] = sent_parts
    return body


def decode_reply(body: dict[str, Any]) -> Reply:
    """The Reply `encode_reply` stored."""
    image = body.get("image")
    if isinstance(image, dict) and "data_b64" in image:
        body = {
            **body,
            "image": {
                "data": base64.b64decode(image["data_b64"]),
                "filename": image.get("filename", "image.png"),
                "alt": image.get("alt", ""),
            },
        }
    return Reply.model_validate(body)


def _summary(body: dict[str, Any]) -> str:
    """A stored reply's first line, for `/alerts`."""
    kind = str(body["kind"])
    first = str(body.get("title") or body.get("text") or kind).splitlines()
    return first[0] if first else kind


class StoreOutbox:
    """The Outbox of the running bot: durable puts, wake-ups handed over after commit."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._wakes: dict[str, datetime] = {}
        self._queued = False

    def put(self, reply: Reply, *, key: str) -> bool:
        """Persist `reply` for `reply.to` unless `key` was queued for that chat before."""
        return self.put_doc(encode_reply(reply), key=key)

    def put_doc(self, body: dict[str, Any], *, key: str) -> bool:
        """`put` of the reply `body` stands for (`encode_reply`'s form, stored uncopied)."""
        return self.queue_doc(body, key=key) is not None

    def queue_doc(self, body: dict[str, Any], *, key: str) -> str | None:
        """`put_doc`, answering the stored entry's id (None: `key` was queued before)."""
        to = body.get("to")
        if to is None:
            raise ValueError("an outbox message needs reply.to")
        platform = to["platform"]
        entry_id = self._store.outbox.put(
            chat=f"{platform}:{to['chat_id']}",
            platform=platform,
            kind=body["kind"],
            key=key,
            body=body,
            summary=_summary(body),
            now=self._clock(),
        )
        if entry_id is not None:
            self._queued = True
        return entry_id

    def wake_at(self, chat: str, when: datetime) -> None:
        """Remember the earliest flush wanted for `chat`, for after the commit."""
        current = self._wakes.get(chat)
        self._wakes[chat] = when if current is None else min(current, when)

    def take_wakes(self) -> dict[str, datetime]:
        """Hand over (and forget) the wake-ups requested since the last call."""
        wakes, self._wakes = self._wakes, {}
        return wakes

    def take_queued(self) -> bool:
        """Whether anything was queued since the last call."""
        queued, self._queued = self._queued, False
        return queued


class Delivery:
    """The outbox worker: one task, one lane per chat with something due."""

    def __init__(
        self,
        store: Store,
        adapters: Iterable[Adapter] = (),
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff = default_backoff,
        max_attempts: int = 10,
        concurrency: int = 8,
        prepare: Prepare | None = None,
    ) -> None:
        self._store = store
        self._repo = store.outbox
        self._adapters: dict[str, Adapter] = {a.platform: a for a in adapters}
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # nothing pending (retries included), nothing in flight
        self._settled = asyncio.Event()  # nothing due now, nothing in flight
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._warned: set[str] = set()
        self._prepare = prepare
        #: What the platform accepted of messages whose record the store refused, by (chat,
        #: entry id): all of it (None), or the body still to send, its arrived parts
        #: counted. Never sent again while we run; recorded at the next look.
        self._unsaved: dict[tuple[str, str], dict[str, Any] | None] = {}
        #: While the store refuses writes: no lane starts before this instant.
        self._store_back_at: datetime | None = None

    def add_adapter(self, adapter: Adapter) -> None:
        """Deliver `adapter.platform` messages through `adapter` from now on."""
        self._adapters[adapter.platform] = adapter
        self.wake()

    def chat_moved(self, old: str, new: str) -> None:
        """Chat `old`'s queue moved to `new` (Core.move_chat): deliver it from there.

        A lane still sending for `old` also holds `new` until it ends, so the message in
        flight is not sent a second time by a new lane.
        """
        lane = self._lanes.get(old)
        if lane is not None and new not in self._lanes:
            self._lanes[new] = lane
        self.wake()

    async def start(self) -> None:
        """Start the worker; anything left pending by a previous run goes out first."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-delivery")
            self.wake()

    def wake(self) -> None:
        """Something was queued (and committed): look at the outbox now."""
        self._idle.clear()
        self._settled.clear()
        self._wake.set()

    async def wait_idle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once nothing deliverable is pending and no send is in flight."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def drain(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once nothing is due now and no send is in flight (retries may wait)."""
        await asyncio.wait_for(self._settled.wait(), timeout)

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Let in-flight sends finish (up to `timeout`), then stop the worker."""
        if self._task is None:
            return
        self._stopping = True
        lanes = list(self._lanes.values())
        if lanes:
            await asyncio.wait(lanes, timeout=timeout)
        for lane in self._lanes.values():
            lane.cancel()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await asyncio.gather(*self._lanes.values(), return_exceptions=True)
        self._task = None
        with contextlib.suppress(Exception):
            await self._store.commit()

    # --- worker --------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._store.commit()  # never send what is not yet on disk
                next_at = self._start_lanes()
            except Exception:
                _LOGGER.exception("outbox scan failed; retrying")
                next_at = self._clock() + timedelta(seconds=STORE_RETRY_S)
            if not self._lanes:
                self._settled.set()
                if next_at is None:
                    self._idle.set()
            await self._wait(next_at)

    def _start_lanes(self) -> datetime | None:
        """Start a lane for each chat whose next message is due; return the next due time."""
        now = self._clock()
        if self._store_back_at is not None and now < self._store_back_at:
            return self._store_back_at  # the store refuses writes: an outcome would be lost
        next_at: datetime | None = None
        for chat in self._repo.pending_chats():
            if chat in self._lanes:
                continue
            head = self._repo.head(chat)
            if head is None:
                self._repo.forget(chat)
                continue
            adapter = self._adapters.get(head.platform)
            if adapter is None:
                self._warn_once(head.platform)
                continue
            if head.next_at <= now:
                self._lanes[chat] = asyncio.create_task(self._lane(chat, adapter))
            elif next_at is None or head.next_at < next_at:
                next_at = head.next_at
        return next_at

    async def _wait(self, next_at: datetime | None) -> None:
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(self._wake.wait())]
        if next_at is not None:
            delay = max(0.0, (next_at - self._clock()).total_seconds())
            waiters.append(asyncio.create_task(self._sleep(delay)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _lane(self, chat: str, adapter: Adapter) -> None:
        """Send `chat`'s due messages in order; stop at the first that must wait."""
        try:
            while not self._stopping:
                entry = self._repo.head(chat)
                if entry is None or entry.next_at > self._clock():
                    return
                go_on = await self._send(entry, adapter)
                self._store_takes_writes()  # the try's outcome was saved
                if not go_on:
                    return
        except StoreFailed as exc:
            self._store_refuses(exc)
        except Exception:
            _LOGGER.exception("delivery lane failed", extra=log_fields(chat=chat))
        finally:
            me = asyncio.current_task()
            for key in [key for key, lane in self._lanes.items() if lane is me]:
                del self._lanes[key]
            self._wake.set()

    def _store_refuses(self, exc: StoreFailed) -> None:
        """An outcome could not be saved: look again in `STORE_RETRY_S`, not at once (the
        message would be sent again, and again), and say so once."""
        if self._store_back_at is None:
            _LOGGER.warning(
                "outbox: the store refuses writes (%s); delivery waits and tries again "
                "every %.0f s",
                exc.cause,
                STORE_RETRY_S,
            )
        self._store_back_at = self._clock() + timedelta(seconds=STORE_RETRY_S)

    def _store_takes_writes(self) -> None:
        if self._store_back_at is not None:
            self._store_back_at = None
            _LOGGER.warning("outbox: the store takes writes again; delivery goes on")

    async def _send(self, entry: OutboxEntry, adapter: Adapter) -> bool:
        """Try one message; True when the lane may go on with the next one."""
        chat = entry.chat
        unsaved = (chat, entry.id) in self._unsaved  # what memory knows, the disk does not
        body = self._unsaved[(chat, entry.id)] if unsaved else entry.body or {}
        if body is None:  # it arrived; only its record was lost: record it
            return await self._delivered(entry)
        kept = body if unsaved else None  # saved with this try's outcome
        try:
            reply = decode_reply(body)
        except Exception as exc:  # a body we cannot read will never get better
            self._repo.mark_failed(chat, entry.id, error=f"unreadable: {exc}", now=self._clock())
            await self._store.commit()
            return True
        # The requested chart is drawn now; without it the message still goes.
        ready = await drawn(self._prepare, reply, _LOGGER, entry.platform, chat)
        skip = int(body.get(SENT_PARTS, 0))  # arrived at an earlier try
        try:
            async with self._slots:
                if ready is not None:
                    await adapter.send(ready, skip)
        except DeliveryError as exc:
            # parts that arrived are not sent again: the body says so, with the picture as
            # drawn now (drawn anew, or not at all, it could move the parts counted)
            done = kept
            if ready is not None and exc.sent_parts > skip:
                done = encode_reply(ready, exc.sent_parts)
            return await self._failed(entry, str(exc), exc.permanent, exc.retry_after, done)
        except Exception as exc:
            _LOGGER.exception(
                "adapter raised outside DeliveryError", extra=log_fields(entry.platform, chat)
            )
            return await self._failed(entry, f"{type(exc).__name__}: {exc}", False, None, kept)
        return await self._delivered(entry)

    async def _delivered(self, entry: OutboxEntry) -> bool:
        """Record that the platform accepted `entry`."""
        self._repo.mark_delivered(entry.chat, entry.id, self._clock())
        await self._saved(entry, None, arrived=True)
        return True

    async def _saved(
        self, entry: OutboxEntry, unsent: dict[str, Any] | None, *, arrived: bool = False
    ) -> None:
        """Commit the record of a try. If the store refuses it, what the try learned stays
        in memory so that nothing which arrived is sent again: all of it (`arrived`), or
        the parts counted in `unsent`, the body still to send."""
        key = (entry.chat, entry.id)
        try:
            await self._store.commit()
        except StoreFailed:
            if arrived or unsent is not None:
                self._unsaved[key] = None if arrived else unsent
            raise
        self._unsaved.pop(key, None)

    async def _failed(
        self,
        entry: OutboxEntry,
        error: str,
        permanent: bool,
        retry_after: float | None,
        body: dict[str, Any] | None = None,
    ) -> bool:
        """Mark a failed try: failed for good, or retried after the backoff (with `body`,
        the message still to send, when some of its parts arrived)."""
        attempt = entry.attempts + 1
        now = self._clock()
        fields = log_fields(entry.platform, entry.chat)
        if permanent or attempt >= self._max_attempts:
            why = error if permanent else f"gave up after {attempt} attempts: {error}"
            self._repo.mark_failed(entry.chat, entry.id, error=why, now=now)
            _LOGGER.warning("%s not delivered: %s", entry.kind, why, extra=fields)
            await self._saved(entry, body)
            return True  # later messages of the chat still get their own try
        wait = max(self._backoff(attempt), retry_after or 0.0)
        self._repo.mark_retry(
            entry.chat, entry.id, error=error, next_at=now + timedelta(seconds=wait), body=body
        )
        _LOGGER.info(
            "%s delivery failed (attempt %d), retrying in %.0f s: %s",
            entry.kind,
            attempt,
            wait,
            error,
            extra=fields,
        )
        await self._saved(entry, body)
        return False

    def _warn_once(self, platform: str) -> None:
        if platform not in self._warned:
            self._warned.add(platform)
            _LOGGER.warning(
                "messages for %s wait in the outbox: that platform is not running", platform
            )

"""Composition root: store, router and context, shared by every adapter.

`Core.start(adapters)` adds the outbox worker and the scheduler once the adapters run
(start order store → adapters → delivery → scheduler, stopped in reverse), so no job
fires before anything can deliver.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.base import Adapter
from bot.delivery import Backoff, Delivery, Sleep, StoreOutbox, default_backoff, encode_reply
from bot.logging import log_fields
from bot.scheduler import Scheduler
from bot.sources import http_fetch
from handlers import alert_pipeline, build_router
from handlers.chart_specs import draw_requested
from handlers.contract import ChatRef, Command, Context, Outbox, Reply
from handlers.pictures.painter import Painter
from handlers.router import Router
from storage import ChatMoveConflict, Store, gc_policy, open_store
from storage.errors import StoreError

_LOGGER = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The production clock (tests inject their own)."""
    return datetime.now(UTC)


@dataclass
class Core:
    """What every platform shares: one store, one router, one handler context."""

    store: Store
    router: Router
    ctx: Context
    delivery: Delivery | None = field(default=None, repr=False)
    scheduler: Scheduler | None = field(default=None, repr=False)
    warming: asyncio.Task[int] | None = field(default=None, repr=False)

    async def dispatch(self, cmd: Command) -> list[Reply]:
        """Run one command through the router, then start what it queued."""
        replies = await self.router.dispatch(cmd, self.ctx)
        self.after_commit(cmd.chat.key)
        return replies

    async def send_later(self, reply: Reply, wait: float, why: str, sent: int = 0) -> bool:
        """Keep a reply the platform told to wait longer than is waited in place (a flood
        limit's `retry_after`) in the durable outbox, sent after `wait` s like an alert is:
        it was dropped, so the person who asked saw nothing. Its first `sent` parts had
        arrived: they are not sent again. False when it can't be kept."""
        to = reply.to
        outbox = self.ctx.outbox
        if to is None or not isinstance(outbox, StoreOutbox):
            return False
        key = f"later:{secrets.token_hex(8)}"
        at = self.ctx.clock() + timedelta(seconds=wait)
        try:
            with self.store.atomic():
                entry_id = outbox.queue_doc(encode_reply(reply, sent), key=key)
                assert entry_id is not None  # a key drawn at random is new
                self.store.outbox.mark_retry(to.key, entry_id, error=why, next_at=at)
            await self.store.commit()
        except StoreError:
            _LOGGER.exception("could not keep a reply for later", extra=log_fields(to.platform))
            return False
        self.after_commit()
        return True

    async def prepare(self, reply: Reply) -> Reply:
        """`reply` with its requested picture drawn from the values of this moment."""
        return await draw_requested(self.ctx, reply)

    def after_commit(self, chat: str | None = None) -> None:
        """Hand over what the last committed step queued: flush timers, delivery, schedules.

        Called after the router's commit (or a job's), never before: nothing is sent or
        scheduled for a change that might still be rolled back or lost.
        """
        outbox = self.ctx.outbox
        if not isinstance(outbox, StoreOutbox):
            return
        if self.scheduler is not None:
            try:
                for waiting, when in outbox.take_wakes().items():
                    self.scheduler.arm_flush(waiting, when)
                if chat is not None:
                    self.scheduler.sync_chat(chat)  # /timezone, /digest every …, first OKR
                    self.scheduler.touch(chat)  # the next sweep looks at this chat again
                if self.store.sources.take_requested():
                    self.scheduler.pull_soon()  # /source run: download now, off the command
            except Exception:  # the command is done and saved; only its timers are late
                _LOGGER.exception("could not update the schedule after a command")
        if outbox.take_queued() and self.delivery is not None:
            self.delivery.wake()

    async def move_chat(self, old: ChatRef, new: ChatRef) -> bool:
        """A chat got a new id (Telegram group → supergroup): its whole scorecard follows.

        One atomic step, committed before anything else hears of it; then the schedules
        of both chats are re-synced and delivery picks up messages queued for the old id.
        Idempotent: False when there was nothing to move (already moved, or no data), or
        when the new chat already has data of its own (refused and logged, not mixed).
        """
        try:
            moved = self.store.move_chat(old.key, new.key)
        except ChatMoveConflict as exc:
            _LOGGER.error("%s", exc)
            return False
        if not moved:
            return False
        await self.store.commit()
        _LOGGER.warning("moved the scorecard of %s to %s", old.key, new.key)
        if self.delivery is not None:
            self.delivery.chat_moved(old.key, new.key)
        if self.scheduler is not None:
            try:
                self.scheduler.chat_moved(old.key, new.key)
            except Exception:
                _LOGGER.exception("could not update the schedule after moving a chat")
        await self.store.commit()  # what syncing the schedule recorded
        return True

    async def start(
        self,
        adapters: Sequence[Adapter],
        *,
        schedule: bool = True,
        sleep: Sleep | None = None,
        backoff: Backoff = default_backoff,
    ) -> None:
        """Start delivery through `adapters` (already started), then the scheduler."""
        self.delivery = Delivery(
            self.store,
            adapters,
            clock=self.ctx.clock,
            sleep=sleep or asyncio.sleep,
            backoff=backoff,
            prepare=self.prepare,
        )
        await self.delivery.start()
        self.ctx.painter.warm()  # the first picture is then as fast as the next
        # Tables load on demand; warming them in small steps after the adapters are up
        # keeps the first full sweep off the disk without delaying the first reply.
        self.warming = asyncio.create_task(self.store.warm(), name="store-warm")
        if schedule:
            self.scheduler = Scheduler(self.ctx, after_run=self.after_commit)
            try:
                await self.scheduler.start()
            except BaseException:
                # A store that fails here (a damaged table read by the catch-up) ends the
                # start with one line; what already runs stops first, or it would go on
                # reading and writing the closing store and print tracebacks beside it.
                await self._stop_jobs()
                await self.delivery.stop()
                self.delivery = None
                raise

    async def _stop_jobs(self) -> StoreError | None:
        """Cancel the warm-up and stop the scheduler. A warm-up that failed (it read a
        damaged table) is returned, not raised: stopping goes on first."""
        failed = None
        if self.warming is not None:
            self.warming.cancel()
            try:
                await self.warming
            except asyncio.CancelledError:
                pass
            except StoreError as exc:
                failed = exc
            self.warming = None
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.scheduler = None
        return failed

    async def stop(self) -> None:
        """Stop the scheduler, send alerts still waiting for their group, stop delivery;
        then say a damaged table the warm-up or that flush found (the bot's exit line): a
        flush that reads one must not leave delivery running."""
        failed = await self._stop_jobs()
        released = 0
        try:
            with self.store.atomic():
                for chat in self.store.alerts.chats_with_queued_alerts():
                    released += alert_pipeline.flush_due(
                        self.ctx, chat, self.ctx.clock(), release="groups"
                    )
            await self.store.commit()
        except StoreError as exc:
            failed = failed or exc  # the warm-up's, found first, is the one said
        if self.delivery is not None:
            if released:
                self.delivery.wake()
            try:
                await self.delivery.drain(timeout=5.0)
            except TimeoutError:
                _LOGGER.warning("stopping while messages are still being sent")
            outbox = self.store.outbox
            if any(outbox.head(chat) is not None for chat in outbox.pending_chats()):
                _LOGGER.info("messages still waiting in the outbox go out at the next start")
            await self.delivery.stop()
            self.delivery = None
        if failed is not None:
            raise failed

    def close(self) -> None:
        """Flush and release the store; stop the picture worker."""
        self.ctx.painter.close()
        self.store.close()


def build_core(
    data: Path | None,
    *,
    clock: Callable[[], datetime] = utc_now,
    outbox: Outbox | None = None,
    default_timezone: str = "UTC",
    admins: frozenset[str] = frozenset(),
    painter: Painter | None = None,
) -> Core:
    """Open the store at `data` (None: in memory) and wire the router and context.

    `painter` draws pictures; the bot passes a worker *process* (`Painter("process")`), so
    drawing never slows other commands; the default is a worker thread (tests, tools).
    """
    store = open_store(data, default_timezone=default_timezone)
    # The loaded store is long-lived: freezing it keeps the garbage collector from
    # re-scanning 100 000 documents on every full collection (p99 of /kpi 10 ms → 3 ms).
    gc.collect()
    gc_policy.keep_long_lived()
    router = build_router()
    ctx = Context(
        store=store,
        clock=clock,
        outbox=outbox or StoreOutbox(store, clock),
        specs=router.specs(),
        admins=admins,
        fetch=http_fetch,
        painter=painter or Painter("thread"),
    )
    return Core(store=store, router=router, ctx=ctx)

"""State in TinyDB documents behind repository classes; `open_store` is the only way in.

The documents live in a backend behind `storage.port.StoragePort` (SQLite on disk).
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.alert_state import AlertRepo
from storage.audit import AuditEntry, AuditRepo
from storage.changes import Changes, Collected, UndoConflict
from storage.chats import ChatRepo, ChatSettings
from storage.engine import Database, Seen
from storage.funnels import FunnelRepo
from storage.ingest import IngestRepo, SourceRepo
from storage.initiatives import InitiativeRepo
from storage.kpis import KpiRepo
from storage.migrations import open_database
from storage.moves import ChatMoveConflict, move_chat
from storage.okrs import OkrRepo
from storage.outbox import OutboxRepo
from storage.pending import PendingRepo
from storage.scorecards import ScorecardRepo
from storage.seen import SeenRepo
from storage.sweep_summary import SweepSummaryRepo

__all__ = [
    "AuditEntry",
    "ChatMoveConflict",
    "ChatSettings",
    "Store",
    "UndoConflict",
    "open_store",
]


class Store:
    """The repositories of one data directory, sharing one durable database."""

    def __init__(self, db: Database, default_timezone: str = "UTC") -> None:
        self.db = db
        self.changes = Changes()
        self.scorecards = ScorecardRepo(db, self.changes)
        self.kpis = KpiRepo(db, self.changes)
        self.okrs = OkrRepo(db, self.changes)
        self.initiatives = InitiativeRepo(db, self.changes)
        self.funnels = FunnelRepo(db, self.changes)
        self.chats = ChatRepo(db, default_timezone, self.changes)
        self.alerts = AlertRepo(db, self.kpis, self.initiatives, self.okrs, self.changes)
        self.audit = AuditRepo(db)
        self.outbox = OutboxRepo(db)
        self.seen = SeenRepo(db)
        self.pending = PendingRepo(db)
        self.ingest = IngestRepo(db, self.changes)
        self.sources = SourceRepo(db, self.changes)
        self.sweeps = SweepSummaryRepo(
            db, self.kpis, self.initiatives, current=db.backend.summaries_current()
        )

    def commit(self, seen: Seen | None = None) -> Coroutine[Any, Any, None]:
        """Make every change so far durable (fsync) before anyone is told "saved"; with
        `seen` (from `observing()`), only what that command made or read unsaved.
        (`Database.commit`'s coroutine itself: one level of coroutines fewer to resume.)"""
        return self.db.commit(seen)

    def observing(self) -> AbstractContextManager[Seen]:
        """Track what the command run in the block depends on (see `Database.observing`)."""
        return self.db.observing()

    async def warm(self) -> int:
        """Load stored tables into the cache in small steps (background, after start-up)."""
        return await self.db.warm()

    def sweep_preload(self) -> Iterator[str]:
        """Load the table kinds a sweep reads for every chat with range queries, one
        table per step (`Database.preload`): the first sweep after a start, when the
        start-up warm has not got there yet. KPI indexes and initiative logs are read
        through the chats' sweep summaries (a chat without one reads its own at once)."""
        return self.db.preload(
            (
                *ChatRepo.SWEPT,
                *ScorecardRepo.SWEPT,
                *AlertRepo.SWEPT,
                *OutboxRepo.SWEPT,
                *SweepSummaryRepo.SWEPT,
            )
        )

    def atomic(self) -> AbstractContextManager[None]:
        """Apply a multi-write change fully or, if it raises, not at all."""
        return self.db.atomic()

    def audited(
        self, chat: str, *, actor_id: str, actor: str, command: str, at: datetime
    ) -> AbstractContextManager[None]:
        """Write one audit entry with what the block changed in `chat` (nothing: no entry).

        Used inside an `atomic()` step (the router wraps every mutating command), so the
        entry is stored with the change or not at all. Inside another audited step the
        changes simply join that step's entry.
        """
        return _Audited(self, chat, actor_id, actor, command, at)

    def revert(self, chat: str, entry: AuditEntry) -> None:
        """Undo `entry` inside an audited step; raises UndoConflict, changing nothing.

        The undo is itself audited, naming the entry it reverted, which is marked undone.
        """
        self.changes.revert(chat, entry.changes)
        self.audit.mark_undone(chat, entry.id)
        self.changes.tag("undo_of", entry.id)

    def move_chat(self, old: str, new: str) -> bool:
        """Move every table of chat `old` to chat `new` in one atomic step (not yet committed).

        Returns False, changing nothing, when `old` has no data (already moved, or never
        used); raises `ChatMoveConflict`, changing nothing, when `new` already has data.
        References to `old` in alert settings and queued messages follow it. The caller
        commits (`await store.commit()`).
        """
        with self.atomic():
            moved = move_chat(self.db, old, new)
            if moved:  # the API token and the pull job's index name the chat too
                self.ingest.chat_moved(old, new)
                self.sources.chat_moved(old, new)
        if moved:
            self.outbox.chat_moved(old, new)
        return moved

    def close(self) -> None:
        """Flush and release the data directory."""
        self.db.close()


class _Audited:
    """`Store.audited()`'s block: a class, since a generator-based context manager costs
    several more calls, and every write runs in one (it calls `Changes.start`/`stop`)."""

    __slots__ = ("_actor", "_actor_id", "_at", "_chat", "_command", "_next", "_step", "_store")

    def __init__(
        self, store: Store, chat: str, actor_id: str, actor: str, command: str, at: datetime
    ) -> None:
        self._store = store
        self._chat = chat
        self._actor_id = actor_id
        self._actor = actor
        self._command = command
        self._at = at

    def __enter__(self) -> None:
        store = self._store
        if store.changes.entry_id() is not None:
            self._step = None  # inside another audited step: its entry takes the changes
            return
        # the id names the month of the chat's own calendar, as /history shows the change
        # (a UTC instant in a UTC chat is its own: the zone looked up and the conversion,
        # ~5 k instructions a command, spared)
        at, zone = self._at, store.chats.settings(self._chat).timezone
        local = at if zone == "UTC" and at.tzinfo is UTC else at.astimezone(ZoneInfo(zone))
        self._next = store.audit.next_entry(self._chat, local)
        self._step = store.changes.start(self._chat, self._next.id)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        step = self._step
        if step is None:
            return
        try:
            if kind is None:
                self._record(step)
        finally:
            self._store.changes.stop()

    def _record(self, step: Collected) -> None:
        changes = step.change_docs()
        if not changes and step.complete:
            return
        # Where the entry goes was worked out at the start; it holds unless the step (inside
        # its atomic block, as the router runs it) wrote one of the tables that said so.
        found = self._next
        block = found.block if found.block and self._store.db.untouched(found.watched) else None
        self._store.audit.record(
            self._chat,
            entry_id=step.entry_id,
            at=self._at,
            actor_id=self._actor_id,
            actor=self._actor,
            command=self._command,
            changes=changes if step.complete else [],
            skipped=0 if step.complete else len(changes) + step.overflow,
            undo_of=step.tags.get("undo_of"),
            block=block,
        )


def open_store(path: Path | None, *, default_timezone: str = "UTC") -> Store:
    """Open (or create) the store in `path`; None keeps everything in memory (tests).

    `default_timezone` is the timezone of chats that never ran /timezone.
    """
    return Store(open_database(path), default_timezone)

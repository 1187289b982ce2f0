"""Outgoing messages that must be neither lost nor sent twice: pending → delivered | failed.

One small table per destination chat (`ob:<chat>`); its documents, in insertion order,
are that chat's messages in delivery order. The body is opaque JSON (the caller's
serialised Reply): this module never looks inside it and never imports handlers. A
body is dropped once delivered; what stays (key, kind, summary, times) serves the
idempotency check and `/alerts`, and old entries are pruned.

Writes are synchronous TinyDB updates, so `put` can run inside a command's atomic
step and becomes durable with the command's commit.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from tinydb import Query
from tinydb.table import Table

from storage.base import Tables, instant_text
from storage.holding import Holding

__all__ = ["OutboxEntry", "OutboxRepo", "OutboxStatus"]

OutboxStatus = Literal["pending", "delivered", "failed"]

_PREFIX = "ob:"
_ID = Query().id
#: Finished entries kept per chat (for idempotency and /alerts); older ones are pruned.
KEEP_DELIVERED = 50
KEEP_FAILED = 20
_PRUNE_SLACK = 10  # prune in steps, not on every write: each write re-serialises the table


class OutboxEntry(BaseModel):
    """One outgoing message and where it is in its life."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    key: str  # idempotency key: one message per key and destination chat
    chat: str  # destination chat key ("telegram:-100…")
    platform: str
    kind: str
    summary: str = ""  # first line, for /alerts
    body: dict[str, Any] | None = None  # None once delivered
    status: OutboxStatus = "pending"
    created: AwareDatetime
    next_at: AwareDatetime  # no attempt before this instant (backoff, RetryAfter)
    attempts: int = Field(default=0, ge=0)
    last_error: str = ""
    done_at: AwareDatetime | None = None


class OutboxRepo:
    """The outbox: a per-chat queue with idempotency keys and delivery bookkeeping."""

    #: Table kinds the sweep reads for every chat (`Store.sweep_preload`).
    SWEPT: ClassVar[tuple[str, ...]] = (_PREFIX,)

    def __init__(self, db: Tables) -> None:
        self._db = db
        # Chats that may have pending entries. A hint, not the truth: a rolled-back put
        # leaves its chat here, and the worker drops chats whose queue turns out empty.
        self._hints: set[str] | None = None
        self._holding = Holding(self._write, lambda: db.rollbacks)  # puts inside `batch()`
        # Chats whose tables moved (old key -> new key), for a delivery that was already
        # sending an entry of the old chat when the move happened.
        self._moved: dict[str, str] = {}

    @staticmethod
    def _name(chat: str) -> str:
        return f"{_PREFIX}{chat}"

    def _table(self, chat: str) -> Table:
        return self._db.table(self._name(chat))

    # writing ----------------------------------------------------------------------------

    def put(
        self,
        *,
        chat: str,
        platform: str,
        kind: str,
        key: str,
        body: dict[str, Any],
        summary: str,
        now: datetime,
    ) -> str | None:
        """Queue a message for `chat`; returns its id, None (nothing stored) if `key` is
        already there. `body` is stored as given, uncopied: never change it afterwards.

        Inside `batch()` the entry is written when the block ends.
        """
        holding = self._holding.held
        held = holding.get(chat) if holding is not None else None
        if self._has_key_raw(chat, key) or (held and any(d["key"] == key for d in held)):
            return None
        stamp = instant_text(now)
        # `now` as "%Y%m%dT%H%M%S" read off its stamp (strftime was most of a put), and
        # os.urandom, what `secrets` draws from, called directly (a busy sweep puts ~1,000)
        entry_id = f"{stamp[:19].replace('-', '').replace(':', '')}-{os.urandom(4).hex()}"
        # The document `to_doc(OutboxEntry(...))` would store, built directly: a busy sweep
        # queues ~1,000 of them, and a model round trip each was most of their cost.
        doc = {
            "id": entry_id,
            "key": key,
            "chat": chat,
            "platform": platform,
            "kind": kind,
            "summary": summary[:200],
            "body": body,
            "status": "pending",
            "created": stamp,
            "next_at": stamp,
            "attempts": 0,
            "last_error": "",
            "done_at": None,
        }
        if holding is not None:
            holding.setdefault(chat, []).append(doc)
            return entry_id
        self._write(chat, [doc])
        return entry_id

    def batch(self) -> AbstractContextManager[None]:
        """Write the block's puts with one TinyDB write per chat when it ends, in order.

        Every write re-serialises the chat's queue, so a job queueing several messages
        for a chat saves work. Run it inside `store.atomic()`: the entries become
        durable with the step's commit like single puts. Until the block ends, only
        `put` sees the held entries (for its idempotency check); if it raises, they are
        dropped. A nested block joins the outer one; a nested block or `atomic()` that
        fails and is caught makes it raise `HeldChangesSpoiled` (`storage.holding`).
        """
        return self._holding.block()

    def _write(self, chat: str, docs: list[dict[str, Any]]) -> None:
        """Append `docs` to the chat's queue (a put's, or a `batch()`'s when it ends)."""
        self._db.edit(self._name(chat), added=docs, handed_over=True)
        if self._hints is not None:  # not scanned yet: the scan will find these entries
            self._hints.add(chat)

    def _has_key_raw(self, chat: str, key: str) -> bool:
        """`has_key` on the stored documents, without copies (read-only)."""
        return any(doc.get("key") == key for doc in self._db.docs(self._name(chat)).values())

    def mark_delivered(self, chat: str, entry_id: str, now: datetime) -> None:
        """The platform accepted the message: keep only its metadata."""
        self._update(
            chat,
            entry_id,
            {"status": "delivered", "body": None, "done_at": now.isoformat(), "last_error": ""},
            attempts_plus=1,
        )
        self._prune(chat)

    def mark_retry(
        self,
        chat: str,
        entry_id: str,
        *,
        error: str,
        next_at: datetime,
        body: dict[str, Any] | None = None,
    ) -> None:
        """A transient failure: try again at `next_at` (sending `body` instead, when given:
        what is left of a message whose first parts arrived)."""
        fields: dict[str, Any] = {"next_at": next_at.isoformat(), "last_error": error}
        if body is not None:
            fields["body"] = body
        self._update(chat, entry_id, fields, attempts_plus=1)

    def mark_failed(self, chat: str, entry_id: str, *, error: str, now: datetime) -> None:
        """A permanent failure (or retries exhausted): never tried again, shown in /alerts."""
        self._update(
            chat,
            entry_id,
            {"status": "failed", "done_at": now.isoformat(), "last_error": error},
            attempts_plus=1,
        )
        self._prune(chat)

    def _update(
        self, chat: str, entry_id: str, fields: dict[str, Any], *, attempts_plus: int
    ) -> None:
        def transform(doc: MutableMapping[str, Any]) -> None:
            doc.update(fields)
            doc["attempts"] = int(doc.get("attempts", 0)) + attempts_plus

        if self._table(chat).update(transform, entry_id == _ID):
            return
        moved = self._moved.get(chat)
        if moved is None or not self._table(moved).update(transform, entry_id == _ID):
            raise KeyError(f"no outbox entry {entry_id} for {chat}")

    def chat_moved(self, old: str, new: str) -> None:
        """Chat `old`'s queue now lives under `new` (Store.move_chat): follow it."""
        self._moved[old] = new
        for key, target in list(self._moved.items()):
            if target == old:
                self._moved[key] = new
        known = self._known()
        known.discard(old)
        known.add(new)

    def _prune(self, chat: str) -> None:
        docs = self._db.docs(self._name(chat))
        drop: list[int] = []
        for status, keep in (("delivered", KEEP_DELIVERED), ("failed", KEEP_FAILED)):
            done = [int(i) for i, doc in docs.items() if doc.get("status") == status]
            if len(done) > keep + _PRUNE_SLACK:
                drop.extend(done[: len(done) - keep])
        if drop:
            self._table(chat).remove(doc_ids=drop)

    # reading ----------------------------------------------------------------------------

    def _known(self) -> set[str]:
        if self._hints is None:
            self._hints = {
                name[len(_PREFIX) :]
                for name in self._db.table_names(_PREFIX)
                if any(doc.get("status") == "pending" for doc in self._db.docs(name).values())
            }
        return self._hints

    def pending_chats(self) -> list[str]:
        """Chats that may have pending messages (scans the store once, then remembers)."""
        return sorted(self._known())

    def forget(self, chat: str) -> None:
        """Drop `chat` from the pending hints once its queue is empty."""
        if self.head(chat) is None:
            self._known().discard(chat)

    def entries(self, chat: str) -> list[OutboxEntry]:
        """Every kept entry of a chat, oldest first (bodies are the caller's own copies)."""
        return [OutboxEntry.model_validate(doc) for doc in self._table(chat).all()]

    def pending(self, chat: str) -> list[OutboxEntry]:
        """Messages still to deliver to `chat`, in order."""
        return [e for e in self.entries(chat) if e.status == "pending"]

    def head(self, chat: str) -> OutboxEntry | None:
        """The next message for `chat` (later ones wait for it, so order is kept)."""
        if not any(d.get("status") == "pending" for d in self._db.docs(self._name(chat)).values()):
            return None
        return next(iter(self.pending(chat)), None)

    def failures(self, chat: str) -> list[OutboxEntry]:
        """Messages that could not be delivered, newest first."""
        return [e for e in reversed(self.entries(chat)) if e.status == "failed"]

    def has_key(self, chat: str, key: str) -> bool:
        """Whether a message with this idempotency key is (or was recently) queued."""
        return self._has_key_raw(chat, key)

"""The ingest API's state: one hashed bearer token per scorecard, idempotency keys, sources.

Only a SHA-256 of each token is stored (tokens are 256 random bits, so a fast hash is
enough); the token itself is shown once in chat and never kept. A scorecard's public id
is random and stable across token rotations, so URLs in other tools keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from datetime import datetime, timedelta
from typing import Any

from tinydb import Query

from storage.base import Tables
from storage.changes import Changes, Doc

IDEMPOTENCY_KEEP = timedelta(days=1)
IDEMPOTENCY_BUCKETS = 64
IDEMPOTENCY_PER_BUCKET = 32  # ~2 000 keys per chat within a day (the oldest go first)
_ID = Query().id
_CHAT = Query().chat
_KEY = Query().key


def token_hash(token: str) -> str:
    """What is stored for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


#: Why an audited token change is not undone (the old token's hash is gone on purpose).
TOKEN_UNDO = (
    "an API token can't be brought back; /scorecard token issues a new one, "
    "/scorecard token revoke turns the API off"
)


class IngestRepo:
    """Tokens (global table, looked up by scorecard id) and per-chat idempotency keys.

    Audited kind: `token` (key "": the scorecard id, when, and the hash that tells one
    token from the next; shown only as issued, rotated or revoked), never undone.
    """

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        self._changes.register("token", self._audited, _never, lambda *_: TOKEN_UNDO)

    def _tokens(self) -> Any:
        return self._db.table("api:tokens")

    def _audited(self, chat: str, _key: str = "") -> Doc | None:
        """What the audit keeps of a chat's token (never the token: it is not stored)."""
        doc = self._tokens().get(chat == _CHAT)
        return None if doc is None else {k: doc[k] for k in ("id", "at", "hash")}

    def scorecard_id(self, chat: str) -> str | None:
        """The chat's public scorecard id, if it ever had a token."""
        doc = self._tokens().get(chat == _CHAT)
        return None if doc is None else str(doc["id"])

    def issue(self, chat: str, now: datetime) -> tuple[str, str]:
        """A new token for the chat (the old one stops working); returns (id, token)."""
        token = secrets.token_urlsafe(32)
        table = self._tokens()
        before = self._audited(chat)
        doc = table.get(chat == _CHAT)
        if doc is None:
            scorecard = secrets.token_hex(6)
            table.insert(
                {"id": scorecard, "chat": chat, "hash": token_hash(token), "at": now.isoformat()}
            )
        else:
            scorecard = str(doc["id"])
            table.update({"hash": token_hash(token), "at": now.isoformat()}, doc_ids=[doc.doc_id])
        self._changes.note(chat, "token", "", before, self._audited(chat))
        return scorecard, token

    def chat_moved(self, old: str, new: str) -> None:
        """A chat got a new id (Telegram supergroup): its token and id follow it."""
        table = self._tokens()
        doc = table.get(old == _CHAT)
        if doc is not None:
            table.update({"chat": new}, doc_ids=[doc.doc_id])

    def revoke(self, chat: str) -> bool:
        """Delete the chat's token; True when there was one."""
        before = self._audited(chat)
        if before is not None:
            self._changes.note(chat, "token", "", before, None)
        return bool(self._tokens().remove(chat == _CHAT))

    def authenticate(self, scorecard: str, token: str) -> str | None:
        """The chat whose scorecard `scorecard` is, when `token` is its current token."""
        doc = self._tokens().get(scorecard == _ID)
        if doc is None or not hmac.compare_digest(str(doc["hash"]), token_hash(token)):
            return None
        return str(doc["chat"])

    # idempotency ------------------------------------------------------------------------
    # Answers are kept in 64 small tables per chat (by a hash of the key), so remembering
    # one rewrites a few answers, never every answer of the last day.

    def _idem(self, chat: str, key: str) -> Any:
        return self._db.table(f"idem:{chat}:{zlib.crc32(key.encode()) % IDEMPOTENCY_BUCKETS}")

    def replay(self, chat: str, key: str, now: datetime) -> dict[str, Any] | None:
        """The stored answer to a batch sent before with this Idempotency-Key."""
        doc = self._idem(chat, key).get(key == _KEY)
        if doc is None or now - datetime.fromisoformat(str(doc["at"])) > IDEMPOTENCY_KEEP:
            return None
        return dict(doc["answer"])

    def remember(self, chat: str, key: str, answer: dict[str, Any], now: datetime) -> None:
        """Keep `answer` for `key` (in the same step as the batch it answers)."""
        table = self._idem(chat, key)
        docs = table.all()
        stale = [
            d.doc_id
            for d in docs
            if d["key"] == key or now - datetime.fromisoformat(str(d["at"])) > IDEMPOTENCY_KEEP
        ]
        live = [d for d in docs if d.doc_id not in set(stale)]
        stale += [d.doc_id for d in live[: max(0, len(live) - IDEMPOTENCY_PER_BUCKET + 1)]]
        if stale:
            table.remove(doc_ids=stale)
        table.insert({"key": key, "at": now.isoformat(), "answer": answer})


#: Why an audited source change is not undone (a pull's state moves on without anyone).
SOURCE_UNDO = (
    "a scheduled pull is not undone; /source remove {key} stops it, /source add starts it again"
)


class SourceRepo:
    """Scheduled pulls (/source) of each chat, and what each one took last time.

    Audited kind: `source` (added or removed: its key, schedule and who added it; never
    the URL, which may carry a sheet's secret key), never undone.
    """

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._requested = False  # a source was asked to run now (/source run)
        self._changes = changes or Changes()
        self._changes.register(
            "source", self._audited, _never, lambda _c, key, _d: SOURCE_UNDO.format(key=key)
        )

    def _audited(self, chat: str, key: str) -> Doc | None:
        doc = self.get(chat, key)
        return None if doc is None else {k: doc.get(k) for k in ("key", "every", "added_by")}

    def request_run(self, chat: str, key: str, now: datetime, by: str) -> None:
        """Make a source due now; `by` gets the result in the chat when it ran."""
        source = self.get(chat, key)
        if source is None:
            raise KeyError(key)
        self.put(chat, {**source, "next_at": now.isoformat(), "requested_by": by}, audited=False)
        self._requested = True

    def take_requested(self) -> bool:
        """Whether a run was requested since the last call (the app then pulls at once)."""
        requested, self._requested = self._requested, False
        return requested

    def all(self, chat: str) -> list[dict[str, Any]]:
        """Every source of the chat, in the order they were added."""
        return [dict(doc) for doc in self._db.table(f"src:{chat}").all()]

    def get(self, chat: str, key: str) -> dict[str, Any] | None:
        """One source by key."""
        doc = self._db.table(f"src:{chat}").get(key == _KEY)
        return None if doc is None else dict(doc)

    def put(self, chat: str, source: dict[str, Any], *, audited: bool = True) -> None:
        """Create or replace a source (and list the chat for the pull job); `audited`: a
        person's change, not a pull's bookkeeping."""
        before = self._audited(chat, str(source["key"])) if audited else None
        table = self._db.table(f"src:{chat}")
        doc = table.get(source["key"] == _KEY)
        if doc is None:
            table.insert(source)
        else:
            table.update(_replacing(source), doc_ids=[doc.doc_id])
        index = self._db.table("src:chats")
        if not index.get(chat == _CHAT):
            index.insert({"chat": chat})
        if audited:
            self._changes.note(
                chat, "source", source["key"], before, self._audited(chat, source["key"])
            )

    def remove(self, chat: str, key: str) -> bool:
        """Delete a source and what it remembered; True when it existed."""
        if (before := self._audited(chat, key)) is not None:
            self._changes.note(chat, "source", key, before, None)
        self._db.drop_table(f"srcrows:{chat}:{key}")
        return bool(self._db.table(f"src:{chat}").remove(key == _KEY))

    def chat_moved(self, old: str, new: str) -> None:
        """A chat got a new id: the pull job looks for its sources under the new one."""
        index = self._db.table("src:chats")
        doc = index.get(old == _CHAT)
        if doc is not None:
            index.update({"chat": new}, doc_ids=[doc.doc_id])

    def chats(self) -> list[str]:
        """Chats that have (or had) sources."""
        return [str(doc["chat"]) for doc in self._db.table("src:chats").all()]

    def taken(self, chat: str, key: str) -> dict[str, float]:
        """`kpi|date` → value of every row the source recorded (to skip unchanged rows)."""
        docs = self._db.table(f"srcrows:{chat}:{key}").all()
        return dict(docs[0]["rows"]) if docs else {}

    def set_taken(self, chat: str, key: str, rows: dict[str, float]) -> None:
        """Remember the rows recorded so far."""
        table = self._db.table(f"srcrows:{chat}:{key}")
        table.truncate()
        table.insert({"rows": rows})


def _never(chat: str, key: str, doc: Doc | None) -> None:
    raise RuntimeError("a token or source change is never undone")  # its guard refuses first


def _replacing(doc: dict[str, Any]) -> Any:
    def transform(current: dict[str, Any]) -> None:
        current.clear()
        current.update(doc)

    return transform

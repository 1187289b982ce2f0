"""Alert state, alert settings, the alert log and schedule bookkeeping of each chat.

The rules themselves are pure (scoring.alert_rules); this module only remembers what they
need across restarts. Tables are per chat and small, because a write stores the whole
table it touches:

- `abook:<chat>`    the alert book, one document with everything a sweep's reminder
                    changes: the AlertStates of the chat's red KPIs (and whether each KPI
                    was in test mode when written), the Batcher's waiting alerts, the
                    reminders already sent, and the newest alert-log entries. So a busy
                    chat's sweep (a red state, a log entry, a waiting alert, sent marks) is
                    one write: inside `batch()` the changes are held, the book stored once.
- `ared:<chat>:<kpi>` a red KPI's state as a `/kpi set` left it, overriding the book's
                    copy: a set that changes a red KPI's state alone writes this ~400 B
                    row, not the book (28 KB with 50 red KPIs and waiting alerts). The
                    book says when such rows may exist (`rows`: the first such set writes
                    the book once with it); every other write of the book folds the rows
                    into it and drops them, in the same transaction, so the sweep, which
                    writes books, reads and writes one table per chat.
- `abch:<chat>`    the book's changes, one document each (ids 1, 2, …), where it says rows
                    may exist: a command that changes a colour (`batch(rows=True)`) adds
                    what it changed of the book as one more, not the book (a colour change
                    among 39 waiting alerts was a 20 KB write): the KPI's state put or
                    gone, its log entry, its waiting alert (and the one it merged with
                    gone). Read, the book is its changes applied in order (`changed`),
                    then the red state rows over its states; every write of the whole book
                    (the sweep's, the CHANGE_ROWS+1st command's, a full log block's)
                    folds them in and drops them, like the red state rows. One table, not
                    a row each: a change rewrites a row that is there (a few hundred bytes
                    a change), no row is named anew and the fold drops one.
- `al:<chat>:<n>`   the other KPIs' alert states in STATE_BUCKETS buckets (by KPI), so a
                    `/kpi set` that changes no colour writes a bucket of a few states
- `alog:<chat>:<n>` older alert-log entries in sealed blocks of 20: a full block of them
                    leaves the book in the write that fills it; LOG_SIZE are kept
- `alset:<chat>`    one document: AlertPolicy, alert channels, mutes, digest schedule
- `jobs:<chat>`     one document: each schedule's last fire time, missed runs waiting for
                    the next digest, the last digest's snapshot

What the sweep needs from KPIs and initiatives comes from their repositories.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from scoring.alert_rules import AlertPolicy, AlertState, Mute, Transition
from scoring.alerts_batch import Batcher
from scoring.models import Status
from scoring.schedule import Schedule
from storage.base import (
    AppendLog,
    Tables,
    WholeTable,
    first_doc,
    register_whole,
    save_single,
    to_doc,
)
from storage.changes import Changes
from storage.holding import Holding
from storage.initiatives import InitiativeRepo
from storage.kpis import KpiRepo
from storage.okrs import OkrRepo

__all__ = [
    "BOOK",
    "BUCKET",
    "CHANGE",
    "CHANGE_ROWS",
    "LOG_SIZE",
    "RED",
    "AlertRepo",
    "AlertSettings",
    "Channel",
    "DigestSnapshot",
    "JobState",
    "MissedRun",
    "Spot",
    "StoredState",
    "change_name",
    "changed",
    "check_book",
    "check_changes",
    "check_rows",
    "reminder_due",
    "row_name",
    "row_of",
    "stored_state",
]

#: Transitions kept per chat for `/alerts log` (at least; pruned a block at a time).
LOG_SIZE = 100
_LOG_BLOCK = 20
#: Buckets of the alert states of KPIs that are not red: a state write stores one bucket
#: (~1/8 of the chat's KPIs). Red KPIs' states are in the chat's book.
STATE_BUCKETS = 8
BUCKET = "al:"
#: The alert books' table kind, and the parts of a book (all optional).
BOOK = "abook:"
_PARTS = ("states", "queued", "sent", "log")
#: The red states' rows (`ared:<chat>:<kpi>`), and the book's part saying they may exist.
RED = "ared:"
_ROWS = "rows"
#: The books' changes (`abch:<chat>`), and how many a book takes before the next write of
#: it is whole (a read after a restart applies them all: a bound on that work).
CHANGE = "abch:"
CHANGE_ROWS = 8
#: The book's parts a change row may add to it, in the order `changed` adds them.
_ADDED = ("states", "log", "queued")
#: What a change row may hold (`changed`), in the order it is applied, and each part's shape.
_CHANGE_PARTS: Mapping[str, type] = MappingProxyType(
    {"unred": list, "states": Mapping, "log": list, "unqueued": list, "queued": list}
)
#: Chats whose book was last read with its changes applied (`AlertRepo._stored`).
_CHAINS_KEPT = 64
#: A book with more states than this has its red state rows named by a query, not each
#: state's looked up (`AlertRepo._overridden`).
_PROBED = 8
#: A chat's stored book with its changes applied, as last read (`AlertRepo._stored`): its
#: book's documents, its changes' (the table's), how many, the book applied, the last one.
_Chain = tuple[
    Mapping[str, Any], Mapping[str, Any], int, Mapping[str, Any], Mapping[str, Any] | None
]
_EMPTY_BOOK: Mapping[str, Any] = MappingProxyType({})
_SENT = TypeAdapter(dict[str, str])
#: A waiting alert's document as `to_doc` of its `Queued` writes it (`waits` only when set).
_QUEUED_KEYS = ("transition", "ready_at")
_WAITING_KEYS = ("transition", "ready_at", "waits")
_TRANSITION_KEYS = tuple(Transition.model_fields)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Channel(_Frozen):
    """A chat (or thread in it) that receives a scorecard's alerts."""

    platform: str
    chat_id: str
    thread_id: str | None = None

    @property
    def key(self) -> str:
        """The chat key, as ChatRef.key spells it."""
        return f"{self.platform}:{self.chat_id}"


class AlertSettings(_Frozen):
    """A chat's alert rules, where its alerts go, who muted what, and its digest schedule."""

    policy: AlertPolicy = Field(default_factory=AlertPolicy)
    channels: tuple[Channel, ...] | None = None  # None: the scorecard's own chat
    mutes: tuple[Mute, ...] = ()
    digest: Schedule | None = None  # when the weekly review goes out
    charts: bool = True  # alerts and digests carry a small chart (`/alerts set charts=off`)


class MissedRun(_Frozen):
    """A scheduled run that did not happen on time (reported in the next digest)."""

    job: str  # "digest", "okr-checkin", "okr-cycle"
    at: AwareDatetime  # when it should have run
    reason: Literal["missed", "failed"] = "missed"
    count: int = 1  # runs rolled into this one report


class DigestSnapshot(_Frozen):
    """What the last scheduled digest showed, so the next one can say what changed."""

    at: AwareDatetime
    index: float | None
    performance: dict[str, float] = Field(default_factory=dict)


class JobState(_Frozen):
    """Schedule bookkeeping of one chat."""

    last_fire: dict[str, AwareDatetime] = Field(default_factory=dict)
    missed: tuple[MissedRun, ...] = ()
    snapshot: DigestSnapshot | None = None


#: What a chat without stored settings or waiting alerts has (frozen, all the way down).
_NO_SETTINGS = AlertSettings()
#: `Status.RED.value` (an enum member's value is two Python calls at each state write).
_RED = Status.RED.value
_NO_BATCHER = Batcher()


@dataclass(frozen=True, slots=True)
class StoredState:
    """A KPI's persisted alert state and the test mode it was computed in."""

    state: AlertState
    test: bool


@dataclass(slots=True)
class Spot:
    """A KPI's alert state as stored and where (`AlertRepo.spot`): `state` (`to_doc` of
    its AlertState, read-only) and `test` as `state_doc` gives them, and the `entry`
    holding them as it stands: a red one's in `book` (the book as read; in the KPI's row
    where the book says rows may exist), any other in `bucket` under `doc_id`. Never
    changed once made; not frozen, as a frozen dataclass sets each field through
    `object.__setattr__` (~2 µs for these six, at every `/kpi set`)."""

    state: Mapping[str, Any]
    test: bool
    entry: Mapping[str, Any]
    book: Mapping[str, Any] | None = None
    bucket: str = ""
    doc_id: str = ""


@dataclass(slots=True)
class _Held:
    """A chat's book as read or changed inside `AlertRepo.batch()` (stored once when it
    ends, if changed), with what was saved in the block as models (not parsed back)."""

    doc: dict[str, Any]
    states: dict[str, StoredState] = field(default_factory=dict)
    batcher: Batcher | None = None
    changed: bool = False
    #: The stored book says rows may override its states (`doc` has them folded in).
    rowed: bool = False
    #: Red states changed alone in the block, written as their rows when it ends if the
    #: book is not written (then `doc` carries them).
    rows: dict[str, dict[str, Any]] | None = None
    #: Write the book saying rows may exist: its only changes in the block are red states.
    flag: bool = False
    #: The book as read when the block began (`doc` before its changes), where a change
    #: row may be written over it (the stored book says rows may exist), else None.
    base: Mapping[str, Any] | None = None
    #: How many changes the stored book has.
    chained: int = 0


class AlertRepo:
    """Alert state and settings of every chat."""

    #: Table kinds the sweep reads for every chat (`Store.sweep_preload`).
    SWEPT: ClassVar[tuple[str, ...]] = ("alset:", BOOK)

    def __init__(
        self,
        db: Tables,
        kpis: KpiRepo | None = None,
        initiatives: InitiativeRepo | None = None,
        okrs: OkrRepo | None = None,
        changes: Changes | None = None,
    ) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_whole(db, self._changes, "alset")  # settings are audited; state is not
        self._kpis = kpis or KpiRepo(db)
        self._initiatives = initiatives or InitiativeRepo(db)
        self._okrs = okrs or OkrRepo(db)
        # Books changed inside `batch()` (it counts the atomic blocks rolled back in it).
        self._holding = Holding(self._write_held, lambda: db.rollbacks)
        #: The running `batch()` may write a changed book as a change row.
        self._small = False
        #: Each chat's stored book with its changes applied, as last read (`_stored`):
        #: (see `_Chain`).
        self._chains: dict[str, _Chain] = {}

    # settings ---------------------------------------------------------------------------

    def settings(self, chat: str) -> AlertSettings:
        """The chat's alert settings (defaults until changed)."""
        return self._db.first_model(f"alset:{chat}", AlertSettings) or _NO_SETTINGS

    def save_settings(self, chat: str, settings: AlertSettings) -> None:
        """Replace the chat's alert settings."""
        WholeTable(self._db, "alset", chat, self._changes).replace([to_doc(settings)])

    # the book ---------------------------------------------------------------------------

    def batch(self, *, rows: bool = False) -> AbstractContextManager[None]:
        """Hold every book change of the block and store each chat's book once when it ends
        (a sweep's reminder changes a state, the log, the waiting alerts and the sent
        marks: one write, not four). Run it inside `store.atomic()`; reads in the block see
        the held changes; if it raises, they are dropped. A nested block joins the outer; a
        nested block or `atomic()` that fails and is caught makes it raise `HeldChangesSpoiled`.

        `rows`: what the block changed of a book may be stored as a change row over it (a
        command's colour change), and a book written whole says rows may exist; without,
        books are written whole, folding their rows in (the sweep: one table a chat)."""
        if self._holding.held is None:
            self._small = rows
        return self._holding.block()

    def _write_held(self, chat: str, book: _Held) -> None:
        if book.changed:
            if self._small and book.chained < CHANGE_ROWS and self._put_change(chat, book):
                return
            self._write(chat, book.doc, rowed=book.rowed, flag=book.flag or self._small)
        elif book.rows:
            for kpi, entry in book.rows.items():
                self._db.put_single(row_name(chat, kpi), entry)

    def _put_change(self, chat: str, book: _Held) -> bool:
        """Store what the block changed of `book` as its next change row, and drop the red
        state rows of the KPIs whose states it puts or takes out (older than it); False,
        nothing written, where a change row cannot say it (`_change`), where it writes more
        than half the book's entries (the book is about as small, and folds its changes
        in), or where a write of the whole book does more than store it (drops an empty
        book, seals a full log block)."""
        doc = book.doc
        if book.base is None or not any(map(doc.get, _PARTS)):
            return False
        row = _change(book.base, doc)
        if row is None or 2 * _entries(row) > _entries(doc):  # the book is about as small
            return False
        if row:
            self._db.edit(change_name(chat), added=(row,), handed_over=True)
            for kpi in (*row.get("unred", ()), *row.get("states", ())):
                name = row_name(chat, kpi)
                if self._db.docs(name):
                    self._db.drop_table(name)
        return True

    def _stored(self, chat: str) -> tuple[Mapping[str, Any], int]:
        """The chat's stored book with its changes applied (read-only; it still says rows
        may exist: its red state rows are not applied), and how many it has. Kept from the
        last read while its book and its changes are the same tables (a `/kpi set` reads
        the book a few times); a change added since is applied alone."""
        docs = self._db.docs(f"{BOOK}{chat}")
        book = next(iter(docs.values()), None) or _EMPTY_BOOK
        if not book.get(_ROWS):
            return book, 0
        changes = self._db.docs(change_name(chat))
        chain = self._chains.get(chat)
        if chain is not None and chain[0] is docs:
            if chain[1] is changes:
                return chain[3], chain[2]
            _, _, n, folded, last = chain
            rows = list(changes.values())
            if len(rows) < n or (n and rows[n - 1] is not last):
                n, folded, last = 0, book, None  # dropped, or rolled back and read again
        else:
            n, folded, last, rows = 0, book, None, list(changes.values())
        for last in rows[n:]:
            folded = changed(folded, last)
        if len(self._chains) >= _CHAINS_KEPT:
            self._chains.clear()
        self._chains[chat] = (docs, changes, len(rows), folded, last)
        return folded, len(rows)

    def _open(self, chat: str) -> _Held | None:
        """The chat's book as changed in the running `batch()` (None: not changed in it)."""
        held = self._holding.held
        book = held.get(chat) if held is not None else None
        return book if book is not None and book.changed else None

    def _book(self, chat: str) -> Mapping[str, Any]:
        """The chat's book as it stands, read-only: inside `batch()` as held (held changes
        and rows included; the first read keeps it for the block: a sweep reads a chat's
        book about ten times, and each read through the engine was several calls), else as
        stored (read its states with `_states`: rows may override them)."""
        holding = self._holding.held
        if holding is None:
            return self._stored(chat)[0]
        held = holding.get(chat)
        if held is None:  # held as stored, its rows folded in (the sweep: once a chat)
            book, chained = self._stored(chat)
            if book.get(_ROWS):
                doc = self._folded(chat, book)
                held = _Held(doc, rowed=True, base=dict(doc), chained=chained)
            else:
                held = _Held(dict(book))
            holding[chat] = held
        return held.doc

    def _folded(self, chat: str, book: Mapping[str, Any]) -> dict[str, Any]:
        """Stored `book`, which says rows may exist, with its states as they stand and
        without that part: what a write of it stores."""
        doc = {part: value for part, value in book.items() if part != _ROWS}
        doc["states"] = self._overridden(chat, book)
        return doc

    def _overridden(self, chat: str, book: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        """Stored `book`'s states, each KPI's row (one query for the chat's rows) in place
        of the book's copy, in book order."""
        states = book.get("states") or _EMPTY_BOOK
        prefix = row_name(chat)
        self._db.prefetch(prefix)
        # many states (a colour change reads them all): the few rows named by one query,
        # not a look-up for each state
        rowed = self._db.table_names(prefix) if len(states) > _PROBED else None
        docs = self._db.docs
        found = {}
        for kpi, entry in states.items():
            name = f"{prefix}{kpi}"
            row = docs(name) if rowed is None or name in rowed else None
            found[kpi] = next(iter(row.values())) if row else entry
        return found

    def _states(self, chat: str) -> Mapping[str, Mapping[str, Any]]:
        """The red KPIs' state entries as they stand (rows over the book's copies; held
        changes included), in book order, read-only."""
        book = self._book(chat)
        if book.get(_ROWS):  # as stored, outside `batch()`
            return self._overridden(chat, book)
        return book.get("states") or _EMPTY_BOOK

    def _red_entry(
        self, chat: str, kpi: str, book: Mapping[str, Any] | None = None
    ) -> Mapping[str, Any] | None:
        """One KPI's red state entry as it stands (None: it is not red); `book`: `_book`
        as the caller just read it."""
        if book is None:
            book = self._book(chat)
        entry = (book.get("states") or _EMPTY_BOOK).get(kpi)
        if entry is not None and book.get(_ROWS):
            return first_doc(self._db, row_name(chat, kpi)) or entry
        return entry

    def _update(
        self, chat: str, *, drop: str = "", flag: bool = False, **fields: Any
    ) -> _Held | None:
        """Replace top-level parts of the chat's book (and take part `drop` out): held
        inside `batch()` (returned), else stored at once, its rows folded in. Parts are
        replaced, never changed in place: the stored book's parts are shared with the
        cache. `flag`: the change is red states alone, so the book says rows may exist
        (inside `batch()`, if every change of the block is)."""
        holding = self._holding.held
        if holding is None:
            book = self._book(chat)
            rowed = bool(book.get(_ROWS))
            doc = {**(self._folded(chat, book) if rowed else book), **fields}
            if drop:
                doc.pop(drop, None)
            self._write(chat, doc, rowed=rowed, flag=flag)
            return None
        held = holding.get(chat)
        if held is None:
            self._book(chat)  # holds it
            held = holding[chat]
        held.doc.update(fields)
        if drop:
            held.doc.pop(drop, None)
        held.flag = flag and (held.flag or not held.changed)
        held.changed = True
        return held

    def _write(self, chat: str, doc: dict[str, Any], *, rowed: bool, flag: bool) -> None:
        """Store the book `doc` (its states as they stand: `rowed`, the stored book's
        rows, red state rows and changes, are dropped; `flag`: it says rows may exist; a
        full newest log block moves out to the sealed blocks first)."""
        name = f"{BOOK}{chat}"
        if rowed:
            for row in sorted(self._db.table_names(row_name(chat))):
                self._db.drop_table(row)
            if self._db.docs(change_name(chat)):
                self._db.drop_table(change_name(chat))
            self._chains.pop(chat, None)
        log = doc.get("log")
        if log and len(log) >= _LOG_BLOCK:
            sealed = self._log(chat)
            sealed.append(log, handed_over=True)
            sealed.keep(LOG_SIZE)
            doc = {**doc, "log": []}
        if any(map(doc.get, _PARTS)):  # (no generator: once a chat in the sweep)
            if flag:
                doc = {**doc, _ROWS: True}
            self._db.put_single(name, doc)  # unchanged: nothing written
        elif self._db.docs(name):
            self._db.drop_table(name)

    # state ------------------------------------------------------------------------------

    def _bucket(self, chat: str, kpi: str) -> str:
        return f"al:{chat}:{zlib.crc32(kpi.encode()) % STATE_BUCKETS}"

    def state(self, chat: str, kpi: str) -> StoredState | None:
        """One KPI's alert state."""
        held = self._open(chat)
        if held is not None and kpi in held.states:
            return held.states[kpi]
        doc = self._red_entry(chat, kpi)
        if doc is not None:
            return stored_state(doc)
        for doc in self._db.docs(self._bucket(chat, kpi)).values():
            if doc.get("key") == kpi:
                return stored_state(doc)
        return None

    def _plain(self, chat: str) -> bool:
        """Whether the stored book's states are the red states as they stand (no rows)."""
        holding = self._holding.held
        if holding is None:
            return not self._book(chat).get(_ROWS)
        self._book(chat)
        return not holding[chat].rowed

    def states(self, chat: str, *, status: Status | None = None) -> list[StoredState]:
        """Every KPI's alert state, the red ones first (only those told `status`, checked
        before parsing). The red ones, which the sweep reads for every chat, are the
        book's: parsed once per book version (while no row overrides them)."""
        held = self._open(chat)
        if held is None and status is Status.RED and self._plain(chat):
            return list(self._db.derived(f"{BOOK}{chat}", _red))
        known = held.states if held is not None else {}
        wanted = None if status is None else status.value
        book = self._states(chat)
        found = [
            known[kpi] if kpi in known else stored_state(doc)
            for kpi, doc in book.items()
            if wanted is None or doc["state"].get("status") == wanted
        ]
        if status is Status.RED:
            return found
        self._db.prefetch(f"al:{chat}:")
        return found + [
            stored_state(doc)
            for n in range(STATE_BUCKETS)
            for doc in self._db.docs(f"al:{chat}:{n}").values()
            if doc["key"] not in book and (wanted is None or doc["state"].get("status") == wanted)
        ]

    def red_docs(self, chat: str) -> list[tuple[str, Mapping[str, Any]]]:
        """The red states as they stand (KPI, `{"test": …, "state": to_doc(state)}`),
        read-only and unparsed (`states(status=RED)` parses them): the sweep decides on
        these, and parses only when its shortcut does not answer."""
        book = self._book(chat)  # `_states`, inlined: the sweep reads these twice a chat
        states = self._overridden(chat, book) if book.get(_ROWS) else book.get("states") or {}
        return [(kpi, doc) for kpi, doc in states.items() if doc["state"]["status"] == "red"]

    def state_doc(self, chat: str, kpi: str) -> tuple[Mapping[str, Any], bool] | None:
        """One KPI's alert state as stored (`to_doc` of its AlertState, read-only) and the
        test mode it was computed in, unparsed: a `/kpi set` that changes nothing but the
        reading steps it as it is (`handlers.alert_judge.quiet_step`)."""
        found = self.spot(chat, kpi)
        return None if found is None else (found.state, found.test)

    def spot(self, chat: str, kpi: str) -> Spot | None:
        """`state_doc`, with where the state is stored: the quick `/kpi set` writes its
        new state there (`put_quiet`) without reading the book again."""
        book = self._book(chat)
        entry = self._red_entry(chat, kpi, book)
        if entry is not None:
            return Spot(entry["state"], bool(entry.get("test", False)), entry, book)
        bucket = self._bucket(chat, kpi)
        for doc_id, doc in self._db.docs(bucket).items():
            if doc.get("key") == kpi:
                return Spot(doc["state"], bool(doc.get("test", False)), doc, None, bucket, doc_id)
        return None

    def put_state(self, chat: str, state: AlertState, *, test: bool) -> None:
        """Persist one KPI's alert state (in place of its old one; no write when unchanged):
        a red one in the book, where the sweep's reminder changes it with everything else
        it changes, or in its row when it was red already; any other in its bucket (a
        `/kpi set` that changes no colour writes a bucket of a few states, not the book)."""
        self.put_state_doc(chat, state.kpi, to_doc(state), test=test, model=state)

    def put_state_doc(
        self,
        chat: str,
        kpi: str,
        state: Mapping[str, Any],
        *,
        test: bool,
        model: AlertState | None = None,
    ) -> None:
        """`put_state` of a state given as its document (`to_doc` of the AlertState), built
        for this and never touched again; `model`: it as a model, or None when the caller
        has none (reads in a `batch()` block then parse the document)."""
        book = self._book(chat)
        states = book.get("states") or _EMPTY_BOOK
        if state["status"] == _RED:
            doc = {"test": test, "state": state}
            if kpi in states:
                self._restate(chat, kpi, doc, model, book)
                return
            held = self._update(chat, states={**self._states(chat), kpi: doc})
            if held is not None and model is not None:
                held.states[kpi] = StoredState(model, test)
            elif held is not None:
                held.states.pop(kpi, None)
            self._drop_from_bucket(chat, kpi)  # a state is in one place: the book, or its bucket
            return
        if kpi in states:
            self._drop_from_book(chat, kpi)
        doc = {"key": kpi, "test": test, "state": state}
        bucket = self._bucket(chat, kpi)
        docs = self._db.docs(bucket)
        found = next((i for i, d in docs.items() if d.get("key") == kpi), None)
        if found is None:
            self._db.edit(bucket, added=[doc], handed_over=True)
        elif docs[found] != doc:
            self._db.edit(bucket, {int(found): doc}, handed_over=True)

    def put_quiet(self, chat: str, kpi: str, spot: Spot, state: dict[str, Any]) -> None:
        """`put_state_doc(chat, kpi, state, test=spot.test)` of a new state that keeps the
        colour `spot` found (red stays red), with no alert state written since `spot` was
        read (in the same atomic step): outside `batch()`, stored where `spot` found it
        (`_restate`'s row of a red one, its bucket's document for any other; no write when
        unchanged) without the book read again; else as `put_state_doc` stores it."""
        if self._holding.held is None and (state["status"] == _RED) == (spot.book is not None):
            if spot.book is not None:
                doc = {"test": spot.test, "state": state}
                if spot.entry == doc or self._as_row(chat, kpi, doc, spot.book):
                    return
            else:
                doc = {"key": kpi, "test": spot.test, "state": state}
                if spot.entry != doc:
                    self._db.edit(spot.bucket, {int(spot.doc_id): doc}, handed_over=True)
                return
        self.put_state_doc(chat, kpi, state, test=spot.test)

    def _restate(
        self,
        chat: str,
        kpi: str,
        doc: dict[str, Any],
        model: AlertState | None,
        book: Mapping[str, Any],
    ) -> None:
        """A red KPI's new red state `doc` (no write when unchanged): its row where it can
        be (`_as_row`); else in the book, which then says rows may exist (a `/kpi set` on
        a red KPI wrote the whole book to change one state). `book`: `_book` as just read
        (each read of a stored book checks its changes: a set read it four times)."""
        if self._red_entry(chat, kpi, book) == doc or self._as_row(chat, kpi, doc, book):
            return
        held = self._update(chat, states={**self._states(chat), kpi: doc}, flag=True)
        if held is not None and model is not None:
            held.states[kpi] = StoredState(model, doc["test"])
        elif held is not None:
            held.states.pop(kpi, None)

    def _as_row(self, chat: str, kpi: str, doc: dict[str, Any], book: Mapping[str, Any]) -> bool:
        """Store red state `doc` as the KPI's row (held inside `batch()`), where the book
        (`_book` as just read) says rows may exist and nothing else of it changes (in the
        block); False, nothing done, otherwise."""
        holding = self._holding.held
        if holding is None:
            if not book.get(_ROWS):
                return False
            self._db.put_single(row_name(chat, kpi), doc)
            return True
        held = holding[chat]  # `put_state_doc` read the book
        if not held.rowed or held.changed:
            return False
        held.doc["states"] = {**held.doc["states"], kpi: doc}
        if held.rows is None:
            held.rows = {}
        held.rows[kpi] = doc
        return True

    def put_reminders(
        self,
        chat: str,
        states: Mapping[str, Mapping[str, Any]],
        log: list[dict[str, Any]],
        queued: list[dict[str, Any]],
    ) -> bool:
        """The sweep's reminders as documents, one change of the book: each KPI's new red
        state (live; its old one in the book), their log entries and waiting alerts
        (appended; `to_doc` of each, built for this and never touched again): what
        `put_state`, `log` and `save_batcher` store for them one after the other. False,
        nothing changed, when a KPI's state is not in the book (the caller takes that way)."""
        book = self._book(chat)  # and its states as `_states` reads them (one call less)
        current = self._overridden(chat, book) if book.get(_ROWS) else book.get("states") or {}
        if not states.keys() <= current.keys():  # (a set test, not a generator: per chat)
            return False
        parts: dict[str, Any] = {
            "states": {**current, **{k: {"test": False, "state": s} for k, s in states.items()}},
            "log": [*(book.get("log") or ()), *log],
        }
        if queued:
            parts["queued"] = [*(book.get("queued") or ()), *queued]
        held = self._update(chat, **parts)
        if held is not None:
            for kpi in states:
                held.states.pop(kpi, None)
            held.batcher = None
        return True

    def drop_state(self, chat: str, kpi: str) -> None:
        """Forget a KPI's alert state (KPI removed, test mode switched off)."""
        if kpi in (self._book(chat).get("states") or _EMPTY_BOOK):
            self._drop_from_book(chat, kpi)
        else:
            self._drop_from_bucket(chat, kpi)

    def _drop_from_book(self, chat: str, kpi: str) -> None:
        states = self._states(chat)
        held = self._update(chat, states={k: v for k, v in states.items() if k != kpi})
        if held is not None:
            held.states.pop(kpi, None)

    def _drop_from_bucket(self, chat: str, kpi: str) -> None:
        name = self._bucket(chat, kpi)
        ids = [int(i) for i, d in self._db.docs(name).items() if d.get("key") == kpi]
        if ids:
            self._db.edit(name, dict.fromkeys(ids))

    # batcher ----------------------------------------------------------------------------

    def batcher(self, chat: str) -> Batcher:
        """Alerts of the chat still waiting to go out."""
        held = self._open(chat)
        if held is None:
            if self._stored(chat)[1]:  # changes add to the book's
                return _parse_batcher(self._book(chat))
            return self._db.derived(f"{BOOK}{chat}", _batcher)
        if held.batcher is None:
            held.batcher = _parse_batcher(held.doc)
        return held.batcher

    def next_flush(self, chat: str) -> datetime | None:
        """When the chat's waiting alerts are next due (`batcher(chat).next_due()`, unparsed)."""
        queued = self._book(chat).get("queued")
        if not queued:
            return None
        return min(datetime.fromisoformat(q["ready_at"]) for q in queued)

    def save_batcher(self, chat: str, batcher: Batcher) -> None:
        """Replace the waiting alerts (none: the book has no such part, however it got
        there: a reminder queued as a document and sent at once leaves the book as one
        never queued)."""
        queued = to_doc(batcher)["queued"] if batcher.queued else []
        self._save_queued(chat, queued, batcher)

    def queued_docs(self, chat: str) -> list[Mapping[str, Any]] | None:
        """The waiting alerts as stored (read-only, unparsed), when each is exactly what
        `to_doc` of its `Queued` writes (its keys, and its transition's, in field order):
        then a `/kpi set` queues its change on them (`alerts_batch.add_doc`) and the
        book's other waiting alerts are neither parsed nor written again. None otherwise
        (an older store's document): the caller takes `batcher`."""
        queued = self._book(chat).get("queued") or []
        for q in queued:
            keys = tuple(q)
            if keys != _QUEUED_KEYS and (keys != _WAITING_KEYS or q["waits"] is not True):
                return None
            if tuple(q["transition"]) != _TRANSITION_KEYS:
                return None
        return list(queued)

    def save_queued_docs(self, chat: str, queued: list[Mapping[str, Any]]) -> None:
        """`save_batcher` of waiting alerts given as their documents (`queued_docs` with a
        change queued on them; each `to_doc` of its `Queued`, never touched again)."""
        self._save_queued(chat, queued, None)

    def _save_queued(
        self, chat: str, queued: list[Mapping[str, Any]], model: Batcher | None
    ) -> None:
        """`model`: `queued` as a Batcher, or None when the caller has none (a read in a
        `batch()` block then parses the documents)."""
        book = self._book(chat)
        if not queued:
            if "queued" not in book:
                return
            held = self._update(chat, drop="queued")
        else:
            if book.get("queued") == queued:
                return
            held = self._update(chat, queued=queued)
        if held is not None:
            held.batcher = model

    def chats_with_queued_alerts(self) -> list[str]:
        """Chats whose batcher holds something (to re-arm their flush timers at start).

        Every chat's book is read, so they are loaded with one query, not one each."""
        self._db.prefetch(BOOK)
        return sorted(
            chat
            for chat in (name[len(BOOK) :] for name in self._db.table_names(BOOK))
            if self._stored(chat)[0].get("queued")
        )

    # log --------------------------------------------------------------------------------

    def _log(self, chat: str) -> AppendLog:
        """The sealed blocks of the alert log (its newest entries are in the book)."""
        return AppendLog(self._db, "alog", chat, block=_LOG_BLOCK, stamp="at")

    def log(self, chat: str, transitions: list[Transition]) -> None:
        """Append transitions (sent, held or suppressed) to the chat's alert log."""
        self.log_docs(chat, [to_doc(t) for t in transitions])

    def log_docs(self, chat: str, entries: list[dict[str, Any]]) -> None:
        """`log` of transitions given as their documents (`to_doc` of each, never touched
        again: the pipeline queues the same documents)."""
        if not entries:
            return
        newest = self._book(chat).get("log") or []
        self._update(chat, log=[*newest, *entries])

    def recent_log(self, chat: str, limit: int = 20) -> list[Transition]:
        """The latest `limit` transitions, oldest first."""
        if limit <= 0:
            return []
        newest = [Transition.model_validate(d) for d in self._book(chat).get("log") or ()]
        if len(newest) >= limit:
            return newest[-limit:]
        return [*self._log(chat).tail(Transition, limit - len(newest)), *newest]

    # schedules --------------------------------------------------------------------------

    def jobstate(self, chat: str) -> JobState:
        """The chat's schedule bookkeeping."""
        return self._db.first_model(f"jobs:{chat}", JobState) or JobState()

    def save_jobstate(self, chat: str, state: JobState) -> None:
        """Replace the chat's schedule bookkeeping."""
        save_single(self._db, f"jobs:{chat}", to_doc(state))

    def sent_marks(self, chat: str) -> dict[str, str]:
        """Reminders already sent ("stale:cac" -> "2026-11-02"), a copy to change."""
        return dict(self._book(chat).get("sent") or {})

    def save_sent_marks(self, chat: str, sent: Mapping[str, str]) -> None:
        """Replace the reminders already sent."""
        if (self._book(chat).get("sent") or {}) != sent:
            self._update(chat, sent=dict(sent))

    # sweeps -----------------------------------------------------------------------------

    def chats(self) -> list[str]:
        """Every chat that has a scorecard, OKRs, initiatives or alert settings."""
        found = {*self._kpis.chats(), *self._okrs.chats(), *self._initiatives.chats()}
        for prefix in ("alset:", BOOK):
            found.update(name[len(prefix) :] for name in self._db.table_names(prefix))
        return sorted(found)

    def progress_total(self, chat: str, key: str, since: datetime) -> float:
        """An initiative's logged amount from `since` on (as InitiativeRepo.logs would sum)."""
        return self._initiatives.progress_total(chat, key, since)


def reminder_due(entry: Mapping[str, Any], now: datetime, repeat: timedelta) -> bool:
    """Whether the sweep evaluates a red state entry (`red_docs`) again at `now`: its KPI
    is live (not in test mode) and people were not told within `repeat`."""
    if entry.get("test"):
        return False
    told = entry["state"]["last_notified"]
    return told is None or now - datetime.fromisoformat(told) >= repeat


def _red(docs: Mapping[str, Mapping[str, Any]]) -> tuple[StoredState, ...]:
    """A book's red states (`AlertRepo.states(status=RED)`), in book order."""
    book = next(iter(docs.values()), _EMPTY_BOOK)
    states = (book.get("states") or {}).values()
    return tuple(stored_state(d) for d in states if d["state"].get("status") == _RED)


def _batcher(docs: Mapping[str, Mapping[str, Any]]) -> Batcher:
    """A book's waiting alerts, parsed once per book version."""
    return _parse_batcher(next(iter(docs.values()), _EMPTY_BOOK))


def _parse_batcher(book: Mapping[str, Any]) -> Batcher:
    queued = book.get("queued")
    return Batcher.model_validate({"queued": queued}) if queued else _NO_BATCHER


def stored_state(doc: Mapping[str, Any]) -> StoredState:
    """A state entry as stored (`red_docs`, a bucket's), parsed."""
    return StoredState(AlertState.model_validate(doc["state"]), bool(doc.get("test", False)))


def check_book(doc: object) -> list[str]:
    """What is wrong with a stored book (`doctor`): parts that do not parse, keys that are
    not their state's KPI. Empty: sound."""
    if not isinstance(doc, Mapping):  # damage doctor must name, not crash on
        return [f"not a document ({type(doc).__name__})"]
    problems = []
    unknown = set(doc) - {*_PARTS, _ROWS}
    if unknown:
        problems.append(f"unknown parts {sorted(unknown)}")
    if _ROWS in doc and doc[_ROWS] is not True:
        problems.append(f"{_ROWS} is not true ({doc[_ROWS]!r})")
    states = doc.get("states") or {}
    if not isinstance(states, Mapping):
        problems.append(f"states are not an object ({type(states).__name__})")
        states = {}
    for kpi, entry in states.items():
        try:
            state = stored_state(entry).state
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"state of {kpi!r} does not parse ({type(exc).__name__})")
            continue
        if state.kpi != kpi:
            problems.append(f"state filed under {kpi!r} is {state.kpi!r}'s")
    checks: tuple[tuple[str, Callable[[], object]], ...] = (
        ("waiting alerts", lambda: _parse_batcher(doc)),
        ("log", lambda: [Transition.model_validate(d) for d in doc.get("log") or ()]),
        ("sent marks", lambda: _SENT.validate_python(doc.get("sent") or {})),
    )
    for part, parse in checks:
        try:
            parse()
        except (ValueError, TypeError) as exc:
            problems.append(f"{part} do not parse ({type(exc).__name__})")
    return problems


def changed(book: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """`book` with one change row applied, a new document (its parts shared, never changed
    in place): the KPIs of `unred` leave its states, `states` are put (one already there
    in its place, a new one last), `log` entries follow its log, the waiting alerts at
    the positions `unqueued` leave and `queued` ones follow: as `AlertRepo._update` of
    those parts would have left it (`_change` writes only what it applies so)."""
    doc = dict(book)
    unred, put = change.get("unred"), change.get("states")
    if unred or put:
        states = doc.get("states") or _EMPTY_BOOK
        if unred:
            states = {kpi: entry for kpi, entry in states.items() if kpi not in unred}
        doc["states"] = {**states, **put} if put else states
    if "log" in change:
        doc["log"] = [*(doc.get("log") or ()), *change["log"]]
    gone = change.get("unqueued")
    if gone or "queued" in change:
        queued = doc.get("queued") or []
        if gone:
            out = set(gone)
            queued = [q for at, q in enumerate(queued) if at not in out]
        doc["queued"] = [*queued, *change.get("queued", ())]
    return doc


def _entries(doc: Mapping[str, Any]) -> int:
    """How many states, log entries and waiting alerts a book or change row writes."""
    return sum(len(doc.get(part) or ()) for part in _ADDED)


def _change(base: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """The change row that turns book `base` into `doc` (`changed(base, row) == doc`;
    empty: nothing changed), told by equality (a part or entry `doc` shares with `base`
    compares at once; entries are their models' documents, so equal ones are spelled
    alike), so two ways of making the same book write the same row. None
    where no row says it so: a part gone, emptied or added out of `changed`'s order, the
    sent marks changed, a state moved, log entries not appended after the ones kept, a
    log that fills its block (a write of the whole book seals it)."""
    if base.keys() - doc.keys():
        return None
    if list(doc) != [*base, *(p for p in _ADDED if p in doc and p not in base)]:
        return None  # parts in an order `changed` would not leave them in
    row: dict[str, Any] = {}
    for part, new in doc.items():
        old = base.get(part)
        if new is old or (new == old and (type(new) is not dict or list(new) == list(old))):
            continue  # (dicts equal in another order are not the same part)
        if not new or part not in _ADDED:
            return None
        if part == "states":
            old = old or _EMPTY_BOOK
            kept = [kpi for kpi in old if kpi in new]
            if [*kept, *(kpi for kpi in new if kpi not in old)] != list(new):
                return None
            unred = [kpi for kpi in old if kpi not in new]
            put = {k: v for k, v in new.items() if (was := old.get(k)) is not v and was != v}
            if unred:
                row["unred"] = unred
            if put:
                row["states"] = put
        elif part == "log":
            old = old or []
            if len(new) >= _LOG_BLOCK or new[: len(old)] != old:
                return None
            row["log"] = new[len(old) :]
        else:  # waiting alerts: those kept in order (each matched to the next it equals)
            unqueued, at = [], 0
            for place, q in enumerate(old or ()):
                if at < len(new) and (new[at] is q or new[at] == q):
                    at += 1
                else:
                    unqueued.append(place)
            if unqueued:
                row["unqueued"] = unqueued
            if at < len(new):
                row["queued"] = new[at:]
    return row


def change_name(chat: str) -> str:
    """The name of the table of `chat`'s book's changes."""
    return f"{CHANGE}{chat}"


def check_changes(book: object, rows: Mapping[str, Mapping[str, Any]]) -> tuple[object, list[str]]:
    """A chat's stored `book` with its changes applied, and what is wrong with them
    (`doctor`; `rows`: its changes table's documents by id): changes only where the book
    says rows may exist (else reads ignore them), numbered 1 to n, each of known parts of
    the right shapes, applied in turn. The book applied is what `check_book` and
    `check_rows` then judge."""
    if not rows:
        return book, []
    if not isinstance(book, Mapping) or book.get(_ROWS) is not True:
        return book, ["changes are there, but the book does not say rows may exist"]
    problems = []
    if rows.keys() != {str(n) for n in range(1, len(rows) + 1)}:
        numbers = sorted(int(n) if n.isdigit() else -1 for n in rows)
        problems.append(f"changes are numbered {numbers}, not 1 to {len(rows)}")
    for n, row in rows.items():  # as reads apply them: in the table's order
        problem = _bad_change(row)
        if problem:
            problems.append(f"change {n}: {problem}")
            break
        book = changed(book, row)
    return book, problems


def _bad_change(row: object) -> str:
    """What makes `row` no change row `changed` applies (empty: none)."""
    if not isinstance(row, Mapping):
        return f"not a document ({type(row).__name__})"
    unknown = set(row) - _CHANGE_PARTS.keys()
    if unknown:
        return f"unknown parts {sorted(unknown)}"
    for part, shape in _CHANGE_PARTS.items():
        if part in row and not isinstance(row[part], shape):
            return f"{part} is not a {shape.__name__}"
    if not all(type(at) is int for at in row.get("unqueued", ())):
        return "unqueued are not positions"
    return ""


def row_name(chat: str, kpi: str = "") -> str:
    """The name of `kpi`'s red state row in `chat` (`row_of` reads it back); with no `kpi`,
    the prefix every row of the chat's starts with."""
    return f"{RED}{chat}:{kpi}"


def row_of(name: str) -> tuple[str, str]:
    """The chat and the KPI of red state row `name` (`ared:<chat>:<kpi>`)."""
    chat, _, kpi = name[len(RED) :].rpartition(":")
    return chat, kpi


def check_rows(book: object, rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What is wrong with a chat's red state rows (`doctor`; `rows`: each KPI's row table,
    documents by id) given its stored `book`: a row only where the book says rows may
    exist (else reads ignore it), for a KPI red in the book, one document that parses
    as that KPI's red state. Empty: sound."""
    problems = []
    said = isinstance(book, Mapping) and book.get(_ROWS) is True
    states = book.get("states") if isinstance(book, Mapping) else None
    for kpi, docs in sorted(rows.items()):
        where = f"the red state row of {kpi!r}"
        if not said:
            problems.append(f"{where} is there, but the book does not say rows may exist")
            continue
        if not isinstance(states, Mapping) or kpi not in states:
            problems.append(f"{where} is there, but the KPI is not red in the book")
            continue
        if len(docs) != 1:
            problems.append(f"{where} holds {len(docs)} documents")
            continue
        try:
            state = stored_state(next(iter(docs.values()))).state
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{where} does not parse ({type(exc).__name__})")
            continue
        if state.kpi != kpi:
            problems.append(f"{where} is {state.kpi!r}'s")
        elif state.status is not Status.RED:
            problems.append(f"{where} is {state.status.value}, not red")
    return problems

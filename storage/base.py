"""Shared plumbing of the repositories: model ↔ TinyDB document, keyed tables, sharded logs.

Every repository method takes the chat key (`ChatRef.key`) and touches only that chat's
tables, so one chat can never read or change another's data. Each repository is the only
owner of its table names: no other module spells them. Tables stay small (a write stores
the whole table it touched): one per chat and kind, history sharded (`AppendLog`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from itertools import compress
from operator import itemgetter, methodcaller
from typing import Any, Protocol, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter
from tinydb import Query
from tinydb.table import Table

from storage.changes import Changes, Doc, Guard
from storage.engine import Prepared, follows_appends

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

_KEY = Query().key


#: A log's newest block: its table name and its documents by id (read-only).
Block = tuple[str, Mapping[str, Mapping[str, Any]]]


class Tables(Protocol):
    """What repositories need from the document layer (`storage.engine.Database`)."""

    @property
    def rollbacks(self) -> int:
        """How many `atomic()` blocks were rolled back so far."""

    def table(self, name: str) -> Table:
        """The named TinyDB table (created on first write)."""

    def drop_table(self, name: str) -> None:
        """Remove a table and its documents."""

    def known_absent(self, names: Iterable[str]) -> None:
        """Tables the caller knows are not stored (a log's blocks about to be opened)."""

    def table_names(self, prefix: str = "") -> set[str]:
        """Names of the stored tables starting with `prefix`."""

    def docs(self, name: str) -> Mapping[str, Mapping[str, Any]]:
        """A table's documents by id, read-only (never mutate them)."""

    def models(self, name: str, model: type[ModelT]) -> list[ModelT]:
        """A table's documents as models, validated once per table version."""

    def first_model(self, name: str, model: type[ModelT]) -> ModelT | None:
        """The first document as a model (a one-document table's), or None."""

    def model_by_key(self, name: str, model: type[ModelT], key: str) -> ModelT | None:
        """The document whose `key` field is `key`, as a model (validating only it if needed)."""

    def derived(self, name: str, derive: Callable[[Mapping[str, Mapping[str, Any]]], T]) -> T:
        """`derive(documents by id)` cached per table version (never mutate the result)."""

    def put_table(self, name: str, docs: Mapping[int, Mapping[str, Any]]) -> None:
        """Replace a table's documents whole."""

    def append(self, name: str, docs: Iterable[Mapping[str, Any]]) -> None:
        """Add documents to a table under the next ids."""

    def edit(
        self,
        name: str,
        changed: Mapping[int, Mapping[str, Any] | None] | None = None,
        added: Iterable[Mapping[str, Any]] = (),
        *,
        handed_over: bool = False,
    ) -> None:
        """Replace (None: remove) documents by id, then add `added` under the next ids
        (`handed_over`: the caller never touches those documents again: kept uncopied)."""

    def put_single(self, name: str, doc: dict[str, Any]) -> None:
        """Make `doc` (handed over) the one document of table `name`; no write when unchanged."""

    def prepare(
        self,
        name: str,
        changed: Mapping[int, Mapping[str, Any] | None] | None = None,
        added: Iterable[Mapping[str, Any]] = (),
        *,
        handed_over: bool = False,
    ) -> Prepared:
        """What `edit` would store, built but not written (see `install`)."""

    def install(self, prepared: Prepared) -> bool:
        """Write a prepared table if it is still the version it was built on."""

    def prefetch(self, prefix: str) -> None:
        """Load every table under `prefix` at once (before reading many of them)."""

    def mark_lazy(self, prefix: str) -> None:
        """Changes to these tables need not make a command wait for the disk."""

    def summarises(self, sources: tuple[str, ...], summary_of: Callable[[str], str]) -> None:
        """Any change to a table of the `sources` kinds drops table `summary_of(name)`."""


_INSTANT = TypeAdapter(datetime)


_ZERO = timedelta(0)


#: The instant `instant_text` spelled last, and its text (kept by identity: a datetime
#: is immutable, and holding it here keeps another from taking its place).
_spelled: tuple[datetime | None, str] = (None, "")


def instant_text(at: datetime) -> str:
    """An instant as stored documents spell it (`…Z` for UTC), for exact lookups: as
    pydantic writes a datetime field, which is `isoformat()` with `Z` for a zero offset
    (spelled here without its serialiser: three of these make every `/kpi set`), and an
    offset cut to the minute (left to pydantic, `test_instant_text` holds them equal).
    A `datetime` itself is spelled by orjson, which writes that same RFC 3339 text:
    `isoformat` alone was about 12 000 instructions of C formatting, orjson's whole call
    a fraction of it (tests/storage/test_instant_text.py holds the two spellings equal).

    The same object asked again (a `/kpi set`'s reading spelled for its value and for its
    alert state) is answered from the last spelling."""
    global _spelled
    last, text = _spelled
    if last is at:
        return text
    # UTC's offset is known without asking (`utcoffset` was 2 k instructions of a 7 k call)
    offset = _ZERO if at.tzinfo is UTC else at.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        text = str(_INSTANT.dump_python(at, mode="json"))
    elif type(at) is datetime:
        text = orjson.dumps(at, option=orjson.OPT_UTC_Z)[1:-1].decode()
    else:  # a subclass, which orjson refuses
        text = at.isoformat() if offset != _ZERO else f"{at.isoformat()[:-6]}Z"
    _spelled = (at, text)
    return text


def to_doc(model: BaseModel) -> dict[str, Any]:
    """JSON-safe document of a model (dates as ISO strings)."""
    return model.model_dump(mode="json")


def from_docs(model: type[ModelT], docs: Iterable[Mapping[str, Any]]) -> list[ModelT]:
    """Validate stored documents back into models."""
    return [model.model_validate(doc) for doc in docs]


def first_doc(db: Tables, name: str) -> Mapping[str, Any] | None:
    """The first document of a one-document table (settings and the like)."""
    return next(iter(db.docs(name).values()), None)


def save_single(db: Tables, name: str, doc: Mapping[str, Any]) -> None:
    """Make `doc` the only document of table `name` (no write when it is unchanged)."""
    if first_doc(db, name) != doc or len(db.docs(name)) != 1:
        db.put_table(name, {1: doc})


class KeyedTable:
    """A table of models identified by their `key` field, named `<kind>:<chat>`.

    With `changes`, every put and remove is reported for the audit (kind = the prefix).
    """

    def __init__(self, db: Tables, name: str, changes: Changes | None = None) -> None:
        self._db = db
        self.name = name
        self._changes = changes

    @property
    def table(self) -> Table:
        """The underlying TinyDB table."""
        return self._db.table(self.name)

    def get(self, model: type[ModelT], key: str) -> ModelT | None:
        """The model stored under `key`, or None."""
        return self._db.model_by_key(self.name, model, key)

    def all(self, model: type[ModelT]) -> list[ModelT]:
        """Every model in insertion order."""
        return self._db.models(self.name, model)

    def put(self, item: BaseModel) -> None:
        """Insert or replace the model with the same key."""
        self.put_doc(to_doc(item))

    def put_doc(self, doc: Doc) -> None:
        """Insert or replace the document with the same key."""
        found = [i for i, d in self._db.docs(self.name).items() if d.get("key") == doc["key"]]
        before = self._db.docs(self.name)[found[0]] if found else None
        self._note(str(doc["key"]), before, doc)
        if not found:
            self.table.insert(doc)
        elif before != doc:
            self.table.update(_replace(doc), doc_ids=[int(found[0])])

    def remove(self, key: str) -> bool:
        """Delete the model with `key`; True when something was deleted."""
        before = self.doc(key)
        if before is None:
            return False
        self._note(key, before, None)
        return bool(self.table.remove(key == _KEY))

    def doc(self, key: str) -> Doc | None:
        """A copy of the document stored under `key`, or None."""
        for doc in self._db.docs(self.name).values():
            if doc.get("key") == key:
                return dict(doc)
        return None

    def _note(self, key: str, before: Mapping[str, Any] | None, after: Doc | None) -> None:
        if self._changes is not None:
            kind, _, chat = self.name.partition(":")
            self._changes.note(chat, kind, key, None if before is None else dict(before), after)

    def keys(self) -> list[str]:
        """Every stored key."""
        return [str(doc["key"]) for doc in self._db.docs(self.name).values()]


def _replace(doc: dict[str, Any]) -> Any:
    """A TinyDB update operation that replaces the whole document (drops stale fields)."""

    def transform(current: dict[str, Any]) -> None:
        current.clear()
        current.update(doc)

    return transform


def register_keyed(db: Tables, changes: Changes, kind: str, guard: Guard | None = None) -> None:
    """Make the keyed tables `<kind>:<chat>` restorable by undo."""

    def write(chat: str, key: str, doc: Doc | None) -> None:
        table = KeyedTable(db, f"{kind}:{chat}", changes)
        if doc is None:
            table.remove(key)
        else:
            table.put_doc(doc)

    changes.register(
        kind, lambda chat, key: KeyedTable(db, f"{kind}:{chat}").doc(key), write, guard
    )


class WholeTable:
    """A small table always saved whole (an ordered list, or one settings document).

    It is audited as one item of its kind, `<kind>:<chat>`, with key "" and the document
    `{"items": [...]}` (None while the table is empty, i.e. defaults apply).
    """

    def __init__(self, db: Tables, kind: str, chat: str, changes: Changes | None = None) -> None:
        self._db = db
        self._kind = kind
        self._chat = chat
        self._changes = changes

    @property
    def name(self) -> str:
        """The table's name."""
        return f"{self._kind}:{self._chat}"

    def docs(self) -> list[Doc]:
        """Copies of the stored documents, in order."""
        return [dict(doc) for doc in self._db.docs(self.name).values()]

    def replace(self, docs: list[Doc]) -> None:
        """Store exactly `docs` (none: back to defaults); no write when nothing changes."""
        before = self.docs()
        if before == docs:
            return
        if self._changes is not None:
            self._changes.note(self._chat, self._kind, "", whole_doc(before), whole_doc(docs))
        if docs:
            self._db.put_table(self.name, {i + 1: doc for i, doc in enumerate(docs)})
        else:
            self._db.drop_table(self.name)


def whole_doc(docs: list[Doc]) -> Doc | None:
    """How a whole table is audited: `{"items": [...]}`, None while empty."""
    return {"items": docs} if docs else None


def register_whole(db: Tables, changes: Changes, kind: str) -> None:
    """Make the whole tables `<kind>:<chat>` restorable by undo."""

    def read(chat: str, key: str) -> Doc | None:
        del key
        return whole_doc(WholeTable(db, kind, chat).docs())

    def write(chat: str, key: str, doc: Doc | None) -> None:
        del key
        WholeTable(db, kind, chat, changes).replace(list(doc["items"]) if doc else [])

    changes.register(kind, read, write)


def utc_day(stamp: str) -> str:
    """The UTC date of an ISO timestamp, as `YYYY-MM-DD` (comparable as a string)."""
    if stamp.endswith("Z") and stamp[4:5] == "-" and stamp[10:11] == "T":
        return stamp[:10]  # a UTC instant as stored (`instant_text`): its own date
    return datetime.fromisoformat(stamp).astimezone(UTC).date().isoformat()


def _latest_days(stamps: list[str]) -> list[str]:
    """`utc_day` of the latest of the UTC instants as stored (`…Z`: their date is their
    first ten characters, so the latest string has the latest day) and of every other stamp:
    the same latest day as `utc_day` of each, found without a call per stamp (a block of 64
    sealed when the next opens)."""
    # `utc_day`'s rule for a UTC instant as stored
    stored = [s[-1:] == "Z" and s[4:5] == "-" and s[10:11] == "T" for s in stamps]
    plain = list(compress(stamps, stored))
    days = [utc_day(s) for s, as_stored in zip(stamps, stored, strict=True) if not as_stored]
    if plain:
        days.append(max(plain)[:10])
    return days


def _sealed(docs: Mapping[str, Mapping[str, Any]]) -> tuple[int, int | None]:
    """(entries in every block but the newest, the newest block's number) of a log index."""
    doc = next(iter(docs.values()), None)
    blocks = doc["blocks"] if doc else []
    if not blocks:
        return 0, None
    # at C speed: derived afresh at every block opened, over every block of the log
    return sum(map(int, map(_SIZE, blocks[:-1]))), int(blocks[-1][0])


_SIZE = itemgetter(1)  # a log index block's size


def _by_day(
    docs: Mapping[str, Mapping[str, Any]],
) -> tuple[tuple[int, ...], list[str], tuple[int, ...]]:
    """A log index's block numbers in log order, its blocks' latest days sorted, and the
    position of the block each sorted day belongs to (derived once per index version)."""
    doc = next(iter(docs.values()), None)
    blocks = doc["blocks"] if doc else []
    order = sorted(range(len(blocks)), key=lambda p: str(blocks[p][2]))
    return (
        tuple(int(b[0]) for b in blocks),
        [str(blocks[p][2]) for p in order],
        tuple(order),
    )


class AppendLog:
    """A history kept in blocks of `block` documents, so an append costs one small block.

    Tables: `<kind>:<owner>:<n>` per block and `<kind>ix:<owner>` with the blocks' numbers,
    sizes and the latest UTC day in each (so reads from a date skip older blocks). With a
    stamp field, each block's latest day is kept; entries may be appended out of order.

    The index is written when a block is opened, not at every append: the newest block's
    size and day in it may lag (its size is read from the block itself, and reads from a
    date always include it), so an append writes the one block it lands in and nothing
    else whatever the length of the history.
    """

    def __init__(self, db: Tables, kind: str, owner: str, *, block: int, stamp: str) -> None:
        self._db = db
        self._prefix = f"{kind}:{owner}:"
        self._index_name = f"{kind}ix:{owner}"
        self._block = block
        self._stamp = stamp

    def _index(self) -> list[list[Any]]:
        """The blocks as [number, size, latest day], the newest one's size counted afresh.

        Only the newest is a copy: copy any other before changing it."""
        doc = first_doc(self._db, self._index_name)
        if not doc:
            return []
        blocks: list[list[Any]] = list(doc["blocks"])  # stored lists: copy before changing
        if blocks:
            newest = blocks[-1] = list(blocks[-1])
            newest[1] = len(self._db.docs(f"{self._prefix}{newest[0]}"))
        return blocks

    def _save_index(self, blocks: list[list[Any]]) -> None:
        """Store `blocks` (from `_index`, changed as the caller's own: never touched after)
        as the index, handed over (`put_single`): `save_single` compared it with the stored
        one, copied it and parsed it back from its body, each over every block of the log,
        at every block opened."""
        if blocks:
            self._db.put_single(self._index_name, {"blocks": blocks})
        else:
            self._db.drop_table(self._index_name)

    def _seal(self, block: list[Any]) -> None:
        """Make the latest day of the newest block exact before a newer one is opened."""
        docs = self._db.docs(f"{self._prefix}{block[0]}").values()
        block[2] = max([block[2], *_latest_days([d[self._stamp] for d in docs])])

    def append(self, docs: Iterable[Mapping[str, Any]], *, handed_over: bool = False) -> None:
        """Add documents at the end (a new block when the last one is full); the index is
        rewritten only when a block is opened. `handed_over`: the caller built them for
        this and never touches them again (kept uncopied, see `Tables.edit`).

        One document landing in the newest block (a hashtag, an audit entry: nearly every
        append) reads the index and that block and edits the block, nothing more: the
        blocks' list is not copied nor any day worked out, which only opening one needs."""
        if isinstance(docs, list | tuple) and len(docs) == 1:
            self.add(docs[0], self.newest_block(), handed_over=handed_over)
        else:
            self._open_and_append(docs, handed_over)

    def _open_and_append(self, docs: Iterable[Mapping[str, Any]], handed_over: bool) -> None:
        """`append` through the index: opening blocks as the last one fills."""
        blocks = self._index()
        top = blocks[-1][0] if blocks else 0
        opened = False
        placed: dict[int, list[Mapping[str, Any]]] = {}
        for doc in docs:
            day = utc_day(doc[self._stamp])
            if not blocks or blocks[-1][1] >= self._block:
                if blocks and not opened:
                    self._seal(blocks[-1])
                blocks.append([blocks[-1][0] + 1 if blocks else 1, 0, day])
                opened = True
            last = blocks[-1]
            placed.setdefault(last[0], []).append(doc)
            last[1] += 1
            last[2] = max(last[2], day)
        if opened:  # numbered past every block the log held: cannot be stored, not looked for
            self._db.known_absent(f"{self._prefix}{n}" for n in placed if n > top)
        for n, block_docs in placed.items():
            self._db.edit(f"{self._prefix}{n}", added=block_docs, handed_over=handed_over)
        if opened:
            self._save_index(blocks)

    @property
    def index_name(self) -> str:
        """The table listing the log's blocks."""
        return self._index_name

    def count(self) -> int:
        """How many documents the log holds: the sealed blocks' sizes are summed once per
        index version (an audit id counts its month at every mutating command)."""
        return self.count_and_newest()[0]

    def count_and_newest(self) -> tuple[int, Block | None]:
        """`count()` and `newest_block()`, read together (an audit id and its block)."""
        sealed, newest = self._db.derived(self._index_name, _sealed)
        if newest is None:
            return 0, None
        name = f"{self._prefix}{newest}"
        docs = self._db.docs(name)
        return sealed + len(docs), (name, docs)

    def entries(self, model: type[ModelT], since: datetime | None = None) -> list[ModelT]:
        """Every entry (from blocks that may hold entries from `since` on), in log order."""
        found: list[ModelT] = []
        for name in self._blocks_from(since):
            found.extend(self._db.models(name, model))
        return found

    def derived_from(
        self, since: datetime | None, derive: Callable[[Mapping[str, Mapping[str, Any]]], T]
    ) -> list[T]:
        """`derive` of each block that may hold entries from `since` on (cached per block
        version, see `Tables.derived`), in log order: a hot read that needs no models."""
        return [self._db.derived(name, derive) for name in self._blocks_from(since)]

    def _blocks_from(self, since: datetime | None) -> list[str]:
        """The blocks whose latest day is `since`'s UTC day or later, and the newest (its
        day may lag), in log order: found by bisecting the index's days, sorted once per
        index version (`_by_day`), not by a walk of every block at each read."""
        numbers, days, order = self._db.derived(self._index_name, _by_day)
        if since is None or not numbers:
            positions: Iterable[int] = range(len(numbers))
        else:
            cut = since.astimezone(UTC).date().isoformat()
            positions = sorted({*order[bisect_left(days, cut) :], len(numbers) - 1})
        return [f"{self._prefix}{numbers[p]}" for p in positions]

    def tail(self, model: type[ModelT], limit: int) -> list[ModelT]:
        """The last `limit` entries, oldest first (reads only the newest blocks)."""
        found: list[ModelT] = []
        for n, _, _ in reversed(self._index()):
            found[:0] = self._db.models(f"{self._prefix}{n}", model)
            if len(found) >= limit:
                break
        return found[-limit:] if limit > 0 else []

    def keep(self, newest: int) -> None:
        """Drop the oldest whole blocks while at least `newest` entries remain."""
        blocks = self._index()
        total = sum(int(b[1]) for b in blocks)
        dropped = False
        while blocks and total - int(blocks[0][1]) >= newest:
            total -= int(blocks[0][1])
            self._db.drop_table(f"{self._prefix}{blocks.pop(0)[0]}")
            dropped = True
        if dropped:
            self._save_index(blocks)

    def remove_where(self, match: Mapping[str, Any]) -> int:
        """Delete the entries whose fields equal `match`; returns how many went."""
        blocks = [list(b) for b in self._index()]
        removed = 0
        for block in blocks:
            name = f"{self._prefix}{block[0]}"
            ids = [
                int(i)
                for i, d in self._db.docs(name).items()
                if all(d.get(k) == v for k, v in match.items())
            ]
            if ids:
                self._db.table(name).remove(doc_ids=ids)
                block[1] -= len(ids)
                removed += len(ids)
        if removed:
            self._save_index(blocks)
        return removed

    def update_where(self, match: Mapping[str, Any], fields: Mapping[str, Any]) -> int:
        """Set `fields` on the entries whose fields equal `match`; returns how many."""
        updated = 0
        for n, _, _ in self._index():
            name = f"{self._prefix}{n}"
            ids = [
                int(i)
                for i, d in self._db.docs(name).items()
                if all(d.get(k) == v for k, v in match.items())
            ]
            if ids:
                self._db.table(name).update(dict(fields), doc_ids=ids)
                updated += len(ids)
        return updated

    def instants(self, block: Block) -> frozenset[str]:
        """The `at` instants of `block` (as `newest_block` gave it), derived once per
        block version and carried over appends."""
        return self._db.derived(block[0], _instants)

    def older_instants(self, since: datetime) -> list[frozenset[str]]:
        """The `at` instants of each block but the newest that may hold one of `since`'s UTC
        day or later (a sealed block's latest day is exact), each set derived once per block
        version: what an entry stamped `since` must not meet beyond the newest block."""
        numbers, days, order = self._db.derived(self._index_name, _by_day)
        cut = since.astimezone(UTC).date().isoformat()
        newest = len(numbers) - 1
        return [
            self._db.derived(f"{self._prefix}{numbers[p]}", _instants)
            for p in order[bisect_left(days, cut) :]
            if p != newest
        ]

    def newest_docs(self) -> list[Mapping[str, Any]]:
        """The documents of the newest block, read-only (where the latest entries are)."""
        found = self.newest_block()
        return [] if found is None else list(found[1].values())

    def newest_block(self) -> Block | None:
        """The newest block's table name and documents by id, read-only (None: no blocks)."""
        doc = first_doc(self._db, self._index_name)
        if not doc or not doc["blocks"]:
            return None
        name = f"{self._prefix}{doc['blocks'][-1][0]}"
        return name, self._db.docs(name)

    def add(
        self, doc: Mapping[str, Any], newest: Block | None, *, handed_over: bool = False
    ) -> None:
        """`append([doc])` given `newest_block()` as read just before, nothing written to
        the log since (a hashtag reads it once for its number, its instant and its write):
        a block with room takes it, else `append` opens one."""
        if newest is not None and len(newest[1]) < self._block:
            self._db.edit(newest[0], added=(doc,), handed_over=handed_over)
        else:
            self._open_and_append((doc,), handed_over)

    def newest_first(self, model: type[ModelT]) -> Iterator[ModelT]:
        """Entries newest first, reading one block at a time (stop early to read less)."""
        for n, _, _ in reversed(self._index()):
            yield from reversed(self._db.models(f"{self._prefix}{n}", model))

    def docs(self) -> list[Doc]:
        """Copies of every stored document, in log order (for the audit)."""
        return [
            dict(doc)
            for n, _, _ in self._index()
            for doc in self._db.docs(f"{self._prefix}{n}").values()
        ]

    def find(self, match: Mapping[str, Any]) -> Doc | None:
        """A copy of the first entry whose fields equal `match`, or None."""
        for n, _, _ in self._index():
            for doc in self._db.docs(f"{self._prefix}{n}").values():
                if all(doc.get(k) == v for k, v in match.items()):
                    return dict(doc)
        return None

    def drop(self) -> None:
        """Delete the whole log."""
        for n, _, _ in self._index():
            self._db.drop_table(f"{self._prefix}{n}")
        self._db.drop_table(self._index_name)


_AT = methodcaller("get", "at")  # an entry's instant, at C speed over a block


def _instants(docs: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """The instants of a timed log's block (derived once per block version, and carried
    over appends: a hashtag looks its instant up in the newest block's)."""
    return frozenset(map(_AT, docs.values()))


def _instants_appended(
    instants: frozenset[str], added: Mapping[str, Mapping[str, Any]]
) -> frozenset[str]:
    """`_instants` of a block after `added` were appended to it, from its `_instants`
    before: the new ones only are read (at C speed, the old set copied in C)."""
    return instants.union(map(_AT, added.values()))


follows_appends(_instants, _instants_appended)


def _last_instant(block: Block | None) -> datetime:
    """The instant of the entry last appended to `block` (one that has entries)."""
    assert block is not None
    return datetime.fromisoformat(str(_AT([*block[1].values()][-1])))


class TimedLog:
    """An AppendLog whose entries are told apart by their instant (`at`), audited as
    items `<owner>@<at>` of `kind` (progress logs, check-ins).

    Two entries never share an instant: an append that meets one moves on by a microsecond,
    so an entry can be found (and removed, and put back) by its time. An entry dated after
    the newest block's last one (the clock moved on) can only meet one there; one dated at or
    before it (a message's tags share one instant, and a block opened halfway through them
    holds none of the first ones' instants), or meeting a newest block that its entries left
    (undone), is checked against the older blocks reaching its day too. (An entry appended
    out of time order, by an import, can still leave an older block holding a later instant
    than the newest one's last.)
    """

    def __init__(self, log: AppendLog, changes: Changes, chat: str, kind: str, owner: str):
        self._log = log
        self._changes = changes
        self._chat = chat
        self._kind = kind
        self._owner = owner

    def _note(self, at: str, before: Doc | None, after: Doc | None) -> None:
        self._changes.note(self._chat, self._kind, f"{self._owner}@{at}", before, after)

    def append(self, entry: ModelT, newest: Block | None = None, doc: Doc | None = None) -> ModelT:
        """Store `entry` (at a free instant); returns it as stored. Its document is built
        once and handed to the log (the audit keeps its own copy). `newest`: the log's
        `newest_block()` as the caller just read it (None: read here); `doc`: `to_doc`
        of `entry` as the caller built it (None: made here)."""
        if doc is None:
            doc = to_doc(entry)
        if newest is None:
            newest = self._log.newest_block()
        taken = frozenset() if newest is None else self._log.instants(newest)
        at: datetime = getattr(entry, "at")  # noqa: B009 - every timed entry has one
        # a message's later tag, a back-dated entry, or a newest block emptied (its only
        # entry undone): no last instant of its own to be later than
        if newest is not None and (not taken or at <= _last_instant(newest)):
            taken = taken.union(*self._log.older_instants(at))
        if doc["at"] in taken:
            while instant_text(at) in taken:
                at += timedelta(microseconds=1)
            entry = entry.model_copy(update={"at": at})
            doc = to_doc(entry)
        self._note(str(doc["at"]), None, doc)
        self._log.add(doc, newest, handed_over=True)
        return entry

    def get(self, at: str) -> Doc | None:
        """The entry stored at the instant spelled `at`, or None."""
        return self._log.find({"at": at})

    def remove(self, at: str) -> Doc | None:
        """Delete the entry at instant `at`; returns it (None: there was none)."""
        found = self.get(at)
        if found is not None:
            self._note(at, found, None)
            self._log.remove_where({"at": at})
        return found

    def put_back(self, doc: Doc) -> None:
        """Store an entry exactly as it was (undo of its removal)."""
        self._note(str(doc["at"]), None, doc)
        self._log.append([doc])

    def drop(self) -> None:
        """Delete every entry (each is audited, so undo can bring them back)."""
        for doc in self._log.docs():
            self._note(str(doc["at"]), doc, None)
        self._log.drop()

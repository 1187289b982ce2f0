"""TinyDB documents over a storage port: tables loaded on demand, changes committed in batches.

TinyDB stays the document and query API of the repositories; the bytes live in a backend
behind `storage.port.StoragePort` (SQLite on disk, a dict in tests). Design:

* A table is one row: its documents as one JSON body. `Database.table(name)` returns a
  TinyDB table whose reads load the body on demand into a bounded LRU cache of parsed
  tables, so memory follows the working set, not the store.
* A TinyDB write re-serialises only the table it touched and parks the new body as
  *dirty*. `commit()` hands every dirty table to the backend as one batch (one SQLite
  transaction), so a command writes only the tables it changed; a command that changed
  nothing does not touch the disk. Commands that commit together share the transaction.
* A durable backend's transactions run on a writer thread, the loop free meanwhile; but a
  commit that finds nothing else to run on the loop runs its transaction right there
  (`StoragePort`'s `CommitsNow`), as the loop would only wait: it spares the hand-off and
  the wake. Not when the backend cannot start at once (its idle upkeep holds it), nor for
  a batch of many tables (`INLINE_TABLES`), nor after a transaction slower than `HOLD_S`
  until the writer thread finds the disk quick `QUICK_AGAIN` times in a row.
* `atomic()` remembers what each table was before the block and puts it back if the block
  raises, so a failed command leaves nothing behind, in memory or on disk.
* Documents handed out are deep copies (TinyDB's `Document` only copies the top level),
  and parsed pydantic models are cached per table version (`models()`): a read that
  changed nothing does not re-validate.
* Tables registered as *lazy* (dedupe marks) do not make a read-only command wait for
  the disk: they ride along with the next real commit, or a background one within a
  second, or the close.
* A command run under `observing()` waits in `commit(seen)` only for the changes it
  made or read before they were durable: a read of saved data replies at once instead of
  queueing behind other commands' writes (up to tens of ms when the disk or the machine
  stalls), yet a read that saw another command's unsaved change still waits for it.
* A failed commit (disk full, I/O error) rolls the unsaved changes back in memory and
  fails the commands that made them with one clear line; reads go on, and the next
  commit tries again, so writes resume by themselves once space returns.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import logging
import queue
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final, TypeVar

import orjson
from pydantic import BaseModel
from tinydb.storages import Storage
from tinydb.table import Document, Table

from storage import gc_policy
from storage.errors import StoreError, StoreFailed
from storage.gc_policy import loop_idle, quiet_for
from storage.port import Batch, CommitsNow, MemoryBackend, StoragePort, past_prefix

__all__ = [
    "CACHE_BYTES",
    "CACHE_TABLES",
    "Database",
    "Prepared",
    "Seen",
    "StoreStats",
    "copy_json",
    "follows_appends",
]

_LOGGER = logging.getLogger(__name__)

#: Parsed tables kept in memory (least recently used ones are dropped first), by count and
#: by the size of their JSON bodies (parsed objects take several times that).
CACHE_TABLES: Final = 50_000
CACHE_BYTES: Final = 24 * 1024 * 1024
#: How long a lazy change (a dedupe mark) may wait for a commit that carries it.
LAZY_DELAY_S: Final = 1.0
#: The longest a transaction may hold the loop. A commit that finds nothing else to run
#: on the loop runs its transaction right there (`Database._run_now`; SQLite lets go of
#: the GIL for the disk's part), as the loop would otherwise wait for the writer thread:
#: no hand-off, no self-pipe wake, loop turn, future or resume of the command's
#: coroutines. Once one took longer than this (a disk stall), commits go to the writer
#: thread, the loop free meanwhile, until `QUICK_AGAIN` there in a row were this quick:
#: input arriving during a stall waits for at most one slow transaction. 5 ms: a quarter
#: of the open loop's 20 ms goal, and above what a loaded machine's wait for a CPU alone
#: adds to a transaction (2-4 ms on average with two suites and valgrind runs beside the
#: bench; at 2 ms most commits went to the writer thread then, and each paid its wake).
HOLD_S: Final = 0.005
#: Quick transactions in a row on the writer thread before the loop runs them again after
#: a slow one. A slow disk's stalls come in runs (flushes the host is slow to finish; the
#: vCPU that kicked the virtio disk is held in the host meanwhile, so the loop's thread
#: shows such a wait as CPU as well as wall). Replayed over the commit times of two 100k
#: open loops on a loaded host, back on the loop at the first quick transaction the loop
#: ran 49 and 166 transactions over 10 ms itself; back at the 8th, 4 and 4. A quiet disk
#: is rarely slow (session 14's quiet raw commits: at most 1.4-4.4 ms), and each slow
#: transaction costs a closed loop 8 hand-offs of about 0.1 ms.
QUICK_AGAIN: Final = 8
#: A lone commit of more tables than this goes to the writer thread all the same: its
#: transaction would hold the loop for much longer than a command's (4-6 tables, about
#: 30 us each on a quiet disk): a busy sweep's commit of 1 000 alert books took 31 ms on
#: the loop, where the sweep itself keeps every slice under 5 ms. 32 tables: about 1 ms.
INLINE_TABLES: Final = 32
WARM_STEP: Final = 100  # tables read per loop turn by `warm()` (about a millisecond)
#: `warm()` fills at most this share of the cache; the rest is the working set's. 0.6: the
#: issue-8 store (500 chats, 27 500 tables) fits, so its first busy sweep asks SQLite
#: for none of the ~3 600 tables and absent names a half-full warm left to it.
WARM_SHARE: Final = 0.6
_DUMP_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")
Docs = dict[str, dict[str, Any]]


@dataclasses.dataclass(slots=True)
class Seen:
    """How many changes one command depends on: its own, and others' it read unsaved."""

    upto: int = 0


#: The `Seen` of the command running in this context (tasks it starts share it).
_SEEN: ContextVar[Seen | None] = ContextVar("store_seen", default=None)


def _reject(value: object) -> Any:
    """Refuse values that JSON would silently turn into something else (datetime -> str)."""
    raise TypeError(
        f"cannot store a {type(value).__name__}; store str/int/float/bool/None/list/dict "
        "(datetimes as ISO strings)"
    )


def _dump(name: str, docs: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(docs, default=_reject, option=_DUMP_OPTIONS)
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        cause = exc.__cause__ or exc
        raise TypeError(f"table {name!r}: {cause}") from exc


def _spliced(body: bytes, length: int, new: bytes) -> bytes:
    """`body` with its last `length` bytes replaced by `new`, copied once (callgrind counts
    a copy at about an instruction a byte, and a body sliced first is copied twice)."""
    return b"".join((memoryview(body)[: len(body) - length], new))


def _copy(name: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A document's own copy as JSON makes it (refusing what JSON can't hold, like `_dump`):
    several times cheaper than `copy_json` for a nested document."""
    copied: dict[str, Any] = orjson.loads(_dump(name, doc))
    return copied


def _edited(
    name: str,
    entry: _Entry | None,
    changed: Mapping[int, Mapping[str, Any] | None] | None,
    added: Iterable[Mapping[str, Any]],
    handed_over: bool,
) -> tuple[Docs, int]:
    """A table's documents after `Database.edit`'s changes (the cached ones untouched), and
    the highest id among them (0: none)."""
    docs = {} if entry is None else dict(entry.docs)
    last = 0 if entry is None else _last_id(entry)
    removed = False
    own: Callable[[str, Mapping[str, Any]], dict[str, Any]] = _as_dict if handed_over else _copy
    for doc_id, doc in (changed or {}).items():
        if doc is None:
            removed = docs.pop(str(doc_id), None) is not None or removed
        else:
            docs[str(doc_id)] = own(name, doc)
            last = max(last, int(doc_id))
    if removed:  # the highest may have gone: new ids follow the highest one left
        last = max(map(int, docs), default=0)
    for doc in added:
        last += 1
        docs[str(last)] = own(name, doc)
    return docs, last


def _last_id(entry: _Entry) -> int:
    """The highest document id of a cached table (0: none), worked out once per version:
    converting every id of a 64-entry audit block was most of the cost of appending to it."""
    if entry.last_id < 0:
        entry.last_id = max(map(int, entry.docs), default=0)
    return entry.last_id


def _takes_its_id(docs: Docs, doc_id: int) -> bool:
    """Whether a document added after removing `doc_id`, the highest id, takes that id: new
    ids follow the highest one left, so the id before it must be held (or it was the first)."""
    return doc_id == 1 or str(doc_id - 1) in docs


def _as_dict(name: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A handed-over document as it is (`_dump` of its table refuses what JSON can't hold)."""
    del name
    return doc if isinstance(doc, dict) else dict(doc)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars): far cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: copy_json(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, dict | list) else v for v in value]
    return value


class _Document(Document):
    """A TinyDB document that owns its nested values: mutating it never changes the store."""

    def __init__(self, value: Mapping[str, Any], doc_id: int) -> None:
        super().__init__(copy_json(value), doc_id)


class _Table(Table):
    """A TinyDB table over the database's cache (no query cache: the cache is ours)."""

    document_class = _Document

    def __init__(self, storage: _Storage, name: str) -> None:
        super().__init__(storage, name, cache_size=0)

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        storage = self.storage
        assert isinstance(storage, _Storage)
        try:
            super()._update_table(updater)
        except BaseException:
            # The update may have changed cached documents in place before failing.
            storage.db._forget(self.name)
            raise


@dataclasses.dataclass(frozen=True, slots=True)
class Prepared:
    """A table's next documents and body, built before the step that writes them
    (`Database.prepare`); `base` is the cached version they were built on."""

    name: str
    base: _Entry | None
    docs: dict[str, dict[str, Any]]
    body: bytes


class _Entry:
    """One cached table: its parsed documents, its body and models built from it.

    A plain class, not a dataclass: its generated `__init__` called a factory per empty
    dict, and a `/kpi set` makes about four entries (each written table's new version)."""

    __slots__ = ("body", "derived", "docs", "keyed", "last_id", "models", "one", "tail")

    def __init__(self, docs: Docs, body: bytes, last_id: int = -1, tail: int = 0) -> None:
        # (called with positional arguments on the write paths: keywords to a class cost
        # a dict built and unpacked again, ~1.4 k instructions at each table written)
        self.docs = docs
        self.body = body
        #: The length of the body's last member and closing brace (`"7":{…}}`) when this
        #: engine spliced it in itself (0: not known): `_replace_last` then swaps it without
        #: dumping the document it replaces to find it.
        self.tail = tail
        self.models: dict[type[BaseModel], tuple[BaseModel, ...]] = {}
        #: The built models by their `key` field (the first of a key wins, as a scan finds it).
        self.keyed: dict[type[BaseModel], dict[str, BaseModel]] = {}
        self.derived: dict[Callable[..., Any], Any] = {}
        #: The highest document id, once known (-1: not worked out yet; see `_last_id`).
        self.last_id = last_id
        #: Single documents `model_by_key` validated (by model and key) while the table's
        #: models are not built: None until the first (most cached tables are never asked).
        self.one: dict[tuple[type[BaseModel], str], BaseModel | None] | None = None


#: What `Database._cache.get` returns for a table not in the cache (None is a table known
#: not to exist).
_MISS: Final = _Entry({}, b"")


Derive = Callable[[Mapping[str, Mapping[str, Any]]], Any]
#: How a derived value follows documents appended to its table (`follows_appends`).
_EXTENDS: dict[Derive, Callable[[Any, Mapping[str, Mapping[str, Any]]], Any]] = {}


def follows_appends(
    derive: Callable[[Mapping[str, Mapping[str, Any]]], T],
    extend: Callable[[T, Mapping[str, Mapping[str, Any]]], T],
) -> None:
    """Declare that `extend(value, the appended documents by id)` equals `derive` of the
    whole table after an append, so `Database.derived` carries a derived value over an
    append instead of deriving it afresh from every document (a log block's summary at
    each hashtag). Any other write derives anew; `extend` must not mutate `value`."""
    _EXTENDS[derive] = extend


def _built(entry: _Entry, model: type[ModelT]) -> tuple[ModelT, ...]:
    """A cached table's documents as models, validated once per table version."""
    built = entry.models.get(model)
    if built is None:
        built = entry.models[model] = tuple(model.model_validate(d) for d in entry.docs.values())
    return built  # type: ignore[return-value]


def _by_key(models: Iterable[BaseModel]) -> dict[str, BaseModel]:
    """Models by their `key` field; a key met twice keeps its first model."""
    keyed: dict[str, BaseModel] = {}
    for built in models:
        key = getattr(built, "key", None)
        if isinstance(key, str):
            keyed.setdefault(key, built)
    return keyed


class _Observing:
    """`Database.observing()`'s block: a class, since a generator-based context manager
    costs several more calls, and every command runs in one."""

    __slots__ = ("_seen", "_token")

    def __enter__(self) -> Seen:
        seen = self._seen = Seen()
        self._token = _SEEN.set(seen)
        return seen

    def __exit__(self, *exc_info: object) -> None:
        _SEEN.reset(self._token)
        outer = _SEEN.get()
        if outer is not None:
            outer.upto = max(outer.upto, self._seen.upto)


class _Atomic:
    """`Database.atomic()`'s block: a class, since a generator-based context manager costs
    several more calls, and every mutating command runs in one."""

    __slots__ = ("_db", "_savepoint")

    def __init__(self, db: Database) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._savepoint = self._db._begin()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        self._db._end(self._savepoint, kind is not None)


def _write_jobs(jobs: queue.SimpleQueue[_Job | None], owner: weakref.ref[Database]) -> None:
    """The writer thread: write each job, then wake its loop (a loop already closed has no
    one waiting; a blocking wait on `running` settles the job instead), and when no job
    waited as it ended, or when the loop asks (`_UPKEEP`, after a transaction it ran
    itself), let the backend do its upkeep (`StoragePort`'s optional `idle`: SQLite rewinds
    its WAL there, not in a command's commit). The loop asks when nothing waits, so a job
    handed over since waits for that upkeep, as it would behind a transaction: skipped, the
    job's own commit would catch the WAL up inside it. Holds its database only while
    writing, so a database dropped unclosed is collected (and stops the thread, as a thread
    pool's would)."""
    while (job := jobs.get()) is not None:
        db = owner()
        if db is None:
            return
        if job is not _UPKEEP:
            started = time.perf_counter()
            try:
                db._write(job)
            except BaseException as exc:  # handed to the commands, as a future did
                job.error = exc
            job.took = time.perf_counter() - started
            job.running.release()
        # read before the wake: the loop may hand over its next job before we look again
        idle = getattr(db._backend, "idle", None) if job is _UPKEEP or jobs.empty() else None
        if job.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                job.loop.call_soon_threadsafe(db._written, job)
        if idle is not None and job.error is None:
            idle()  # the backend's own: it logs its failures and tries again later
        del db, job, idle


def _parsed(body: bytes | None) -> _Entry | None:
    """The cache entry of a stored body (None: the table does not exist)."""
    return None if body is None else _Entry(orjson.loads(body), body)


class _Tables(MutableMapping[str, Docs]):
    """What TinyDB sees as "all tables": loads on access, records writes as they happen."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def __getitem__(self, name: str) -> Docs:
        entry = self._db._entry(name)
        if entry is None:
            raise KeyError(name)
        return entry.docs

    def __setitem__(self, name: str, docs: Docs) -> None:
        self._db._put(name, docs)

    def __delitem__(self, name: str) -> None:
        self._db._drop(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._db._entry(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._db.table_names())

    def __len__(self) -> int:
        return len(self._db.table_names())


class _Storage(Storage):
    """The TinyDB storage: `read()` is the lazy view, `write()` has nothing left to do."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self._view = _Tables(db)

    def read(self) -> _Tables:  # type: ignore[override]  # a lazy mapping, not a dict
        """Every table, loaded when touched."""
        if self.db.closed:
            raise StoreError("the store is closed")
        return self._view

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Changes were recorded table by table as TinyDB assigned them."""


@dataclasses.dataclass(frozen=True)
class StoreStats:
    """Sizes and counters, for benchmarks and `doctor`."""

    tables: int
    cached_tables: int
    cached_bytes: int
    dirty_tables: int
    commits: int


class _Job:
    """One batch on its way to the backend (a plain class: a dataclass's `__init__` called
    a factory for each of its lock and list, at every commit)."""

    __slots__ = (
        "error",
        "loop",
        "running",
        "schema",
        "tables",
        "took",
        "upto",
        "waiters",
    )

    def __init__(self, upto: int, tables: dict[str, bytes | None], schema: int | None) -> None:
        self.upto = upto  # change number covered
        self.tables = tables
        self.schema = schema
        #: The loop of the commands waiting for it (None: written inline, not by the thread).
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Held until the writer thread is done with the job: a blocking wait acquires it.
        self.running = threading.Lock()
        self.error: BaseException | None = None  # what the backend raised
        #: One future per waiting command (cancelling one command wakes no other).
        self.waiters: list[asyncio.Future[None]] = []
        self.took = 0.0  # the backend's transaction, s (`HOLD_S`)


#: Not a job: the loop asks the writer thread for its idle upkeep (`Database._run_now`).
_UPKEEP: Final = _Job(0, {}, None)


class Database:
    """One store: TinyDB tables over a backend, made durable by `commit()`.

    Use from one event loop. Repository methods change tables synchronously; handlers then
    `await db.commit()` before acknowledging. Never `await` inside `atomic()`.
    """

    def __init__(self, backend: StoragePort, path: Path | None = None) -> None:
        """Use `Database.open` (or pass an already locked backend)."""
        self.path = path
        self._backend = backend
        self._storage = _Storage(self)
        self._cache: OrderedDict[str, _Entry | None] = OrderedDict()
        self._cache_bytes = 0
        #: Prefixes ("mix:<chat>:") whose every table is in the cache: a name under one that
        #: is not cached does not exist, without asking the backend.
        self._complete: set[str] = set()
        #: Every stored table is in the cache (a start-up `warm()` walked them all and
        #: nothing was evicted or forgotten since): a name not cached does not exist.
        self._all_cached = False
        #: Every stored table named up to this (inclusive) is in the cache: how far a
        #: `warm()` that stopped at its share got (a name before it not cached does not
        #: exist); reset when the cache drops a table.
        self._warmed_to = ""
        self._dropped = 0  # tables evicted from or forgotten by the cache so far
        #: A changed table (unsaved or being saved) left the cache since the changes were
        #: last all saved: only then can a changed table be missing from the cache.
        self._changed_uncached = False
        self._dirty: dict[str, bytes | None] = {}
        self._inflight: dict[str, bytes | None] = {}
        self._lazy_prefixes: tuple[str, ...] = ()
        #: Summaries of other tables (`summarises`): source kinds → the summary a change drops.
        self._summaries: list[tuple[tuple[str, ...], Callable[[str], str]]] = []
        self._summarised: tuple[str, ...] = ()  # every source kind, for one quick test
        self._savepoints: list[dict[str, tuple[bool, bytes | None]]] = []
        self._seq = 0  # changes made (lazy ones excluded): commit() waits for this many
        self._durable = 0  # changes known to be on disk
        #: Changes numbered (after, upto] that failed commits rolled back, oldest first: a
        #: command may ask for its commit after several more commits failed or succeeded
        #: (it awaited in between), and must still hear that its change was lost.
        #: Failures with no success between them share one range (a full disk adds none).
        self._lost_after: list[int] = []
        self._lost_upto: list[int] = []
        self._job: _Job | None = None
        self._lazy_timer: asyncio.TimerHandle | None = None
        self._lazy_tasks: set[asyncio.Task[None]] = set()
        self._last_error = ""
        self._schema: int | None = None  # to record with the next batch
        #: Jobs for the writer thread (None: stop); a memory backend writes inline.
        self._jobs: queue.SimpleQueue[_Job | None] | None = (
            queue.SimpleQueue() if backend.durable else None
        )
        self._writer: threading.Thread | None = None  # started with the first job
        #: The backend, when the loop may run a lone transaction itself (`_run_now`).
        self._now: CommitsNow | None = (
            backend if backend.durable and isinstance(backend, CommitsNow) else None
        )
        #: Quick transactions the writer thread must still see in a row before the loop runs
        #: one again (`HOLD_S`, `QUICK_AGAIN`): 0, the loop may run the next.
        self._slow_left = 0
        self.commits = 0
        #: Commits the disk refused: a job spanning awaits (the sweep) compares it before
        #: and after, since a refused commit rolls back changes of steps it already took.
        self.failed_commits = 0
        #: Atomic blocks rolled back so far (`Holding` notices one inside its block).
        self.rollbacks = 0
        self.closed = False
        #: Schema of the data as found; `storage.migrations` brings it up to date.
        self.stored_schema = backend.schema_version()

    @classmethod
    def open(cls, path: Path | None, *, checkpoint_pages: int = 1000) -> Database:
        """Open (creating if needed) the SQLite store in directory `path`; None = memory.

        `checkpoint_pages`: WAL size (pages) at which SQLite copies it into the database.
        Raises `StoreLocked` or `StoreCorrupt` without changing anything. Opening through
        `storage.open_store` also migrates old data; this is the bare engine.
        """
        if path is None:
            return cls(MemoryBackend())
        from storage.sqlite import SqliteBackend

        backend = SqliteBackend(path, checkpoint_pages=checkpoint_pages)
        backend.lock()
        return cls(backend, path)

    @property
    def changes(self) -> int:
        """Table writes made so far (lazy ones excluded): what `commit()` waits for."""
        return self._seq

    @property
    def backend(self) -> StoragePort:
        """The port under this database (for migrations and checks, not repositories)."""
        return self._backend

    # tables -----------------------------------------------------------------------------

    def table(self, name: str) -> Table:
        """The TinyDB table `name` (created on first write)."""
        return _Table(self._storage, name)

    def table_names(self, prefix: str = "") -> set[str]:
        """Names of the existing tables starting with `prefix`."""
        self._check_open()
        names = set(self._backend.names(prefix))
        for changes in (self._inflight, self._dirty):
            for name, body in changes.items():
                if name.startswith(prefix):
                    self._saw()
                    if body is None:
                        names.discard(name)
                    else:
                        names.add(name)
        return names

    def drop_table(self, name: str) -> None:
        """Delete a table and its documents."""
        self._drop(name)

    def known_absent(self, names: Iterable[str]) -> None:
        """Remember tables the caller knows are not stored as absent, as a load on demand
        would find them, without asking the backend: a log's block numbered past every one
        it held, about to be opened (an audit block every `AUDIT_BLOCK` commands was a query
        on the loop thread for a table that cannot exist). Tables with unsaved changes or
        cached are left as they are."""
        self._check_open()
        for name in names:
            if name not in self._cache and name not in self._dirty and name not in self._inflight:
                self._remember(name, None)

    def put_table(self, name: str, docs: Mapping[int, Mapping[str, Any]]) -> None:
        """Replace a table's documents (ids kept), e.g. to move or migrate it whole."""
        self._put(name, {str(doc_id): dict(doc) for doc_id, doc in docs.items()}, owned=False)

    def append(self, name: str, docs: Iterable[Mapping[str, Any]]) -> None:
        """Add documents under the next ids (as TinyDB's insert numbers them), without
        TinyDB's round trip that converts every id of the table twice: a log's hot path."""
        self.edit(name, added=docs)

    def edit(
        self,
        name: str,
        changed: Mapping[int, Mapping[str, Any] | None] | None = None,
        added: Iterable[Mapping[str, Any]] = (),
        *,
        handed_over: bool = False,
    ) -> None:
        """Replace documents by id (None removes one), then add `added` under the next ids:
        what TinyDB's update, remove and insert do, in one write of the table and without
        their round trips that convert every id of the table twice (a `/kpi set` made
        three of them). Ids keep their places; new ids follow the highest one left.

        `handed_over`: the caller built the documents for this and never touches them
        again, so they are kept without a copy (an import's 300 000 values)."""
        entry = self._entry(name)
        if not changed and entry is not None and entry.docs:
            self._append(name, entry, added, handed_over)
        elif not (
            changed
            and entry is not None
            and len(changed) == 1
            and isinstance(added, list | tuple)
            and len(added) == 1
            and self._replace_last(name, entry, changed, added[0], handed_over)
        ):
            docs, last = _edited(name, entry, changed, added, handed_over)
            self._put(name, docs, last_id=last, old=entry)

    def _replace_last(
        self,
        name: str,
        entry: _Entry,
        changed: Mapping[int, Mapping[str, Any] | None],
        doc: Mapping[str, Any],
        handed_over: bool,
    ) -> bool:
        """`edit` that removes the table's last document and adds `doc`, when the new one
        takes the removed one's id (the id before it is held, or it was the first): the
        body's last member is swapped for `doc`'s JSON, which is what dumping the table
        gives, byte for byte, without dumping its other documents (a `/kpi set` replacing
        today's value, stored last in its month shard). False, nothing written, for any
        other edit (`edit` then places the documents the general way)."""
        [(doc_id, removed)] = changed.items()
        docs = entry.docs
        key = str(doc_id)
        if (
            removed is not None
            or key != next(reversed(docs), None)
            or _last_id(entry) != doc_id
            or not _takes_its_id(docs, doc_id)
        ):
            return False
        body = entry.body
        old = entry.tail  # the last member's length, when this engine spliced it in
        if not old:  # else found by dumping the document it replaces
            member = b'"%s":%s}' % (key.encode(), _dump(name, docs[key]))
            if not body.endswith(member):
                return False
            old = len(member)
        raw = _dump(name, doc)  # first: a TypeError must change nothing
        new = b'"%s":%s}' % (key.encode(), raw)
        if len(new) == old and body.endswith(new):
            return True  # the same document: nothing to write, as `_put` finds
        docs = dict(docs)
        docs[key] = _as_dict(name, doc) if handed_over else orjson.loads(raw)
        body = _spliced(body, old, new)
        self._change(name, body)
        self._remember(name, _Entry(docs, body, doc_id, len(new)))  # (last_id, tail)
        return True

    def _append(
        self, name: str, entry: _Entry, added: Iterable[Mapping[str, Any]], handed_over: bool
    ) -> None:
        """`edit` that only adds to a table: the new body is the stored one with the new
        documents' JSON spliced in before its closing brace (what dumping the whole table
        gives, byte for byte), so a `/kpi set` does not re-serialise its month shard and
        audit block to add one document to each."""
        docs = dict(entry.docs)
        next_id = first_id = (entry.last_id if entry.last_id >= 0 else _last_id(entry)) + 1
        parts = []
        for doc in added:
            raw = _dump(name, doc)  # first: a TypeError must change nothing
            if not handed_over:
                doc = orjson.loads(raw)
            elif not isinstance(doc, dict):  # `_as_dict`, spared a call per document
                doc = dict(doc)
            docs[str(next_id)] = doc
            parts.append(b'"%d":%s' % (next_id, raw))
            next_id += 1
        if parts:
            # one copy of the stored body (`_spliced`), not a slice of it formatted again
            body = _spliced(entry.body, 1, b",%s}" % b",".join(parts))
            appended = _Entry(docs, body, next_id - 1, len(parts[-1]) + 1)  # (last_id, tail)
            if entry.derived:  # carried over where declared (`follows_appends`)
                new = {str(i): docs[str(i)] for i in range(first_id, next_id)}
                for derive, value in entry.derived.items():
                    extend = _EXTENDS.get(derive)
                    if extend is not None:
                        appended.derived[derive] = extend(value, new)
            self._change(name, body)
            self._remember(name, appended)

    def put_single(self, name: str, doc: dict[str, Any]) -> None:
        """Make `doc` the one document of table `name` (id 1), handed over (never touched
        again: kept without a copy), no write when unchanged: `edit(name, {1: doc},
        handed_over=True)` of a one-document table without placing ids (a KPI's value
        index, at every `/kpi set`). Another table is edited so."""
        entry = self._entry(name)
        if entry is not None and (len(entry.docs) != 1 or "1" not in entry.docs):
            self.edit(name, {1: doc}, handed_over=True)
            return
        docs = {"1": doc}
        body = _dump(name, docs)  # first: a TypeError must change nothing
        if entry is None or entry.body != body:
            self._change(name, body)
            self._remember(name, _Entry(docs, body, 1))  # last_id

    def prepare(
        self,
        name: str,
        changed: Mapping[int, Mapping[str, Any] | None] | None = None,
        added: Iterable[Mapping[str, Any]] = (),
        *,
        handed_over: bool = False,
    ) -> Prepared:
        """What `edit` would store, built and serialised but not written: a big job (an
        import) prepares its tables in slices, other commands running in between, and
        `install`s them all in its one atomic step."""
        entry = self._entry(name)
        docs, _ = _edited(name, entry, changed, added, handed_over)
        return Prepared(name, entry, docs, _dump(name, docs))

    def install(self, prepared: Prepared) -> bool:
        """Write a prepared table if the table is still the version it was built on (True);
        False when it changed (or left the cache) meanwhile: nothing is written, and the
        caller edits it afresh."""
        entry = self._entry(prepared.name)
        if entry is not prepared.base:
            return False
        if entry is None or entry.body != prepared.body:
            self._change(prepared.name, prepared.body)
            self._remember(prepared.name, _Entry(prepared.docs, prepared.body))
        return True

    def docs(self, name: str) -> Mapping[str, Mapping[str, Any]]:
        """A table's raw documents by id, read-only and uncopied: for a repository's hot
        reads of its own tables. Never mutate what it returns."""
        entry = self._entry(name)
        return {} if entry is None else entry.docs

    def models(self, name: str, model: type[ModelT]) -> list[ModelT]:
        """The table's documents as (frozen) models, validated once per table version."""
        entry = self._entry(name)
        return [] if entry is None else list(_built(entry, model))

    def first_model(self, name: str, model: type[ModelT]) -> ModelT | None:
        """`models(name, model)[0]` (None: no documents), without copying the list: a
        one-document table's model (settings and thresholds, read at every command)."""
        entry = self._entry(name)
        if entry is None:
            return None
        built = _built(entry, model)
        return built[0] if built else None

    def model_by_key(self, name: str, model: type[ModelT], key: str) -> ModelT | None:
        """The document whose `key` field is `key`, as a model: from the table's models when
        they are built, else only that document is validated (a sweep reading one KPI of
        each of 500 chats need not validate all their KPIs)."""
        entry = self._entry(name)
        if entry is None:
            return None
        keyed = entry.keyed.get(model)
        if keyed is not None:
            return keyed.get(key)  # type: ignore[return-value]
        built = entry.models.get(model)
        if built is not None:
            # Built once per table version, like the models: a `/kpi set` looked its KPI up
            # by scanning the chat's 50 models.
            keyed = entry.keyed[model] = _by_key(built)
            return keyed.get(key)  # type: ignore[return-value]
        # Validated once per table version too: every `/kpi set` looks its KPI up, and a
        # set alone never builds the chat's models.
        one = entry.one
        if one is None:
            one = entry.one = {}
        found = one.get((model, key), _MISS)
        if found is _MISS:
            doc = next((d for d in entry.docs.values() if d.get("key") == key), None)
            found = one[model, key] = None if doc is None else model.model_validate(doc)
        return found  # type: ignore[return-value]

    def derived(self, name: str, derive: Callable[[Mapping[str, Mapping[str, Any]]], T]) -> T:
        """`derive(documents by id)` computed once per table version, so a hot read that
        changed nothing pays neither parsing nor the derivation again (e.g. a shard's values
        in time order as plain tuples, which the garbage collector does not have to scan).

        `derive` must be a module-level function (it keys the cache); never mutate its result.
        One declared with `follows_appends` is carried over appends to the table.
        """
        entry = self._entry(name)
        if entry is None:
            return derive({})
        if derive not in entry.derived:
            entry.derived[derive] = derive(entry.docs)
        return entry.derived[derive]  # type: ignore[no-any-return]

    def set_schema(self, version: int) -> None:
        """Record `version` as the stored schema with the next commit (migrations)."""
        self._schema = version
        self.stored_schema = version
        self._seq += 1  # a flush must now write, and report a failure

    def prefetch(self, prefix: str) -> None:
        """Load every table under `prefix` (ending in ":") with one backend query.

        A repository about to read many small tables of one chat (a KPI index each, the
        alert-state buckets) calls this first; afterwards a missing table under the
        prefix is known not to exist.
        """
        self._check_open()
        past = past_prefix(prefix)
        if (
            prefix in self._complete
            or prefix[: prefix.find(":") + 1] in self._complete  # its kind was preloaded
            or self._all_cached
            or past <= self._warmed_to
        ):
            return
        stored: dict[str, bytes | None] = dict(self._backend.load_prefix(prefix))
        if self._changed_uncached:  # a changed table may be missing from the cache
            for changes in (self._inflight, self._dirty):
                stored.update((n, b) for n, b in changes.items() if n.startswith(prefix))
        else:  # every changed table is cached: only stored ones may need their newest body
            # (a sweep's many unsaved tables are not scanned for each chat it looks at)
            for name in stored:
                if name in self._dirty or name in self._inflight:
                    stored[name] = self._body(name)
        for name, body in stored.items():
            if name not in self._cache:
                self._remember(name, _parsed(body))
        if all(name in self._cache for name in stored):  # none evicted meanwhile
            self._complete.add(prefix)

    def preload(
        self, kinds: Iterable[str], *, step: int = WARM_STEP, share: float = WARM_SHARE
    ) -> Iterator[str]:
        """Load every stored table of each kind (a `<kind>:` prefix), `step` per range query,
        yielding after each table (its name), so a caller can stop for the loop by time
        whatever the tables' sizes: the first sweep after a start reads a few tables of
        every kind for every chat, many of them absent, and one query per table (or per
        chat and kind) cost as much as the parsing. A kind fully loaded is marked
        complete, so a name of it not cached does not exist. Stops, leaving the rest to
        load on demand, when the cache would be more than `share` full or a table leaves
        it meanwhile (between yields the caller may let commands change tables).
        """
        self._check_open()
        dropped_before = self._dropped
        for kind in kinds:
            after = kind
            past = past_prefix(kind)
            # Every changed table was in the cache at each range query of the kind: else one
            # the cache let go of unsaved may be saved after the query, in neither the rows
            # nor the unsaved changes below, and must not be taken for absent.
            exact = True
            while not self._all_cached and kind not in self._complete:
                exact = exact and not self._changed_uncached
                # bounded to the kind: no rows of the next kinds read and dropped (a kind
                # with no table, or the last query of one, read `step` rows of others)
                rows = self._backend.load_after(after, step, past)
                for name, body in rows:
                    if self._dropped != dropped_before or self.closed:
                        return
                    if name in self._cache:
                        continue
                    if (
                        len(self._cache) >= CACHE_TABLES * share
                        or self._cache_bytes + len(body) > CACHE_BYTES * share
                    ):
                        return
                    changed = name in self._dirty or name in self._inflight
                    self._remember(name, _parsed(self._body(name) if changed else body))
                    yield name
                if len(rows) == step:
                    after = rows[-1][0]
                    continue
                for changes in (self._inflight, self._dirty):  # changed, maybe not stored
                    for name, unsaved in list(changes.items()):
                        if name.startswith(kind) and name not in self._cache:
                            self._remember(name, _parsed(unsaved))
                if self._dropped != dropped_before:
                    return
                if exact:
                    self._complete.add(kind)
                yield kind
                break

    async def warm(self, *, step: int = WARM_STEP, share: float = WARM_SHARE) -> int:
        """Load stored tables into the cache, `step` tables per loop turn, in name order.

        Started in the background after start-up, so the first full sweep (and the first
        command of each chat) reads memory, not one small disk read per table. Yields
        between steps, so commands go first; stops when the cache would be more than
        `share` full (the working set is never evicted for it). Returns tables loaded.
        """
        after, loaded, dropped_before = "", 0, self._dropped
        exact = True  # every changed table was cached at each query (see `preload`)
        while not self.closed:
            exact = exact and not self._changed_uncached
            rows = self._backend.load_after(after, step)
            if not rows:
                self._all_cached = exact and self._dropped == dropped_before
                break
            for name, body in rows:
                if name in self._cache:
                    continue
                if (
                    len(self._cache) >= CACHE_TABLES * share
                    or self._cache_bytes + len(body) > CACHE_BYTES * share
                ):
                    return loaded
                if exact and self._dropped == dropped_before:
                    self._warmed_to = name  # every name before it was loaded or skipped
                newest = (
                    self._body(name) if name in self._dirty or name in self._inflight else body
                )
                self._remember(name, _parsed(newest))
                loaded += 1
            after = rows[-1][0]
            if exact and self._dropped == dropped_before:
                self._warmed_to = after
            # The cache is long-lived: frozen, the collector's full collections never
            # re-scan it (unfrozen, one took ~250 ms inside a warm step on 25 000 tables).
            gc_policy.keep_long_lived()
            await asyncio.sleep(0)
        return loaded

    def mark_lazy(self, prefix: str) -> None:
        """Changes to tables starting with `prefix` need not be waited for (see module)."""
        self._lazy_prefixes = (*self._lazy_prefixes, prefix)

    def summarises(self, sources: tuple[str, ...], summary_of: Callable[[str], str]) -> None:
        """Tables named `summary_of(source)` summarise the tables of the `sources` kinds: any
        change to a source table drops its summary in the same step (and so in the same
        transaction, and a rolled-back step brings both back), whichever write path made
        it. A summary found stored is therefore never older than its sources."""
        self._summaries.append((sources, summary_of))
        self._summarised = (*self._summarised, *sources)

    # cache ------------------------------------------------------------------------------

    def _body(self, name: str) -> bytes | None:
        """The newest body of `name`: unsaved, being saved, or stored."""
        for changes in (self._dirty, self._inflight):
            if name in changes:
                return changes[name]
        return self._backend.load(name)

    def _entry(self, name: str) -> _Entry | None:
        """Table `name` from the cache, loaded on a miss (None: it does not exist). Every
        read and write of a table comes through here, so this is where a closed store
        refuses them: closing empties the cache, and a miss checks."""
        if name in self._dirty or name in self._inflight:
            seen = _SEEN.get()  # `_saw`, spared a call (about 26 lookups a `/kpi set`)
            if seen is not None:
                seen.upto = self._seq
        entry = self._cache.get(name, _MISS)
        if entry is not _MISS:
            self._cache.move_to_end(name)
            return entry
        self._check_open()
        if (
            self._all_cached
            or name <= self._warmed_to
            or (
                self._complete
                and (
                    name[: name.rfind(":") + 1] in self._complete
                    or name[: name.find(":") + 1] in self._complete  # a whole kind (preload)
                )
            )
        ):
            return None
        body = self._body(name)
        entry = _parsed(body)
        self._remember(name, entry)
        return entry

    def _remember(self, name: str, entry: _Entry | None) -> None:
        old = self._cache.pop(name, None)
        if old is not None:
            self._cache_bytes -= len(old.body)
        self._cache[name] = entry
        if entry is not None:
            self._cache_bytes += len(entry.body)
        while len(self._cache) > CACHE_TABLES or (
            self._cache_bytes > CACHE_BYTES and len(self._cache) > 1
        ):
            evicted, dropped = self._cache.popitem(last=False)
            self._all_cached = False
            self._warmed_to = ""
            self._dropped += 1
            self._note_uncached(evicted)
            if dropped is not None:
                self._cache_bytes -= len(dropped.body)
            self._incomplete(evicted)

    def _forget(self, name: str) -> None:
        """Drop a cached table; the next read loads its newest body again."""
        entry = self._cache.pop(name, None)
        if entry is not None:
            self._cache_bytes -= len(entry.body)
        self._all_cached = False
        self._warmed_to = ""
        self._dropped += 1
        self._note_uncached(name)
        self._incomplete(name)

    def _incomplete(self, name: str) -> None:
        """`name` left the cache: neither its prefix nor its kind is wholly cached now."""
        self._complete.discard(name[: name.rfind(":") + 1])
        self._complete.discard(name[: name.find(":") + 1])

    def _note_uncached(self, name: str) -> None:
        if name in self._dirty or name in self._inflight:
            self._changed_uncached = True

    # changes ----------------------------------------------------------------------------

    def _put(
        self,
        name: str,
        docs: Docs,
        *,
        owned: bool = True,
        last_id: int = -1,
        old: _Entry | None = _MISS,
    ) -> None:
        """Store `docs` as the table (`owned=False`: the caller keeps them, so the cache
        keeps its own copy, parsed back from the body: cheaper than copying and exactly
        what a restart would read; `last_id`: their highest id, when the caller knows it;
        `old`: the table's entry as the caller just looked it up, not looked up again)."""
        body = _dump(name, docs)  # first: a TypeError must change nothing
        if old is _MISS:
            old = self._entry(name)
        if old is not None and old.body == body:
            if owned:
                old.docs = docs  # same content; TinyDB hands us a new dict
            return
        self._change(name, body)
        self._remember(name, _Entry(docs if owned else orjson.loads(body), body, last_id))

    def _drop(self, name: str) -> None:
        if self._entry(name) is None:
            return
        self._change(name, None)
        self._remember(name, None)

    def _change(self, name: str, body: bytes | None) -> None:
        if self.closed:  # spares the call on every write
            self._check_open()
        for savepoint in self._savepoints:
            savepoint.setdefault(name, (name in self._dirty, self._dirty.get(name)))
        self._dirty[name] = body
        if self._summarised and name.startswith(self._summarised):
            self._drop_summaries(name)
        if self._lazy_prefixes and name.startswith(self._lazy_prefixes):
            self._arm_lazy()
        else:
            self._seq += 1
            seen = _SEEN.get()  # `_saw`, spared a call on every write
            if seen is not None:
                seen.upto = self._seq

    def _drop_summaries(self, name: str) -> None:
        for sources, summary_of in self._summaries:
            if name.startswith(sources):
                self._drop(summary_of(name))

    def _saw(self) -> None:
        """The running command depends on every change made so far (it made or read one
        that is not durable yet)."""
        seen = _SEEN.get()
        if seen is not None:
            seen.upto = self._seq

    def observing(self) -> AbstractContextManager[Seen]:
        """Track what the command run in the block depends on, for `commit(seen)`.

        Nested blocks hand what they saw to the outer one.
        """
        return _Observing()

    def atomic(self) -> AbstractContextManager[None]:
        """All table changes in the block apply, or (if it raises) none do.

        The block must not `await`: it is atomic because nothing else runs on the loop.
        Nested blocks roll back to their own start. On disk the block is all-or-nothing
        too, because a commit is one transaction.
        """
        return _Atomic(self)

    def untouched(self, names: Iterable[str]) -> bool:
        """Whether none of the tables `names` was written in the innermost open `atomic()`
        block so far (False outside one): what a step read of them at its start still
        holds (the router's audited step keeps where its entry goes)."""
        savepoints = self._savepoints
        if not savepoints:
            return False
        return savepoints[-1].keys().isdisjoint(names)

    def _begin(self) -> dict[str, tuple[bool, bytes | None]]:
        """Open an atomic block: its savepoint records each table's state before the
        block's first change to it (`_change`)."""
        self._check_open()
        savepoint: dict[str, tuple[bool, bytes | None]] = {}
        self._savepoints.append(savepoint)
        return savepoint

    def _end(self, savepoint: dict[str, tuple[bool, bytes | None]], failed: bool) -> None:
        """Close an atomic block, putting back what it changed when it `failed`."""
        try:
            if failed:
                self.rollbacks += 1
                for name, (was_dirty, body) in savepoint.items():
                    if was_dirty:
                        self._dirty[name] = body
                    else:
                        self._dirty.pop(name, None)
                    self._forget(name)
        finally:
            # By identity: savepoints of nested blocks are often equal (empty, or holding
            # the same tables), and removing an equal one left the outer block with the
            # inner one's record, so its rollback missed what it changed afterwards.
            savepoints = self._savepoints
            at = len(savepoints) - 1
            while savepoints[at] is not savepoint:
                at -= 1
            del savepoints[at]

    # durability -------------------------------------------------------------------------

    def commit(self, seen: Seen | None = None) -> Coroutine[Any, Any, None]:
        """Return once every change made before the call is durable (with `seen`: every
        change the command observed by it made or read unsaved).

        Callers that commit together share one transaction; a read-only command returns at
        once. Raises `StoreFailed` when the disk refused the batch holding our changes
        (they were rolled back; later commits try again). Returns the coroutine that waits
        rather than being one: each level of coroutines is resumed at every suspension.
        """
        return self._commit_upto(self._seq if seen is None else min(seen.upto, self._seq))

    def _was_lost(self, target: int) -> bool:
        if not self._lost_upto:  # nothing ever failed: the usual case, checked per commit
            return False
        at = bisect.bisect_left(self._lost_upto, target)
        return at < len(self._lost_upto) and self._lost_after[at] < target

    async def _commit_upto(self, target: int) -> None:
        self._check_usable()
        while self._durable < target and not self._was_lost(target):
            job = self._job
            if job is None and self._jobs is None:
                self._run(self._take_job())
                continue
            loop = asyncio.get_running_loop()
            if job is None:
                if not loop_idle(loop):
                    # let the commands ready to run in this loop turn join the batch
                    await asyncio.sleep(0)
                    if self._job is not None or self._durable >= target or self._was_lost(target):
                        continue
                # (nothing else ready: none could join, and the turn costs a whole loop step,
                # an epoll and a resume of the command's coroutines, at every lone command)
                job = self._take_job()
                if (
                    not self._slow_left
                    and self._now is not None
                    and len(job.tables) <= INLINE_TABLES
                    and quiet_for(loop, HOLD_S) > 0
                    and self._run_now(job, self._now)
                ):
                    continue
                self._job = job
                self._submit(job)
            if job.loop is not loop:  # handed over by an earlier loop, now gone
                self._wait_for_writer()
                continue
            waiter = loop.create_future()
            job.waiters.append(waiter)
            await waiter  # `_written` settles the job first, then wakes its waiters
        if self._was_lost(target):
            raise self._failed()

    def flush(self) -> None:
        """Blocking `commit` for scripts, migrations and shutdown."""
        self._check_usable()
        self._wait_for_writer()
        if self._dirty or self._schema is not None:
            job = self._take_job()
            self._run(job)
            if self._was_lost(job.upto):
                raise self._failed()

    def _take_job(self) -> _Job:
        job = _Job(self._seq, self._dirty, self._schema)
        self._dirty = {}
        self._schema = None
        self._inflight = job.tables
        return job

    def _write(self, job: _Job) -> None:
        """The backend transaction (on the writer thread; on the caller's for memory and a
        blocking flush)."""
        self._backend.commit(Batch(job.tables, job.schema))

    def _run_now(self, job: _Job, backend: CommitsNow) -> bool:
        """Write `job` on the loop's thread and settle it (True), if the backend can start
        it at once; False, nothing done: it cannot (the writer thread's idle rewind has
        the connection), so the writer thread takes the job. Asks the writer thread for
        its idle moment when the backend has upkeep waiting (once per background
        checkpoint), so the WAL still rewinds off the commands' path."""
        started = time.perf_counter()
        try:
            if not backend.commit_now(Batch(job.tables, job.schema)):
                return False
        except Exception as exc:
            job.error = exc
        job.took = time.perf_counter() - started
        self._settle(job, job.error)
        if job.error is None and backend.upkeep_due():
            self._hand(_UPKEEP)
        return True

    def _submit(self, job: _Job) -> None:
        """Hand `job` to the writer thread. A plain queue, a lock and one callback back to
        the loop: a thread pool's future wrapped for asyncio and shielded cost about 40
        Python calls per commit, between both threads, for the same guarantees."""
        job.loop = asyncio.get_running_loop()
        job.running.acquire()
        self._hand(job)

    def _hand(self, job: _Job) -> None:
        """Queue `job` for the writer thread, started at the first."""
        assert self._jobs is not None
        if self._writer is None:
            jobs = self._jobs
            owner = weakref.ref(self, lambda _: jobs.put(None))
            self._writer = threading.Thread(
                target=_write_jobs, args=(jobs, owner), name="store-writer", daemon=True
            )
            self._writer.start()
        self._jobs.put(job)

    def _written(self, job: _Job) -> None:
        """On the loop, once the writer thread is done with `job`: settle it (unless a
        blocking wait already did), then wake the commands waiting for it."""
        try:
            if self._job is job:
                self._settle(job, job.error)
        finally:
            for waiter in job.waiters:
                if not waiter.done():  # a cancelled command's future is done
                    waiter.set_result(None)

    def _run(self, job: _Job) -> None:
        """Write a job on this thread and settle it."""
        try:
            self._write(job)
        except Exception as exc:
            self._settle(job, exc)
        else:
            self._settle(job, None)

    def _wait_for_writer(self) -> None:
        """Block until the job on the writer thread is done, and settle it."""
        job = self._job
        if job is None or job.loop is None:
            return
        with job.running:  # released by the writer thread once the backend returned
            pass
        if self._job is job:
            self._settle(job, job.error)

    def _settle(self, job: _Job, exc: BaseException | None) -> None:
        if self._job is job:
            self._job = None
        self._inflight = {}
        if job.took > HOLD_S:
            self._slow_left = QUICK_AGAIN
        elif self._slow_left:
            self._slow_left -= 1
        if not self._dirty:
            self._changed_uncached = False
        if exc is None:
            self._durable = max(self._durable, job.upto)
            self.commits += 1
            return
        # Everything not on disk goes back to what is: the batch that failed and every
        # change made since (it may build on the failed one).
        _LOGGER.error("store write failed: %s", exc)
        self.failed_commits += 1
        for name in [*job.tables, *self._dirty]:
            self._forget(name)
        self._dirty = {}
        # Tell the commands whose changes went (numbers up to now); later commands, reads
        # included, start afresh: their own changes are what their commit waits for.
        if self._lost_upto and self._lost_upto[-1] + 1 == self._durable:
            self._lost_upto[-1] = self._seq  # nothing was saved since the last failure
        else:
            self._lost_after.append(self._durable)
            self._lost_upto.append(self._seq)
        self._seq += 1
        self._durable = self._seq
        self._last_error = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)

    def _failed(self) -> StoreFailed:
        """A fresh error each time: nothing accumulates while the disk stays full."""
        return StoreFailed(self.path or Path("memory"), OSError(self._last_error))

    def _arm_lazy(self) -> None:
        """Make sure lazy changes reach the disk soon even if no real commit comes."""
        if self._lazy_timer is not None or self._jobs is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a script): flush() or close() saves them
        self._lazy_timer = loop.call_later(LAZY_DELAY_S, self._lazy_commit)

    def _lazy_commit(self) -> None:
        self._lazy_timer = None
        if self._dirty and not self.closed and not self._savepoints:
            self._seq += 1  # make the lazy changes something a commit waits for
            task = asyncio.get_running_loop().create_task(self._quiet_commit(self._seq))
            self._lazy_tasks.add(task)
            task.add_done_callback(self._lazy_tasks.discard)

    async def _quiet_commit(self, target: int) -> None:
        with contextlib.suppress(StoreError):
            await self._commit_upto(target)

    def close(self) -> None:
        """Save what is unsaved and release the store."""
        if self.closed:
            return
        try:
            with contextlib.suppress(StoreError):
                if not self._savepoints:
                    self.flush()
        finally:
            self.closed = True
            if self._lazy_timer is not None:
                self._lazy_timer.cancel()
            if self._writer is not None:
                assert self._jobs is not None
                self._jobs.put(None)
                self._writer.join()
                self._writer = None
            self._backend.close()
            self._cache.clear()
            self._complete.clear()
            self._warmed_to = ""

    async def aclose(self) -> None:
        """`close` after the last commit finished on the loop."""
        if not self.closed:
            with contextlib.suppress(StoreError):
                await self.commit()
        self.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stats(self) -> StoreStats:
        """Current sizes and counters."""
        return StoreStats(
            tables=len(self.table_names()) if not self.closed else 0,
            cached_tables=len(self._cache),
            cached_bytes=self._cache_bytes,
            dirty_tables=len(self._dirty),
            commits=self.commits,
        )

    # guards -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise StoreError("the store is closed; changes can no longer be saved")

    def _check_usable(self) -> None:
        self._check_open()
        if self._savepoints:
            raise RuntimeError(
                "commit()/flush() inside atomic(): an atomic block must not await or save"
            )

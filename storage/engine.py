"""Durable TinyDB engine: all tables live in memory, every change is journalled and fsynced.

Why not TinyDB's `JSONStorage`: it re-parses the whole file on every read and rewrites it
(in place, not atomically) on every write, so writes cost O(database) and a kill mid-write
leaves a file that no longer loads.

Design:

* `JournalStorage` is a TinyDB `Storage` whose `read()` returns the live dict. TinyDB's
  `Table._update_table` replaces the touched table with a new dict and calls `write()`; our
  `Table` subclass names that table first, so `write()` serializes just that table (orjson)
  into one framed line and queues it. Unchanged tables cost nothing.
* On disk (one data directory, one owning process, guarded by `flock` on `store.lock`):
  `store.snapshot` holds every table at generation G (written to a temp file, fsynced,
  renamed, directory fsynced); `store.journal` holds a header for generation G plus one
  full-table put or drop per change since. Records are whole-table images, so replay is
  "last record per table wins" and only the final image of each table is parsed.
* Every line is ``<crc32 hex>\\t<body>\\n``. Each journal batch ends with a line holding
  its record count, length and CRC, so a batch (hence an `atomic()` block) is applied
  whole or not at all. A damaged or unfinished *last* batch is a torn write from a crash:
  ignored and cut off. Damage followed by a complete batch is corruption: refused.
* The journal file is kept ahead of its data with zeros, so a commit overwrites blocks
  that already exist and fdatasync does not also have to commit a size change.
* `Database.commit()` makes everything written so far durable. Callers that arrive while a
  write is in flight share the next one (group commit). On a fast disk the write+fdatasync
  runs on the loop (a thread hop would cost as much as the fsync); when fsyncs get slow,
  and for snapshots, it runs on one dedicated writer thread so the loop keeps serving.
  Either way batches reach the disk in the order they were taken.
* When the journal passes `compact_bytes` the pending batch is written as a new snapshot
  (from the cached per-table lines, no re-serialization) and a fresh journal replaces the
  old one. A journal older than the snapshot is ignored on load, so a kill between the two
  renames is harmless.

Rules for callers (repositories): keep tables small by sharding (a record is a whole
table), never mutate a document's nested values in place (use `update`), never `await`
inside `atomic()`, and `await db.commit()` before telling the user "saved".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import errno
import fcntl
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from storage.errors import SchemaTooNew, StoreCorrupt, StoreError, StoreFailed, StoreLocked

__all__ = [
    "DEFAULT_COMPACT_BYTES",
    "DEFAULT_INLINE_FSYNC_BELOW",
    "SCHEMA_VERSION",
    "Database",
    "JournalStorage",
    "StoreStats",
]

_LOGGER = logging.getLogger(__name__)

#: Version of the data layout inside the files. Bump it (and write a migration) whenever
#: the shape of stored tables changes; older binaries then refuse the directory.
SCHEMA_VERSION: Final = 1
#: fsync time under which `commit()` writes on the loop thread instead of the writer
#: thread: a thread hop costs about as much as an SSD fdatasync (~0.1 ms each here), and
#: blocking the loop for well under a millisecond is harmless. Slower disks use the thread.
DEFAULT_INLINE_FSYNC_BELOW: Final = 0.001
#: Journal size that triggers a snapshot. Big enough to amortize rewriting the snapshot,
#: small enough that replay on start stays well under a second.
DEFAULT_COMPACT_BYTES: Final = 8 * 1024 * 1024

SNAPSHOT_FILE: Final = "store.snapshot"
JOURNAL_FILE: Final = "store.journal"
LOCK_FILE: Final = "store.lock"
_FORMAT: Final = "scorecard-bot.store"
_MIN_GROW: Final = 64 * 1024  # journal zero-fill steps: small stores stay small
_MAX_GROW: Final = 1024 * 1024
_DUMP_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

Tables = dict[str, dict[str, Any]]


# --------------------------------------------------------------------------- line format


def _frame(body: bytes) -> bytes:
    """Prefix a body with its CRC so a torn or flipped line is recognised on load."""
    return b"%08x\t%b\n" % (zlib.crc32(body), body)


def _reject(value: object) -> Any:
    """Refuse values that JSON would silently turn into something else (datetime -> str)."""
    raise TypeError(
        f"cannot store a {type(value).__name__}; store str/int/float/bool/None/list/dict "
        "(datetimes as ISO strings)"
    )


def _put_line(name: str, table: Mapping[str, Any]) -> bytes:
    """One journal/snapshot line holding the full content of a table."""
    try:
        docs = orjson.dumps(table, default=_reject, option=_DUMP_OPTIONS)
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        cause = exc.__cause__ or exc
        raise TypeError(f"table {name!r}: {cause}") from exc
    return _frame(b"P\t" + orjson.dumps(name) + b"\t" + docs)


def _drop_line(name: str) -> bytes:
    """One journal line recording that a table no longer exists."""
    return _frame(b"D\t" + orjson.dumps(name))


def _header_line(file: str, generation: int, tables: int | None = None) -> bytes:
    """First line of every file. Its framing must never change: it carries the schema."""
    header: dict[str, Any] = {
        "format": _FORMAT,
        "file": file,
        "schema": SCHEMA_VERSION,
        "generation": generation,
    }
    if tables is not None:
        header["tables"] = tables
    return _frame(b"H\t" + orjson.dumps(header))


def _docs_start(line: bytes) -> int:
    """Offset of the table JSON in a put line (names are JSON strings: no raw tabs)."""
    return line.index(b"\t", 11) + 1


def _docs_of(line: bytes) -> dict[str, Any]:
    """Parse the table content of a put line."""
    docs: dict[str, Any] = orjson.loads(memoryview(line)[_docs_start(line) : -1])
    return docs


def _valid(line: memoryview | bytes) -> bool:
    """Whether a line (without its newline) has intact framing and CRC."""
    if len(line) < 10 or line[8:9] != b"\t":
        return False
    try:
        crc = int(bytes(line[:8]), 16)
    except ValueError:
        return False
    return zlib.crc32(line[9:]) == crc


def _read_records(path: Path, raw: bytes, start: int, *, tail_ok: bool) -> tuple[list[bytes], int]:
    """Split `raw[start:]` into verified lines; return them and where the good data ends.

    Damage with no complete batch after it is a torn tail (allowed if `tail_ok`): the last
    batch was being written when the process or machine died, so it was never
    acknowledged. Damage followed by a complete batch is corruption.
    """
    view = memoryview(raw)
    lines: list[bytes] = []
    pos, end = start, len(raw)
    while pos < end:
        nl = raw.find(b"\n", pos)
        if nl >= 0 and _valid(view[pos:nl]):
            lines.append(raw[pos : nl + 1])
            pos = nl + 1
            continue
        if tail_ok and not _complete_batch_after(raw, view, pos):
            return lines, pos
        raise StoreCorrupt(path, f"damaged record at byte {pos}")
    return lines, pos


def _complete_batch_after(raw: bytes, view: memoryview, pos: int) -> bool:
    """Whether some batch after `pos` is whole: a valid end line whose batch CRC matches.

    A power loss can persist the blocks of an unsynced batch out of order, so single
    valid lines may follow a torn one; a whole batch cannot (it would include the tear).
    """
    nl = raw.find(b"\n", pos)
    while nl >= 0:
        start = nl + 1
        nl = raw.find(b"\n", start)
        if nl < 0 or raw[start + 9 : start + 11] != b"C\t" or not _valid(view[start:nl]):
            continue
        fields = raw[start + 11 : nl].split(b"\t")
        try:
            size, crc = int(fields[1]), int(fields[2], 16)
        except (IndexError, ValueError):
            continue
        if pos <= start - size and zlib.crc32(view[start - size : start]) == crc:
            return True
    return False


def _parse_header(path: Path, raw: bytes, file: str) -> tuple[dict[str, Any], int]:
    """Check the first line of a file; refuse newer schemas before looking further."""
    nl = raw.find(b"\n")
    if nl < 0 or not _valid(memoryview(raw)[:nl]) or raw[9:11] != b"H\t":
        raise StoreCorrupt(path, "missing or damaged header")
    try:
        header = orjson.loads(raw[11:nl])
    except orjson.JSONDecodeError as exc:
        raise StoreCorrupt(path, f"unreadable header: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise StoreCorrupt(path, "not a scorecard-bot store file")
    schema = header.get("schema")
    if not isinstance(schema, int) or not isinstance(header.get("generation"), int):
        raise StoreCorrupt(path, "header without schema or generation")
    if schema > SCHEMA_VERSION:
        raise SchemaTooNew(path, schema, SCHEMA_VERSION)
    if header.get("file") != file:
        raise StoreCorrupt(path, f"expected a {file} file, found {header.get('file')!r}")
    return header, nl + 1


def _record_name(path: Path, line: bytes) -> tuple[bytes, str]:
    """Kind (b"P"/b"D") and table name of a put or drop line."""
    kind = line[9:10]
    if kind == b"P" and line[10:11] == b"\t":
        raw_name: bytes | memoryview = memoryview(line)[11 : _docs_start(line) - 1]
    elif kind == b"D" and line[10:11] == b"\t":
        raw_name = memoryview(line)[11:-1]
    else:
        raise StoreCorrupt(path, f"unknown record kind {kind!r}")
    try:
        name = orjson.loads(raw_name)
    except (orjson.JSONDecodeError, ValueError) as exc:
        raise StoreCorrupt(path, f"unreadable table name: {exc}") from exc
    if not isinstance(name, str):
        raise StoreCorrupt(path, "table name is not a string")
    return kind, name


def _commit_count(path: Path, line: bytes) -> int | None:
    """Record count of a batch-end line, or None if `line` is not one."""
    if line[9:11] != b"C\t":
        return None
    try:
        return int(line[11:-1].split(b"\t", 1)[0])
    except ValueError:
        raise StoreCorrupt(path, "unreadable batch end") from None


def _commit_line(records: list[bytes]) -> bytes:
    """Ends a batch: count, byte length and CRC of the batch's records.

    Records after the last end line are an unfinished batch and are dropped, which makes
    a batch (and so every `atomic()` block) all-or-nothing on disk.
    """
    size = sum(len(r) for r in records)
    crc = 0
    for record in records:
        crc = zlib.crc32(record, crc)
    return _frame(b"C\t%d\t%d\t%08x" % (len(records), size, crc))


# --------------------------------------------------------------------------- files


def _fsync_dir(path: Path) -> None:
    """Make renames/creations in `path` durable (a rename is a directory write)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """`os.pwrite` until everything is written (writes to files may be short)."""
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


def _write_all(fd: int, data: bytes) -> None:
    """`os.write` until everything is written (writes to files may be short)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _replace_file(target: Path, chunks: list[bytes]) -> int:
    """Atomically replace `target` with `chunks`: temp file, fsync, rename, dir fsync."""
    tmp = target.with_name(target.name + ".tmp")
    size = 0
    with open(tmp, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
            size += len(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    return size


@dataclasses.dataclass
class _Loaded:
    """What `_Files.load` found: the final line of every table and the generation."""

    lines: dict[str, bytes]
    schema: int  # oldest schema found in the files (SCHEMA_VERSION for a new store)
    generation: int
    journal_bytes: int
    journal_records: int
    snapshot_bytes: int


class _Files:
    """The on-disk half. After `load`, only the writer thread touches it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.snapshot = root / SNAPSHOT_FILE
        self.journal = root / JOURNAL_FILE
        self._lock_fd = -1
        self._journal_fd = -1
        self._journal_capacity = 0  # file size; zeros between journal_bytes and it
        self.generation = 0
        self.journal_bytes = 0  # end of the last batch: where the next one goes
        self.snapshot_bytes = 0
        self.syncs = 0
        self.compactions = 0
        self.sync_seconds = 0.0  # moving average of a batch's write + fdatasync

    def lock(self) -> None:
        """Take the directory lock or explain who holds it (the OS drops it on kill)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise StoreLocked(self.root, _read_pid(self.root / LOCK_FILE)) from None
        os.ftruncate(fd, 0)
        _write_all(fd, b"%d\n" % os.getpid())
        self._lock_fd = fd

    def unlock(self) -> None:
        """Close the journal and release the lock (idempotent)."""
        if self._journal_fd >= 0:
            os.close(self._journal_fd)
            self._journal_fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    def load(self) -> _Loaded:
        """Read snapshot + journal, validate everything, then repair what a crash leaves."""
        lines: dict[str, bytes | None] = {}
        generation = 0
        schema = SCHEMA_VERSION
        if self.snapshot.exists():
            raw = self.snapshot.read_bytes()
            header, start = _parse_header(self.snapshot, raw, "snapshot")
            generation = header["generation"]
            schema = min(schema, header["schema"])
            records, _ = _read_records(self.snapshot, raw, start, tail_ok=False)
            if header.get("tables") != len(records):
                raise StoreCorrupt(
                    self.snapshot, f"{len(records)} tables, header says {header.get('tables')}"
                )
            for line in records:
                kind, name = _record_name(self.snapshot, line)
                if kind != b"P":
                    raise StoreCorrupt(self.snapshot, "drop record in a snapshot")
                lines[name] = line
            self.snapshot_bytes = len(raw)
            del raw

        journal_ok = False
        journal_end = 0
        journal_records = 0
        if self.journal.exists():
            raw = self.journal.read_bytes()
            header, start = _parse_header(self.journal, raw, "journal")
            jgen = header["generation"]
            schema = min(schema, header["schema"])
            if jgen > generation:
                raise StoreCorrupt(
                    self.journal,
                    f"journal generation {jgen} is newer than snapshot generation "
                    f"{generation}; the snapshot is missing or old",
                )
            if jgen == generation:
                records, _ = _read_records(self.journal, raw, start, tail_ok=True)
                journal_end = start
                pos = start
                batch: list[tuple[bytes, str, bytes]] = []
                for line in records:
                    pos += len(line)
                    count = _commit_count(self.journal, line)
                    if count is None:
                        kind, name = _record_name(self.journal, line)
                        batch.append((kind, name, line))
                        continue
                    if count != len(batch):
                        raise StoreCorrupt(
                            self.journal, f"batch ending at byte {pos} lost records"
                        )
                    for kind, name, record in batch:
                        lines[name] = record if kind == b"P" else None
                    journal_records += len(batch)
                    batch = []
                    journal_end = pos
                journal_ok = True
                if raw.rstrip(b"\0") != raw[:journal_end]:
                    _LOGGER.warning(
                        "%s: dropping %d bytes of a batch cut short by a crash (never saved)",
                        self.journal,
                        len(raw) - journal_end,
                    )
            # else: an older journal whose records are all in the snapshot (a compaction
            # was cut between its two renames); it is replaced below.
            del raw

        # Everything validated: only now touch the files.
        for leftover in (SNAPSHOT_FILE + ".tmp", JOURNAL_FILE + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                (self.root / leftover).unlink()
        if journal_ok:
            with open(self.journal, "r+b") as f:
                if journal_end < os.fstat(f.fileno()).st_size:
                    f.truncate(journal_end)
                    os.fsync(f.fileno())
        else:
            journal_end = _replace_file(self.journal, [_header_line("journal", generation)])
        self._open_journal(journal_end)
        self.generation = generation
        final = {name: line for name, line in lines.items() if line is not None}
        return _Loaded(
            final, schema, generation, journal_end, journal_records, self.snapshot_bytes
        )

    def _open_journal(self, size: int) -> None:
        """(Re)open the journal for writing at its end."""
        if self._journal_fd >= 0:
            os.close(self._journal_fd)
        self._journal_fd = os.open(self.journal, os.O_RDWR | os.O_CLOEXEC)
        self.journal_bytes = self._journal_capacity = size

    def append(self, records: list[bytes]) -> None:
        """Write a batch after the last one and wait until it is on disk.

        The file is kept ahead of the data with zeros, so a commit overwrites allocated
        blocks and fdatasync need not also commit a size change (about 1.6x faster).
        """
        records.append(_commit_line(records))
        data = b"".join(records)
        end = self.journal_bytes + len(data)
        if end > self._journal_capacity:
            grow = min(max(self._journal_capacity, _MIN_GROW), _MAX_GROW)
            zeros = bytes(end + grow - self._journal_capacity)
            _pwrite_all(self._journal_fd, zeros, self._journal_capacity)
            self._journal_capacity = end + grow
        started = time.perf_counter()
        _pwrite_all(self._journal_fd, data, self.journal_bytes)
        os.fdatasync(self._journal_fd)
        self.sync_seconds = 0.8 * self.sync_seconds + 0.2 * (time.perf_counter() - started)
        self.journal_bytes = end
        self.syncs += 1

    def compact(self, lines: list[tuple[str, bytes]]) -> None:
        """Write a new snapshot of `lines` (the whole state), then start an empty journal."""
        generation = self.generation + 1
        lines.sort()
        chunks = [_header_line("snapshot", generation, len(lines))]
        chunks.extend(line for _, line in lines)
        self.snapshot_bytes = _replace_file(self.snapshot, chunks)
        # From here a kill leaves snapshot G+1 and journal G: the journal is ignored on load.
        size = _replace_file(self.journal, [_header_line("journal", generation)])
        self._open_journal(size)
        self.generation = generation
        self.syncs += 1
        self.compactions += 1


def _read_pid(path: Path) -> int | None:
    """The pid the lock holder wrote, if readable."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- TinyDB side


@dataclasses.dataclass
class _Savepoint:
    """What an `atomic()` level needs to undo: each touched table's line and pending record."""

    before: dict[str, tuple[bytes | None, bytes | None]] = dataclasses.field(default_factory=dict)


class JournalStorage(Storage):
    """In-memory TinyDB storage that turns each table change into one queued journal line.

    Not thread-safe: one event loop (or one thread) uses it. It does no I/O itself; the
    `Database` hands `take_pending()` batches to the writer thread.
    """

    def __init__(self, lines: dict[str, bytes], *, journaling: bool) -> None:
        super().__init__()
        self._lines = lines  # name -> put line of the table's last written content
        self._data: Tables = {name: _docs_of(line) for name, line in lines.items()}
        self._known: Tables = dict(self._data)  # name -> table dict object last written
        self._journaling = journaling
        self._pending: dict[str, bytes] = {}  # name -> newest unsaved record for that table
        self._pending_bytes = 0
        self._savepoints: list[_Savepoint] = []
        self._hint: str | None = None
        self.seq = 0  # number of changes made so far; `commit` waits for this many
        self.unsaved = 0  # journal records since the last snapshot (set by `Database.open`)
        self.error: StoreError | None = None  # set once: closed or failed
        self.closed = False

    # TinyDB's Storage interface ------------------------------------------------------

    def read(self) -> Tables:
        """The live tables (TinyDB never mutates them in place, it replaces a table).

        Still works after a failed save, so the bot can keep answering reads.
        """
        if self.closed:
            raise StoreError("the store is closed")
        return self._data

    def write(self, data: Tables) -> None:
        """Queue a record for every table whose dict object TinyDB replaced or dropped."""
        hint, self._hint = self._hint, None
        if self.error is not None:
            raise self.error
        if (
            hint is not None
            and data is self._data
            and len(data) == len(self._known) + (hint not in self._known)
        ):
            changed: list[str] = [hint] if hint in data else []
        else:  # a path without a hint (TinyDB.drop_table/drop_tables): compare identities
            changed = [name for name, table in data.items() if self._known.get(name) is not table]
            changed += [name for name in self._known if name not in data]
        self._data = data
        # Serialize first: a TypeError must leave the bookkeeping untouched.
        lines = [(name, _put_line(name, data[name]) if name in data else None) for name in changed]
        for name, line in lines:
            self._record(name, line)

    # Engine side -----------------------------------------------------------------------

    def expect_write(self, name: str) -> None:
        """Tell `write()` which table the next TinyDB update touches (skips a full scan)."""
        self._hint = name

    def discard_unwritten(self, name: str) -> None:
        """Undo a failed TinyDB update: it may have mutated documents in place before failing."""
        self._hint = None
        self._restore(name, self._lines.get(name))

    def _record(self, name: str, line: bytes | None) -> None:
        """Remember a table's new content (None = dropped) and queue it for the journal."""
        old = self._lines.get(name)
        if line is None:
            self._known.pop(name, None)
            if old is None:
                return  # dropping a table that was never written
            record = _drop_line(name)
        else:
            self._known[name] = self._data[name]
            if line == old:
                return  # an update that changed nothing
            record = line
        for savepoint in self._savepoints:
            savepoint.before.setdefault(name, (old, self._pending.get(name)))
        if line is None:
            del self._lines[name]
        else:
            self._lines[name] = line
        self.seq += 1
        if self._journaling:
            self._pending_bytes += len(record) - len(self._pending.get(name, b""))
            self._pending[name] = record
            self.unsaved += 1

    def _restore(self, name: str, line: bytes | None) -> None:
        """Put a table back to the content of `line` (None = the table does not exist)."""
        if line is None:
            self._data.pop(name, None)
            self._known.pop(name, None)
            self._lines.pop(name, None)
        else:
            table = _docs_of(line)
            self._data[name] = table
            self._known[name] = table
            self._lines[name] = line

    @contextlib.contextmanager
    def savepoint(self, on_restore: Callable[[str], None]) -> Iterator[None]:
        """Undo every table change (and its queued record) if the block raises."""
        savepoint = _Savepoint()
        self._savepoints.append(savepoint)
        try:
            yield
        except BaseException:
            for name, (line, pending) in savepoint.before.items():
                self._restore(name, line)
                if self._journaling:
                    self._pending_bytes -= len(self._pending.pop(name, b""))
                    if pending is not None:
                        self._pending[name] = pending
                        self._pending_bytes += len(pending)
                on_restore(name)
            raise
        finally:
            self._savepoints.remove(savepoint)

    @property
    def in_atomic(self) -> bool:
        """Whether an `atomic()` block is open."""
        return bool(self._savepoints)

    @property
    def pending_bytes(self) -> int:
        """Size of the records not yet handed to the writer."""
        return self._pending_bytes

    @property
    def pending_records(self) -> int:
        """Number of tables with unsaved changes."""
        return len(self._pending)

    def take_pending(self) -> list[bytes]:
        """Hand over the unsaved records (one per changed table, newest content)."""
        records = list(self._pending.values())
        self._pending.clear()
        self._pending_bytes = 0
        return records

    def all_lines(self) -> list[tuple[str, bytes]]:
        """A consistent copy of every table's line, for a snapshot (bytes are immutable)."""
        return list(self._lines.items())

    def close(self) -> None:
        """Refuse further use; `Database.close` saves first."""
        self.closed = True
        if self.error is None:
            self.error = StoreError("the store is closed; changes can no longer be saved")


class _JournalTable(Table):
    """TinyDB table that names itself to the storage and rolls back a failed update."""

    def _update_table(self, updater: Callable[[dict[int, Mapping[Any, Any]]], None]) -> None:
        storage = self.storage
        assert isinstance(storage, JournalStorage)
        storage.expect_write(self.name)
        try:
            super()._update_table(updater)
        except BaseException:
            storage.discard_unwritten(self.name)
            self.clear_cache()
            raise


class _TinyDB(TinyDB):
    table_class = _JournalTable


# --------------------------------------------------------------------------- Database


@dataclasses.dataclass(frozen=True)
class StoreStats:
    """Sizes and counters, for benchmarks and the admin `/status` command."""

    tables: int
    documents: int
    journal_bytes: int
    snapshot_bytes: int
    pending_records: int
    generation: int
    syncs: int
    compactions: int


@dataclasses.dataclass
class _Job:
    """One unit of work for the writer thread."""

    upto: int  # storage.seq covered by this job
    records: list[bytes]
    snapshot: list[tuple[str, bytes]] | None  # set: write a snapshot instead of appending


class Database:
    """One data directory: TinyDB tables in memory, made durable by `commit()`.

    Use from one event loop. Repository methods change tables synchronously (each TinyDB
    call is atomic on the loop); handlers then `await db.commit()` before acknowledging.
    """

    def __init__(
        self,
        path: Path | None,
        storage: JournalStorage,
        files: _Files | None,
        *,
        compact_bytes: int,
        inline_fsync_below: float,
    ) -> None:
        """Use `Database.open`."""
        self.path = path
        #: Schema of the data as found on disk. When it is older than SCHEMA_VERSION,
        #: migrate the tables, then `flush(snapshot=True)` stamps the new version.
        self.stored_schema = SCHEMA_VERSION
        self._storage = storage
        self._files = files
        self._compact_bytes = compact_bytes
        self._inline_fsync_below = inline_fsync_below
        self._tinydb = _TinyDB(storage=lambda: storage)
        self._durable = 0  # storage.seq known to be on disk
        self._journal_estimate = files.journal_bytes if files is not None else 0
        self._inflight: tuple[asyncio.Future[None], int] | None = None
        self._last_job: concurrent.futures.Future[None] | None = None  # newest on the thread
        self._executor = (
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="store-writer")
            if files is not None
            else None
        )
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path | None,
        *,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
        inline_fsync_below: float = DEFAULT_INLINE_FSYNC_BELOW,
    ) -> Database:
        """Open (creating if needed) the store in directory `path`; `None` = memory only.

        `inline_fsync_below` (seconds): while the disk's recent fsync time is below it,
        `commit()` writes on the loop thread, which is cheaper than a hop to the writer
        thread; slower disks get the writer thread. 0 = always the writer thread.

        Raises `StoreLocked`, `SchemaTooNew` or `StoreCorrupt` without changing any file.
        """
        if path is None:
            return cls(
                None,
                JournalStorage({}, journaling=False),
                None,
                compact_bytes=compact_bytes,
                inline_fsync_below=inline_fsync_below,
            )
        files = _Files(path)
        files.lock()
        try:
            loaded = files.load()
            storage = JournalStorage(loaded.lines, journaling=True)
        except BaseException:
            files.unlock()
            raise
        storage.unsaved = loaded.journal_records
        db = cls(
            path,
            storage,
            files,
            compact_bytes=compact_bytes,
            inline_fsync_below=inline_fsync_below,
        )
        db.stored_schema = loaded.schema
        return db

    # tables -----------------------------------------------------------------------------

    def table(self, name: str, *, cache_size: int = Table.default_query_cache_capacity) -> Table:
        """The TinyDB table `name` (created on first write). Same object for the same name."""
        return self._tinydb.table(name, cache_size=cache_size)

    def table_names(self, prefix: str = "") -> set[str]:
        """Names of the existing tables (those starting with `prefix`), like `TinyDB.tables`."""
        return {name for name in self._storage.read() if name.startswith(prefix)}

    def drop_table(self, name: str) -> None:
        """Delete a table and its documents (journalled like any other change)."""
        self._tinydb.drop_table(name)

    # durability -------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """All table changes in the block apply, or (if it raises) none do.

        The block must not `await`: it is atomic because nothing else runs on the loop.
        Nested blocks roll back to their own start. On disk the block is all-or-nothing
        too, because a batch is never split.
        """
        with self._storage.savepoint(self._forget_cache):
            yield

    async def commit(self) -> None:
        """Return once every change made before the call is on disk (fsynced).

        Callers that commit together share one write+fsync (group commit).
        """
        self._check_usable()
        if self._files is None:
            return
        target = self._storage.seq
        while self._durable < target:
            if self._inflight is None and self._can_write_inline():
                # Let commands that are already running make their changes first, so
                # one fsync covers all of them.
                await asyncio.sleep(0)
                self._check_usable()
                if self._durable >= target:
                    break
                if self._inflight is None and self._can_write_inline():
                    job = self._take_job(snapshot=False)
                    if job.snapshot is None:
                        self._run(job)
                        self._durable = max(self._durable, job.upto)
                        continue
                    self._start_inflight(job)  # a snapshot never blocks the loop
            if self._inflight is None:
                self._start_inflight(self._take_job(snapshot=False))
            assert self._inflight is not None
            future, upto = self._inflight
            await asyncio.shield(future)  # a cancelled caller must not cancel the write
            self._durable = max(self._durable, upto)
            if self._inflight is not None and self._inflight[0] is future:
                self._inflight = None

    def flush(self, *, snapshot: bool = False) -> None:
        """Blocking `commit` for scripts and shutdown; `snapshot=True` also compacts."""
        self._check_usable()
        if self._files is None:
            return
        self._wait_for_writer()
        job = self._take_job(snapshot=snapshot)
        self._run(job)
        self._durable = max(self._durable, job.upto)

    def close(self, *, snapshot: bool = True) -> None:
        """Save everything (as a fresh snapshot unless `snapshot=False`) and unlock."""
        if self._closed:
            return
        try:
            if self._files is not None and self._storage.error is None:
                self.flush(snapshot=snapshot and self._storage.unsaved > 0)
        finally:
            self._closed = True
            self._storage.close()
            if self._executor is not None:
                self._executor.shutdown(wait=True)
            if self._files is not None:
                self._files.unlock()

    async def aclose(self) -> None:
        """`close` without blocking the loop on the final snapshot."""
        if self._closed:
            return
        try:
            if self._files is not None and self._storage.error is None:
                await self.commit()
                if self._storage.unsaved > 0:
                    future, upto = self._start_inflight(self._take_job(snapshot=True))
                    await asyncio.shield(future)
                    self._durable = max(self._durable, upto)
        finally:
            self.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stats(self) -> StoreStats:
        """Current sizes and counters (O(number of tables))."""
        data = self._storage.read() if not self._closed else {}
        files = self._files
        return StoreStats(
            tables=len(data),
            documents=sum(len(table) for table in data.values()),
            journal_bytes=files.journal_bytes if files else 0,
            snapshot_bytes=files.snapshot_bytes if files else 0,
            pending_records=self._storage.pending_records,
            generation=files.generation if files else 0,
            syncs=files.syncs if files else 0,
            compactions=files.compactions if files else 0,
        )

    # internals ----------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._storage.error is not None:
            raise self._storage.error
        if self._storage.in_atomic:
            raise RuntimeError(
                "commit()/flush() inside atomic(): an atomic block must not await or save"
            )

    def _forget_cache(self, name: str) -> None:
        """Drop TinyDB's query cache of a table whose content was rolled back."""
        table = self._tinydb._tables.get(name)
        if table is not None:
            table.clear_cache()

    def _can_write_inline(self) -> bool:
        """Fast disk and nothing queued on the writer thread (batches must stay in order)."""
        assert self._files is not None
        return self._files.sync_seconds < self._inline_fsync_below and (
            self._last_job is None or self._last_job.done()
        )

    def _wait_for_writer(self) -> None:
        """Block until the writer thread is idle (its failure, if any, poisons the store)."""
        if self._last_job is not None:
            with contextlib.suppress(StoreError):
                self._last_job.result()

    def _take_job(self, *, snapshot: bool) -> _Job:
        """Everything unsaved, as one batch (or a snapshot when the journal is big enough)."""
        storage = self._storage
        pending_bytes = storage.pending_bytes
        job = _Job(upto=storage.seq, records=storage.take_pending(), snapshot=None)
        if snapshot or self._journal_estimate + pending_bytes > self._compact_bytes:
            job.snapshot = storage.all_lines()
            job.records = []
            storage.unsaved = 0
            self._journal_estimate = 0
        else:
            self._journal_estimate += pending_bytes
        return job

    def _start_inflight(self, job: _Job) -> tuple[asyncio.Future[None], int]:
        """Queue a job on the writer thread (FIFO: batches stay in order) and track it."""
        assert self._executor is not None
        self._last_job = self._executor.submit(self._run, job)
        future = asyncio.wrap_future(self._last_job)
        future.add_done_callback(self._inflight_done)
        self._inflight = (future, job.upto)
        return self._inflight

    def _run(self, job: _Job) -> None:
        """Do one job (loop or writer thread), or poison the store if the disk misbehaves."""
        storage, files = self._storage, self._files
        assert files is not None
        if isinstance(storage.error, StoreFailed):
            raise storage.error  # the file state after a failed write is unknown: stop
        try:
            if job.snapshot is not None:
                files.compact(job.snapshot)
            elif job.records:
                files.append(job.records)
        except OSError as exc:
            failure = StoreFailed(files.root, exc)
            storage.error = failure
            _LOGGER.error("store write failed: %s", exc)
            raise failure from exc

    def _inflight_done(self, future: asyncio.Future[None]) -> None:
        """Mark an in-flight write finished even if every waiter was cancelled."""
        if not future.cancelled():
            future.exception()  # retrieved: waiters get it via shield
        if self._inflight is not None and self._inflight[0] is future:
            if not future.cancelled() and future.exception() is None:
                self._durable = max(self._durable, self._inflight[1])
            self._inflight = None

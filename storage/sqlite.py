"""The durable backend: table bodies as rows of one SQLite file (WAL, synchronous=FULL).

SQLite gives atomic commit, crash recovery, incremental checkpoints and integrity checks,
so this module only maps the port onto two tables:

    tables(name PRIMARY KEY, generation, crc, body)   one row per TinyDB table
    meta(key PRIMARY KEY, value)                      schema version, commit counter

Every row carries a CRC of its body, checked on load, so a flipped bit is reported with the
table's name instead of being parsed. The commit counter is also written (without fsync) to
the lock file after each commit: a store whose database holds fewer commits than the lock
file remembers has lost acknowledged writes (a deleted or cut `store.db-wal`), and opening
it is refused with a clear line instead of silently serving old data.

A commit that puts a row does not write the counter into `meta`: every row it puts carries
its number (`generation`), and the lock file names one of them (its witness). A lost
commit is the last ones lost (the WAL is cut or gone), so the witness then holds an older
number or is missing: the check holds as before, and the commit writes one page fewer
(meta's own: one WAL frame fewer in every `/kpi set`). `meta` is written when no row can
witness (drops only, a schema, a name too long for the lock file, the witness dropped),
when summaries were not current, at each WAL rewind, and by the first commit after an
open, which also skips a number: a kill between a commit and the lock file's rewrite
leaves a commit the lock does not count, and no later one may carry its number. Older
versions read this lock file as "0 commits" (the count is its third field), so they never
report a false loss; they count on from `meta`'s number, as does a store opened without its
lock file, which only numbers later commits again.

One connection reads on the event loop; another writes (on the database's writer thread,
or on the loop for a lone transaction: `commit_now`, which never waits for the other
thread's use of it). In WAL mode the reader never waits for the writer. A third copies the
WAL into the database (a PASSIVE checkpoint) on its own thread once about
`checkpoint_pages` pages were committed: SQLite's automatic checkpoint would run inside the
commit that crosses the mark, so every few hundred `/kpi set` one write (and the commands
grouped with it) waited for 4 MB to be copied and the database file fsynced. A passive
checkpoint never blocks a writer or a reader; SQLite's own one stays as a backstop at 8×
the mark, in case the background ones fall behind.

A passive checkpoint alone never brings the WAL back to its start under a steady stream of
writes: SQLite rewinds it only at a write that begins after every frame was copied, and the
commits that land while the background copy runs leave a few frames uncopied each time, so
the WAL grew to the backstop (32 MB beside a 1.6 MB database after 3 000 sets in a row). So
after a background checkpoint the writer thread copies those few frames itself (a few pages
and one fsync; nothing when the copy was clean), and a write that starts with every frame
copied starts the WAL afresh: it writes and syncs the WAL's new header (a second fsync),
and `journal_size_limit` cuts the file back to the mark, as after a large import. At an
open after a clean close (SQLite deleted the WAL) the WAL is laid out in zeros up to the
mark first (`_lay_out_wal`), so that the first cycle's commits do not grow the file either.

All of that is done when no transaction waits for the writer (`idle`, which the writer
thread calls once its queue is empty): the catch-up, then a write of the commit counter
as it is (the same value: no data changes) that rewinds the WAL. Done in the next
command's commit instead, as before, that commit paid the catch-up's fsync, the header's
and the truncation: in the 100k open loop on a loaded machine those commits took a median
17 ms plus a 9 ms catch-up, against 4.4 ms for the others, and they were most of the
commits over 20 ms. The commit path still catches up itself when the writer found no idle
moment for half a mark of pages after the checkpoint (`_LATE`: transactions back to back),
so the WAL stays bounded; a transaction handed over while the idle rewind runs waits for
it, as it would behind another transaction. The loop never does: a lone transaction it
would run itself (`commit_now`) goes to the writer thread instead, and so does one that
must catch up first; and after a transaction the loop ran, the database asks the writer
thread for its idle moment only when a rewind is due (`upkeep_due`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

# Bodies' CRC-32 by ISA-L: zlib's values (every stored checksum reads the same), in about a
# seventh of zlib's instructions, and a lone commit computes it on the loop (10 KB a /kpi set).
from isal.isal_zlib import crc32 as crc32  # re-exported: test_body_checksum

from storage.errors import StoreCorrupt, StoreError, StoreLocked, StoreUnreadable
from storage.port import Batch, past_prefix

__all__ = ["DB_FILE", "LOCK_FILE", "SqliteBackend", "connect"]

_LOGGER = logging.getLogger(__name__)

DB_FILE: Final = "store.db"
LOCK_FILE: Final = "store.lock"
_LOCK_WIDTH: Final = 256  # the lock file is rewritten in place: fixed width, no truncate
#: Longest table name (UTF-8 bytes) the lock file names as a commit's witness (in hex).
_WITNESS_MAX: Final = 100
_NO_WITNESS: Final = b"-"  # in the lock file: `meta` holds the commit count
_BACKSTOP: Final = 8  # SQLite's own checkpoint runs at this many times the mark
#: The commit path catches up itself once this share of a mark was committed after a
#: background checkpoint began with no idle moment of the writer's to rewind the WAL in.
_LATE: Final = 0.5
#: Copies a background checkpoint makes at most (each of what landed during the last).
_PASSES: Final = 4
#: A WAL is laid out at open (`_lay_out_wal`) only with this many times its size free.
_ROOM: Final = 16
#: A commit of puts alone, up to this many, is one statement in SQLite's own transaction:
#: BEGIN, a step per put and COMMIT were each a call into sqlite3 (the GIL let go and taken
#: back), 27 k of a /kpi set's 159 k instructions in its commit (issue 8).
_ONE_STATEMENT: Final = 32
#: The upsert of 1, 2, ... `_ONE_STATEMENT` rows at index 0, 1, ... (sqlite3 keeps each
#: prepared: its statement cache holds 128).
_PUTS: Final = tuple(
    "INSERT INTO tables(name, generation, crc, body) VALUES"
    + ",".join(["(?,?,?,?)"] * rows)
    + " ON CONFLICT(name) DO UPDATE SET generation=excluded.generation, crc=excluded.crc,"
    " body=excluded.body"
    for rows in range(1, _ONE_STATEMENT + 1)
)
_SCHEMA_SQL: Final = (
    "CREATE TABLE IF NOT EXISTS tables("
    " name TEXT PRIMARY KEY, generation INTEGER NOT NULL, crc INTEGER NOT NULL,"
    " body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN for a transaction of several
    statements; a commit of puts alone is one statement, SQLite's own transaction), WAL,
    synchronous=FULL.

    `secure_delete=FAST`: deleted rows are still cleared on the pages that hold them, but
    freed pages are not zeroed. Builds with SECURE_DELETE on (Debian's) zeroed each
    overflow page a rewritten body gave back, one more WAL frame apiece: 0.58 of the 7.5
    frames of a closed-loop `/kpi set` on average (issue 8)."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA secure_delete=FAST")
    return con


def _read_lock(path: Path) -> tuple[int | None, int, str | None]:
    """(pid, acknowledged commits, the table witnessing the last one or None) from a lock
    file's first line (an older version rewrites only its first 48 bytes): this version's
    `pid 0 commits witness`, or an older one's `pid commits`; (None, 0, None) if unreadable."""
    try:
        fields = path.read_bytes().split(b"\n", 1)[0].split()
    except OSError:
        return None, 0, None
    try:
        pid = int(fields[0]) if fields else None
        if len(fields) != 4 or fields[1] != b"0":
            return pid, int(fields[1]) if len(fields) > 1 else 0, None
        witness = None if fields[3] == _NO_WITNESS else bytes.fromhex(fields[3].decode())
        return pid, int(fields[2]), None if witness is None else witness.decode()
    except ValueError:  # UnicodeDecodeError too
        return None, 0, None


#: SQLite's (primary) result codes that say nothing about the file's contents: a full
#: disk, an I/O error (a full disk can't grow the WAL index), no permission, no memory.
_NOT_DAMAGE: Final = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    }
)


def _read_error(file: Path, exc: sqlite3.Error) -> StoreError:
    """A failed read as damage (malformed file, not a database, anything unknown) or as
    trouble around an intact file (`_NOT_DAMAGE`), which must not send people to backups."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _NOT_DAMAGE:
        return StoreUnreadable(file, str(exc))
    return StoreCorrupt(file, str(exc))


def _as_os_error(exc: sqlite3.Error) -> OSError:
    """SQLite's write failures as the OSError the database reports (disk full keeps ENOSPC)."""
    text = str(exc)
    code = errno.ENOSPC if "full" in text else errno.EIO
    return OSError(code, f"{os.strerror(code)} ({text})")


class SqliteBackend:
    """One data directory: `store.db` (+ `-wal`), guarded by `flock` on `store.lock`."""

    durable = True

    def __init__(self, root: Path, *, checkpoint_pages: int = 1000) -> None:
        self.root = root
        self._checkpoint_pages = checkpoint_pages
        self.file = root / DB_FILE
        self._lock_fd = -1
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoints: concurrent.futures.ThreadPoolExecutor | None = None
        self._checkpoint: concurrent.futures.Future[None] | None = None
        self._page_size = 4096
        self._pages = 0  # pages committed (an estimate) since the last checkpoint started
        self._rewind = False  # the writer copies what the last background checkpoint missed
        self._pid = os.getpid()  # written to the lock file at each commit
        self.commits = 0  # transactions committed so far (the last one's `generation`)
        self._current = True  # `summaries_current`
        self._witness: str | None = None  # the row the lock file names (None: `meta`)
        #: The next commit is the first since the store was opened: it skips a number and
        #: writes `meta` (`_commit`'s ghost rule), and it starts the WAL (`commit_now`
        #: leaves it to the writer thread).
        self._first = True
        self.checkpoints = 0  # background checkpoints started (benchmarks attribute pauses)
        self.rewinds = 0  # WAL rewinds done while the writer was idle (`idle`)
        #: Held by a commit and by the idle rewind: one write connection, two threads (the
        #: writer thread's, and the loop's or a script's). Re-entrant: `commit_now` takes it
        #: without waiting, then commits through `commit`, the one seam of every write.
        self._writing = threading.RLock()

    # ownership --------------------------------------------------------------------------

    def lock(self) -> None:
        """Take the directory lock, open the file, and refuse a store that lost commits."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / LOCK_FILE
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                raise
            raise StoreLocked(self.root, _read_lock(lock_path)[0]) from None
        self._lock_fd = fd
        try:
            _, acknowledged, witness = _read_lock(lock_path)
            self._open()
            if self.commits < acknowledged and witness is not None:
                found = self._generation(witness)  # below `acknowledged`: commits lost
                if found > self.commits:
                    self.commits, self._witness = found, witness
            if self.commits < acknowledged:
                raise StoreCorrupt(
                    self.file,
                    f"it holds {self.commits} commits but {acknowledged} were acknowledged, "
                    f"so the last {acknowledged - self.commits} saved changes are missing "
                    f"(was {DB_FILE}-wal deleted or cut?); restore it, or delete "
                    f"{LOCK_FILE} to accept the loss and open what is left",
                )
            self._write_lock()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        self._lay_out_wal()
        try:
            self._writer = connect(self.file)
            backstop = int(self._checkpoint_pages) * _BACKSTOP
            self._writer.execute(f"PRAGMA wal_autocheckpoint={backstop}")
            for sql in _SCHEMA_SQL:
                self._writer.execute(sql)
            self._page_size = int(self._writer.execute("PRAGMA page_size").fetchone()[0])
            limit = int(self._checkpoint_pages) * self._page_size
            self._writer.execute(f"PRAGMA journal_size_limit={limit}")
            self._reader = connect(self.file)
            self._checkpointer = connect(self.file)
            row = self._reader.execute("SELECT value FROM meta WHERE key='commits'").fetchone()
            kept = self._reader.execute("SELECT value FROM meta WHERE key='summarised'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise _read_error(self.file, exc) from exc
        self.commits = int(row[0]) if row else 0
        self._current = (int(kept[0]) if kept else 0) == self.commits

    def _lay_out_wal(self) -> None:
        """Before SQLite starts a store closed cleanly (no WAL: the last close deleted it),
        give its WAL the size of a checkpoint mark in zeros, synced (4 MB, ~8 ms): SQLite
        reads a WAL without a valid header as empty and writes its frames over the zeros.
        A commit that appends to a growing WAL waits for the file system's journal in its
        fdatasync as well (new blocks and size): raw 1-row transactions alternated took
        0.40 ms into a growing WAL, 0.22 ms into one already grown, and the commits of a
        WAL's first cycle after an open (about 150 /kpi sets) all grew it. Nothing is
        laid out over a WAL with anything in it (a crash left it: it holds commits), on a
        disk with less than `_ROOM` times its size free, nor on any error."""
        wal = self.file.with_name(DB_FILE + "-wal")
        try:
            with open(self.file, "rb") as db:
                header = db.read(100)
            if len(header) < 100 or header[18:20] != b"\x02\x02":  # not a WAL database
                return
            page_size = int.from_bytes(header[16:18], "big")
            # one mark: SQLite cuts a longer WAL back to it (`journal_size_limit`)
            size = int(self._checkpoint_pages) * (65536 if page_size == 1 else page_size)
            space = os.statvfs(self.root)
            if space.f_bavail * space.f_frsize < _ROOM * size:
                return  # never the last of a disk's space: SQLite grows it as it goes
            fd = os.open(wal, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:  # no database yet
            return
        try:
            try:
                if os.fstat(fd).st_size:
                    return  # a WAL with frames
                os.fchmod(fd, os.stat(self.file).st_mode & 0o777)  # the database's own
                zeros = bytes(min(size, 1 << 20))
                for at in range(0, size, len(zeros)):
                    os.pwrite(fd, zeros[: size - at], at)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # a full disk: SQLite grows its WAL as it goes
            _LOGGER.warning("could not lay out the WAL (it grows as it goes): %s", exc)
            with contextlib.suppress(OSError):
                wal.unlink()

    def _generation(self, name: str) -> int:
        """The number of the commit that last put table `name` (0: none)."""
        rows = self._query("SELECT generation FROM tables WHERE name=?", (name,))
        return int(str(rows[0][0])) if rows else 0

    def _write_lock(self) -> None:
        """Remember the pid, the commit count and its witness (no fsync: a kill keeps the
        page cache). The zero in second place is the count older versions read."""
        witness = _NO_WITNESS if self._witness is None else self._witness.encode().hex().encode()
        line = b"%d 0 %d %s" % (self._pid, self.commits, witness)
        line = line.ljust(_LOCK_WIDTH - 1) + b"\n"
        os.pwrite(self._lock_fd, line, 0)

    def summaries_current(self) -> bool:
        """Whether every commit was made by a version that keeps summaries (`meta.summarised`
        is written with `meta.commits` by this one): not after an older version ran."""
        return self._current

    def close(self) -> None:
        """Checkpoint (SQLite does it on the last close), then release the lock."""
        if self._checkpoints is not None:
            self._checkpoints.shutdown(wait=True)
            self._checkpoints = self._checkpoint = None
        for con in (self._reader, self._checkpointer, self._writer):
            if con is not None:
                with contextlib.suppress(sqlite3.Error):
                    con.close()
        self._reader = self._writer = self._checkpointer = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    # reading ----------------------------------------------------------------------------

    @property
    def _con(self) -> sqlite3.Connection:
        if self._reader is None:
            raise StoreError("the store is closed")
        return self._reader

    def schema_version(self) -> int | None:
        """The `schema` meta value (None for a store never written)."""
        row = self._query("SELECT value FROM meta WHERE key='schema'", ())
        return int(str(row[0][0])) if row else None

    def load(self, name: str) -> bytes | None:
        """A table's body, its CRC checked."""
        rows = self._query("SELECT body, crc FROM tables WHERE name=?", (name,))
        if not rows:
            return None
        body, crc = rows[0]
        if not isinstance(body, bytes) or crc32(body) != crc:
            raise StoreCorrupt(self.file, f"table {name!r} fails its checksum")
        return body

    def names(self, prefix: str = "") -> list[str]:
        """Table names starting with `prefix` (an index range scan, not a full scan)."""
        if not prefix:
            rows = self._query("SELECT name FROM tables ORDER BY name", ())
        else:
            rows = self._query(
                "SELECT name FROM tables WHERE name >= ? AND name < ? ORDER BY name",
                (prefix, past_prefix(prefix)),
            )
        return [str(row[0]) for row in rows]

    def load_prefix(self, prefix: str) -> dict[str, bytes]:
        """Every table with `prefix`, checksums checked, in one range query."""
        rows = self._query(
            "SELECT name, body, crc FROM tables WHERE name >= ? AND name < ?",
            (prefix, past_prefix(prefix)),
        )
        return dict(self._checked(rows))

    def load_after(
        self, after: str, limit: int, before: str | None = None
    ) -> list[tuple[str, bytes]]:
        """The next `limit` tables after `after` (and before `before`) by name, checksums
        checked (an index range)."""
        if before is None:
            rows = self._query(
                "SELECT name, body, crc FROM tables WHERE name > ? ORDER BY name LIMIT ?",
                (after, limit),
            )
        else:
            rows = self._query(
                "SELECT name, body, crc FROM tables WHERE name > ? AND name < ? "
                "ORDER BY name LIMIT ?",
                (after, before, limit),
            )
        return self._checked(rows)

    def _checked(self, rows: list[tuple[object, ...]]) -> list[tuple[str, bytes]]:
        """(name, body) of each (name, body, crc) row; a checksum mismatch is damage."""
        found = []
        for name, body, crc in rows:
            if not isinstance(body, bytes) or crc32(body) != crc:
                raise StoreCorrupt(self.file, f"table {name!r} fails its checksum")
            found.append((str(name), body))
        return found

    def _query(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            return self._con.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _read_error(self.file, exc) from exc

    # writing ----------------------------------------------------------------------------

    def commit(self, batch: Batch) -> None:
        """One transaction: every put and drop, the schema if given, the commit counter.
        Waits for the writer thread's idle rewind (`idle`) when a commit on another thread
        (a blocking flush) meets one: the two share the write connection."""
        with self._writing:
            self._commit(batch)

    def commit_now(self, batch: Batch) -> bool:
        """`commit` on the calling thread (the event loop's: `StoragePort`'s `CommitsNow`)
        unless it would wait: for the idle rewind holding the connection, to catch the WAL
        up first (`_late`: a copy and fsyncs, the writer thread's to wait for), or to start
        the WAL (the first transaction since the store was opened: SQLite syncs the new
        file's header and its directory besides the transaction, three flushes for one)."""
        if self._first or not self._writing.acquire(blocking=False):
            return False
        try:
            if self._late():
                return False
            self.commit(batch)  # takes the lock again at once: it is ours
        finally:
            self._writing.release()
        return True

    def upkeep_due(self) -> bool:
        """Whether `idle` would rewind the WAL now (a background checkpoint is over)."""
        return self._rewind and not self.checkpointing

    def _late(self) -> bool:
        """The writer found no idle moment to rewind the WAL in for half a mark of pages
        after the background checkpoint: the next commit catches up itself (`_LATE`)."""
        return self.upkeep_due() and self._pages >= self._checkpoint_pages * _LATE

    def _commit(self, batch: Batch) -> None:
        con = self._writer
        if con is None:
            raise StoreError("the store is closed")
        # The first commit after an open skips a number and writes `meta`: a kill between a
        # commit and the lock file's rewrite leaves a commit the lock does not count (a
        # ghost, numbered one past it), which no later commit may be numbered like, or its
        # rows would stand witness for that commit if the WAL lost it.
        generation = self.commits + 1 + self._first
        puts: list[object] = []  # (name, generation, crc, body) after one another
        drops = []
        pages = 1  # about one of the index (and meta's page when it is written)
        witness = None
        for name, body in batch.tables.items():
            if body is None:
                drops.append((name,))
            else:
                # a bytearray: sqlite3 binds it as it is, where a bytes object is first
                # offered to adapters (two failed attribute look-ups, 3 k instructions)
                puts += (name, generation, crc32(body), bytearray(body))
                pages += len(body) // self._page_size + 1
                if witness is None and len(name.encode()) <= _WITNESS_MAX:
                    witness = name
        if drops and (self._witness,) in drops:
            witness = None  # a kill before the lock file names the new one finds it gone
        counted = witness is None or batch.schema is not None or not self._current or self._first
        pages += counted
        if self._late():
            self._catch_up(con)  # never idle since the checkpoint: bound the WAL here
        try:
            try:
                if drops or counted or len(puts) > _ONE_STATEMENT * 4:
                    self._transaction(con, puts, drops, batch.schema, generation if counted else 0)
                else:
                    # puts alone (a command's commit): one statement, SQLite's own
                    # transaction around it, all or nothing as well
                    con.execute(_PUTS[len(puts) // 4 - 1], puts)
            except BaseException:
                if con.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _as_os_error(exc) from exc
        self.commits = generation
        self._current = True
        self._first = False
        self._witness = None if counted else witness
        self._write_lock()
        self._pages += pages
        if self._pages >= self._checkpoint_pages:
            self._start_checkpoint()

    @staticmethod
    def _transaction(
        con: sqlite3.Connection,
        puts: list[object],
        drops: list[tuple[str]],
        schema: int | None,
        generation: int,
    ) -> None:
        """Puts, drops, the schema and the counter (`generation`, 0: not written) in one
        transaction of several statements."""
        con.execute("BEGIN IMMEDIATE")
        if puts:
            con.executemany(_PUTS[0], zip(*[iter(puts)] * 4, strict=True))
        if drops:
            con.executemany("DELETE FROM tables WHERE name=?", drops)
        if schema is not None:
            con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('schema', ?)", (schema,))
        if generation:
            # The counter, and that this version (which keeps summaries: see
            # `summaries_current`) made the commit: one statement, as the writer thread
            # takes the GIL back after each. An upsert changes the values in place: a
            # replace (delete, insert) also rewrote the page of meta's key index, one more
            # WAL frame.
            con.execute(
                "INSERT INTO meta(key, value) VALUES('commits', ?), ('summarised', ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (generation, generation),
            )
        con.execute("COMMIT")

    # checkpoints ------------------------------------------------------------------------

    def _start_checkpoint(self) -> None:
        """Copy the WAL into the database on the checkpoint thread (one at a time)."""
        if self._checkpoint is not None and not self._checkpoint.done():
            return  # the running one copies these pages too, or the next one will
        if self._checkpoints is None:
            self._checkpoints = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="store-checkpoint"
            )
        self._pages = 0
        self._rewind = True
        self.checkpoints += 1
        self._checkpoint = self._checkpoints.submit(self._passive_checkpoint)

    @property
    def checkpointing(self) -> bool:
        """Whether a background checkpoint is copying the WAL right now."""
        return self._checkpoint is not None and not self._checkpoint.done()

    def _passive_checkpoint(self) -> None:
        """A checkpoint that waits for nobody; one that fails (disk full) is retried later.
        It copies again what was committed while it copied (up to `_PASSES` times, each
        shorter than the last), so the writer's idle rewind finds little or nothing left
        to copy itself: a command handed over meanwhile waits for less."""
        con = self._checkpointer
        if con is None:
            return
        try:
            for _ in range(_PASSES):
                _, frames, copied = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if copied >= frames:
                    break
        except sqlite3.Error as exc:
            _LOGGER.warning("checkpoint failed (retried later): %s", exc)

    def idle(self) -> None:
        """On the writer thread, with no transaction waiting: once a background checkpoint
        is over, copy what it missed and rewind the WAL (the module's note), so that no
        command's commit pays for it. Frames a reader still holds back, or a failure (a
        full disk), leave it for a later idle moment (or for the commit path, `_LATE`)."""
        con = self._writer
        if con is None or not self.upkeep_due():
            return
        if not self._writing.acquire(blocking=False):
            return  # a blocking flush is committing on another thread: at a later moment
        try:
            self._rewind_wal(con)
        finally:
            self._writing.release()

    def _rewind_wal(self, con: sqlite3.Connection) -> None:
        if not self._catch_up(con):
            return
        try:
            # the counter: a real write (SQLite skips an UPDATE to the same value), and
            # the first to find every frame copied starts the WAL afresh; `meta` is brought
            # up to the count the rows witness (summaries current: this version committed)
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES('commits', ?), "
                    "('summarised', ?)",
                    (self.commits, self.commits),
                )
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:  # a full disk: tried again after the next checkpoint
            _LOGGER.warning("WAL rewind failed (retried later): %s", exc)
        else:
            self.rewinds += 1

    def _catch_up(self, con: sqlite3.Connection) -> bool:
        """On the writer, before a write: copy the frames committed while the background
        checkpoint ran, so the write rewinds the WAL (see the module's note); whether every
        frame is copied. Frames a reader still holds back are copied at a later try (one
        that finds nothing it may copy costs no fsync)."""
        self._rewind = False
        try:
            _, frames, copied = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the write itself may still succeed: let it try
            _LOGGER.warning("checkpoint failed (retried later): %s", exc)
            return False  # tried again after the next background checkpoint
        self._rewind = copied < frames
        return not self._rewind

    # checks (doctor) --------------------------------------------------------------------

    def integrity(self) -> list[str]:
        """SQLite's own integrity check plus every row's checksum; [] when all is well."""
        problems: list[str] = []
        try:
            for (line,) in self._con.execute("PRAGMA integrity_check"):
                if line != "ok":
                    problems.append(f"sqlite: {line}")
            for name, body, crc in self._con.execute("SELECT name, body, crc FROM tables"):
                if not isinstance(body, bytes) or crc32(body) != crc:
                    problems.append(f"table {name!r} fails its checksum")
        except sqlite3.DatabaseError as exc:
            problems.append(f"sqlite: {exc}")
        return problems

    def rows(self) -> Iterator[tuple[str, bytes]]:
        """Every (name, body), for checks and reports."""
        try:
            for name, body in self._con.execute("SELECT name, body FROM tables ORDER BY name"):
                yield str(name), bytes(body)
        except sqlite3.DatabaseError as exc:
            raise _read_error(self.file, exc) from exc

    def file_sizes(self) -> dict[str, int]:
        """Bytes of the database file and its WAL."""
        sizes = {}
        for path in (self.file, self.file.with_name(DB_FILE + "-wal")):
            with contextlib.suppress(FileNotFoundError):
                sizes[path.name] = path.stat().st_size
        return sizes

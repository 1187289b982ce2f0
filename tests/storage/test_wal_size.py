"""The WAL stays near the checkpoint mark: on a small disk it must not fill the disk by itself.
And what keeps it there (copying what a background checkpoint missed, and the write that
starts the WAL afresh) is done while the writer is idle, not inside a command's commit."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from storage.engine import Database
from storage.port import Batch
from storage.sqlite import DB_FILE, SqliteBackend

MARK = 20  # pages
BODY = b"v" * 5000  # 4 pages by the backend's count


def _wal(root: Path) -> int:
    path = root / f"{DB_FILE}-wal"
    return path.stat().st_size if path.exists() else 0


def _frames(root: Path) -> tuple[int, int]:
    """(frames in the WAL, frames copied into the database), from another connection."""
    con = sqlite3.connect(root / DB_FILE, isolation_level=None)
    try:
        _, frames, copied = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        con.close()
    return int(frames), int(copied)


@contextlib.contextmanager
def _held(lock: threading.RLock) -> Iterator[None]:
    """`lock` held by another thread for the block."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            taken.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        done.set()
        holder.join()


def _until_a_checkpoint(backend: SqliteBackend) -> None:
    """Commit until one crosses the mark, then wait for its background checkpoint."""
    started = backend.checkpoints
    while backend.checkpoints == started:
        backend.commit(Batch({f"t{backend.commits}": BODY}))
    assert backend._checkpoint is not None
    backend._checkpoint.result(timeout=10)


def test_frames_committed_while_a_checkpoint_copied_do_not_keep_the_wal_from_rewinding(
    tmp_path: Path,
) -> None:
    """Frames the background checkpoint could not copy (committed while it ran; here held
    back by a reader's snapshot, the same state without the race) are copied at the
    writer's next idle moment, which starts the WAL afresh. Before, SQLite rewound it only
    at a write that found every frame copied, so under a steady stream of sets it grew to
    the 8-mark backstop."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    reader = sqlite3.connect(tmp_path / DB_FILE, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM tables").fetchall()
        _until_a_checkpoint(backend)
        backend.idle()  # the reader still holds the frames back: nothing to rewind yet
        assert backend.rewinds == 0
        reader.execute("COMMIT")
        backend.idle()  # as the writer thread does once no transaction waits
        assert backend.rewinds == 1
        assert _frames(tmp_path)[0] <= 2  # the rewind's own write: the counter's page
        backend.commit(Batch({"after": b"w"}))
        frames, copied = _frames(tmp_path)
        assert copied == frames <= 6  # that and this one commit only
        assert backend.load("t0") == BODY
    finally:
        reader.close()
        backend.close()


def test_a_large_write_leaves_no_large_wal_behind(tmp_path: Path) -> None:
    """One big transaction (an import) grows the WAL; once it is copied, the writer's next
    idle moment cuts the file back to the mark instead of keeping it at its largest."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    try:
        backend.commit(Batch({"big": b"x" * 2_000_000}))
        assert _wal(tmp_path) > 2_000_000
        assert backend._checkpoint is not None
        backend._checkpoint.result(timeout=10)
        backend.idle()
        assert _wal(tmp_path) <= MARK * 4096
        backend.commit(Batch({"small": b"y"}))
        assert _wal(tmp_path) <= MARK * 4096
        assert backend.load("big") == b"x" * 2_000_000
    finally:
        backend.close()


def test_a_writer_never_idle_still_keeps_the_wal_near_the_mark(tmp_path: Path) -> None:
    """Transactions back to back with no idle moment between them (`idle` never called):
    the commit path copies what the checkpoints missed itself, half a mark after each, so
    the WAL does not grow towards SQLite's 8-mark backstop."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    try:
        for _ in range(10):
            _until_a_checkpoint(backend)
            for _ in range(MARK // 4 + 1):  # each 4 pages by the count: past half a mark
                backend.commit(Batch({f"u{backend.commits}": BODY}))
        assert backend.rewinds == 0
        assert _wal(tmp_path) <= 3 * MARK * 4096
        assert backend.load("t0") == BODY
    finally:
        backend.close()


async def test_no_commit_of_a_running_store_copies_the_wal_when_the_writer_had_an_idle_moment(
    tmp_path: Path,
) -> None:
    """Through the database's writer thread, one command at a time (the writer idles after
    each): every catch-up and rewind runs in `idle`, none inside a transaction's commit,
    and the WAL still rewinds after each background checkpoint."""
    db = Database.open(tmp_path, checkpoint_pages=MARK)
    backend = db.backend
    assert isinstance(backend, SqliteBackend)
    where: list[tuple[str, int, bool]] = []  # (where, pages, rewind due after)
    inside = [False]
    commit, catch_up = backend.commit, backend._catch_up

    def spied_commit(batch: Batch) -> None:  # on the writer thread or the loop
        inside[0] = True
        try:
            commit(batch)
        finally:
            inside[0] = False

    def spied_catch_up(con: sqlite3.Connection) -> bool:
        done = catch_up(con)
        where.append(("commit" if inside[0] else "idle", backend._pages, backend._rewind))
        return done

    backend.commit = spied_commit  # type: ignore[method-assign]  # a spy
    backend._catch_up = spied_catch_up  # type: ignore[method-assign]
    try:
        for n in range(60):
            db.table(f"t{n}").insert({"body": "v" * 5000})
            await db.commit()
            if backend._checkpoint is not None:
                backend._checkpoint.result(timeout=10)  # over before the next command
        assert backend.checkpoints >= 5
        assert where and {w[0] for w in where} == {"idle"}, where
        assert backend.rewinds >= backend.checkpoints - 1  # the last may still be due
        assert _wal(tmp_path) <= 2 * MARK * 4096
    finally:
        db.close()
    assert Database.open(tmp_path).table("t59").all() == [{"body": "v" * 5000}]


def test_a_blocking_flush_and_the_idle_rewind_never_share_the_write_connection_at_once(
    tmp_path: Path,
) -> None:
    """`Database.flush` commits on its own thread (the loop's, a script's) while the writer
    thread may be rewinding the WAL on the same connection ("cannot commit transaction - SQL
    statements in progress" in the kill -9 test): the rewind holds the write lock, which a
    commit waits for, and it gives way to a commit that holds it."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    inside, go = threading.Event(), threading.Event()
    catch_up = backend._catch_up

    def held(con: sqlite3.Connection) -> bool:
        inside.set()
        assert go.wait(10)
        return catch_up(con)

    try:
        _until_a_checkpoint(backend)
        with _held(backend._writing):  # a commit on another thread: the rewind waits its turn
            backend.idle()
        assert backend.rewinds == 0 and backend._rewind
        backend._catch_up = held  # type: ignore[method-assign]  # a gate
        rewind = threading.Thread(target=backend.idle)
        rewind.start()
        assert inside.wait(10)
        assert not backend._writing.acquire(blocking=False)  # a flush's commit waits for it
        assert not backend.commit_now(Batch({"x": b"1"}))  # and the loop's gives way
        go.set()
        rewind.join()
        backend.commit(Batch({"after": b"w"}))
        assert backend.rewinds == 1 and backend.load("after") == b"w"
    finally:
        go.set()
        backend.close()


def test_the_first_transaction_after_open_is_left_to_the_writer_thread(tmp_path: Path) -> None:
    """It starts the WAL: SQLite syncs the new file's header and its directory besides the
    transaction (three flushes where a commit makes one; 15-35 ms on a loaded host, the
    open loop's first write), so the loop's `commit_now` declines it, doing nothing."""
    for opened in range(2):  # a new store, and one opened again (its WAL deleted at close)
        backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
        backend.lock()
        try:
            assert not backend.commit_now(Batch({"a": b"%d" % opened}))
            assert backend.load("a") == (b"0" if opened else None)
            backend.commit(Batch({"a": b"%d" % opened}))  # the writer thread's
            assert backend.commit_now(Batch({"b": b"%d" % opened}))
            assert backend.load("b") == b"%d" % opened
        finally:
            backend.close()


def test_a_commit_on_the_callers_thread_never_waits_for_the_idle_rewind_or_a_catch_up(
    tmp_path: Path,
) -> None:
    """`commit_now` (the event loop's lone transaction) declines, doing nothing, while the
    writer thread's idle rewind holds the write connection, and when the WAL must be
    caught up first: the loop is never held behind either; the writer thread does both."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    try:
        assert not backend.upkeep_due()
        backend.commit(Batch({"a": b"1"}))  # the first after open is the writer's (above)
        assert backend.commit_now(Batch({"a": b"1"}))
        _until_a_checkpoint(backend)
        assert backend.upkeep_due()  # the checkpoint is over: a rewind waits for `idle`
        with _held(backend._writing):  # by the writer thread's rewind, say
            assert not backend.commit_now(Batch({"b": b"2"}))
        assert backend.load("b") is None
        while backend._pages < MARK // 2:  # never idle since the checkpoint: half a mark
            assert backend.commit_now(Batch({f"u{backend.commits}": BODY}))
        commits = backend.commits
        assert not backend.commit_now(Batch({"c": b"3"}))  # it would catch up first
        assert backend.commits == commits and backend.load("c") is None
        backend.commit(Batch({"c": b"3"}))  # the writer thread's commit does
        assert not backend._rewind and backend.load("c") == b"3"
    finally:
        backend.close()

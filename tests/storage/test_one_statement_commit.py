"""A commit of puts alone is one upsert statement in SQLite's own transaction (issue 8: a
/kpi set's BEGIN, step per put and COMMIT cost 27 k instructions on the loop); any other
commit is the transaction of several statements it always was. The property: random
commits leave the same rows, generations, meta, lock file and WAL frames as the same
commits all through the old transaction. A planted bug (a statement of several puts that
keeps a row's old generation) fails it. A disk too full for the statement leaves nothing behind."""

from __future__ import annotations

import errno
import sqlite3
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import sqlite as sqlite_backend
from storage.port import Batch
from storage.sqlite import DB_FILE, LOCK_FILE, SqliteBackend
from tests.support import wal_frames

_NAMES = ("a", "b", "c", "d", "ü" * 60)  # the last too long to witness: `meta` counts
_BATCH = st.dictionaries(
    st.sampled_from(_NAMES),
    st.none() | st.binary(min_size=0, max_size=5000),  # some rows spill to overflow pages
    min_size=1,
)
_STEPS = st.lists(st.tuples(_BATCH, st.booleans()), min_size=1, max_size=8)


def _state(root: Path, steps: list[tuple[dict[str, bytes | None], bool]]) -> tuple[object, ...]:
    """What the steps leave: every row with its generation and checksum, meta, the lock
    file's line without the pid, and the WAL's frames (page numbers, commit marks)."""
    backend = SqliteBackend(root, checkpoint_pages=10**6)  # every frame stays in the WAL
    backend.lock()
    try:
        for tables, schema in steps:
            backend.commit(Batch(tables, schema=5 if schema else None))
        frames = wal_frames(root)
        lock = (root / LOCK_FILE).read_bytes().split(b" ", 1)[1]
        con = sqlite3.connect(root / DB_FILE)
        try:
            rows = con.execute("SELECT name, generation, crc, body FROM tables ORDER BY name")
            meta = con.execute("SELECT key, value FROM meta ORDER BY key")
            return rows.fetchall(), meta.fetchall(), lock, frames, backend.commits
        finally:
            con.close()
    finally:
        backend.close()


def _same_as_the_transaction(steps: list[tuple[dict[str, bytes | None], bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        new = _state(Path(tmp) / "new", steps)
        with mock.patch("storage.sqlite._ONE_STATEMENT", 0):  # every commit: the old way
            old = _state(Path(tmp) / "old", steps)
    assert new == old


@settings(max_examples=60, deadline=None)
@given(_STEPS)
def test_puts_in_one_statement_leave_what_the_transaction_left(
    steps: list[tuple[dict[str, bytes | None], bool]],
) -> None:
    _same_as_the_transaction(steps)


def test_the_property_catches_a_statement_that_keeps_a_rows_old_generation() -> None:
    """The planted bug: the statement of several puts updates a row's body and checksum
    but not its generation (so it could not witness its commit)."""
    planted = tuple(
        put.replace("generation=excluded.generation, ", "") if n else put
        for n, put in enumerate(sqlite_backend._PUTS)
    )
    assert planted[1:] != sqlite_backend._PUTS[1:]
    steps: list[tuple[dict[str, bytes | None], bool]] = [
        ({"a": b"1"}, False),
        ({"a": b"2", "b": b"3"}, False),
    ]
    with mock.patch("storage.sqlite._PUTS", planted), pytest.raises(AssertionError):
        _same_as_the_transaction(steps)


def test_a_disk_too_full_for_the_statement_leaves_nothing_and_the_next_commit_works(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path)
    backend.lock()
    try:
        backend.commit(Batch({"a": b"1"}))
        backend.commit(Batch({"a": b"2", "b": b"3"}))  # puts alone: the one statement
        con = backend._writer
        assert con is not None
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count={pages}")  # no page more: the disk is full
        with pytest.raises(OSError) as failed:
            backend.commit(Batch({"a": b"x" * 20_000, "b": b"4"}))
        assert failed.value.errno == errno.ENOSPC
        assert not con.in_transaction and backend.commits == 3  # (the first skips one)
        assert (backend.load("a"), backend.load("b")) == (b"2", b"3")
        con.execute("PRAGMA max_page_count=1073741823")  # space is back
        backend.commit(Batch({"a": b"x" * 20_000, "b": b"4"}))
        assert (backend.load("a"), backend.load("b")) == (b"x" * 20_000, b"4")
    finally:
        backend.close()

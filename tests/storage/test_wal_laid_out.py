"""A store closed cleanly (its WAL deleted) opens with a WAL of one checkpoint mark in zeros:
commits then write over blocks already there instead of growing the file, whose fdatasync
also waited for the file system's journal (issue 8). SQLite reads the zeros as no frames:
what was committed over them survives a kill, and a WAL a crash left is never touched."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from storage.port import Batch
from storage.sqlite import DB_FILE, LOCK_FILE, SqliteBackend

_WAL = DB_FILE + "-wal"
_MARK = 50  # pages


def _frozen(root: Path, into: Path) -> Path:
    """The files as a kill -9 leaves them (the page cache kept)."""
    into.mkdir()
    for name in (DB_FILE, _WAL, LOCK_FILE):
        shutil.copy(root / name, into / name)
    return into


@contextlib.contextmanager
def _opened(root: Path) -> Iterator[SqliteBackend]:
    """The store in `root`, locked (its lost-commit check passed), closed afterwards."""
    backend = SqliteBackend(root, checkpoint_pages=_MARK)
    backend.lock()
    try:
        yield backend
    finally:
        backend.close()


def test_a_store_opened_again_writes_its_wal_over_zeros_laid_out_and_keeps_its_commits(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    with _opened(root) as backend:
        backend.commit(Batch({"a": b"1"}))
    assert not (root / _WAL).exists()  # SQLite deleted it at the last close
    with _opened(root) as backend:
        assert (root / _WAL).stat().st_size == _MARK * 4096  # laid out before any commit
        backend.commit(Batch({"a": b"2", "b": b"3"}))
        backend.commit(Batch({"c": b"4"}))
        assert (root / _WAL).stat().st_size == _MARK * 4096  # written over, not grown
        killed = _frozen(root, tmp_path / "killed")
    with _opened(killed) as reopened:  # the lock file's count is met: no commit lost
        assert [reopened.load(n) for n in "abc"] == [b"2", b"3", b"4"]


def test_a_wal_a_crash_left_is_recovered_not_laid_out_again(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with _opened(root) as backend:
        backend.commit(Batch({"a": b"1"}))
        backend.commit(Batch({"a": b"2"}))
        killed = _frozen(root, tmp_path / "killed")
    frames = (killed / _WAL).read_bytes()
    with _opened(killed) as reopened:
        assert (killed / _WAL).read_bytes()[: len(frames)] == frames  # recovered as it was
        assert reopened.load("a") == b"2"


def test_a_new_store_gets_no_wal_laid_out(tmp_path: Path) -> None:
    """A new store (no database file yet) lets SQLite start its WAL as before."""
    root = tmp_path / "store"
    with _opened(root) as backend:
        backend.commit(Batch({"a": b"1"}))
        assert (root / _WAL).stat().st_size < _MARK * 4096

"""A store that can't be read for a reason other than damage is never called damaged.

Found by probe9 on a small tmpfs: with the disk full, starting the bot on an intact store
answered "store.db is damaged (disk I/O error) … restore the data directory from a
backup", which sends people to replace good data; and `doctor` on a store whose file
header was flipped stopped with a traceback instead of naming the problem.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.doctor import examine
from storage.engine import Database
from storage.errors import StoreCorrupt, StoreNotOpened, StoreUnreadable
from storage.migrations import open_database
from storage.port import Batch
from storage.sqlite import SqliteBackend
from tests.storage.test_migrations import v1_tables, write_journal_store


def _full(*_: object, **__: object) -> sqlite3.Connection:
    exc = sqlite3.OperationalError("database or disk is full")
    exc.sqlite_errorcode = sqlite3.SQLITE_FULL
    raise exc


def _saved(data: Path) -> None:
    with Database.open(data) as db:
        db.table("t").insert({"k": 1})


def test_a_store_that_cannot_be_read_for_a_full_disk_is_not_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    _saved(data)
    monkeypatch.setattr("storage.sqlite.sqlite3.connect", _full)
    with pytest.raises(StoreUnreadable) as caught:
        Database.open(data)
    assert str(caught.value) == (
        f"Could not read {data / 'store.db'} (database or disk is full). Nothing was changed "
        "and it was not found damaged: if the disk is full, free some space, then try again."
    )
    report = examine(data)
    assert report.problems == [str(caught.value)]
    monkeypatch.undo()
    with Database.open(data) as db:  # space is back: the store opens as it was
        assert db.table("t").all() == [{"k": 1}]


def test_a_malformed_file_is_still_damage(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _saved(data)
    (data / "store.db").write_bytes(b"not a database at all" * 300)
    with pytest.raises(StoreCorrupt, match="is damaged"):
        Database.open(data)


def test_doctor_names_a_damaged_file_header_instead_of_stopping(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Database.open(data) as db:
        for n in range(40):
            db.table(f"t:{n}").insert({"k": "x" * 5000})
    raw = bytearray((data / "store.db").read_bytes())
    raw[20] ^= 0x01  # the reserved bytes per page: every page now reads as malformed
    (data / "store.db").write_bytes(bytes(raw))
    report = examine(data)
    assert report.problems[-1] == (
        f"{data / 'store.db'} is damaged (database disk image is malformed). Nothing was "
        "changed; restore the data directory from a backup or ask an operator to inspect "
        "the file."
    )


@contextlib.contextmanager
def _tmpfs(where: Path) -> Iterator[bool]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    try:
        yield mounted.returncode == 0
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(where)], check=False)


def test_starting_on_a_really_full_disk_says_not_damaged_and_starts_once_space_returns(
    tmp_path: Path,
) -> None:
    mount = tmp_path / "small"
    with _tmpfs(mount) as mounted:
        if not mounted:
            pytest.skip("cannot mount a tmpfs here; the injected test covers this")
        data = mount / "data"
        _saved(data)
        (data / "store.db-shm").unlink(missing_ok=True)  # as after a clean stop elsewhere
        with open(mount / "filler", "wb") as f, contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        with pytest.raises(StoreUnreadable, match="not found damaged: if the disk is full"):
            Database.open(data)
        (mount / "filler").unlink()
        with Database.open(data) as db:
            assert db.table("t").all() == [{"k": 1}]


def _refused(self: object, batch: Batch) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_refused_while_opening_says_the_bot_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by probe9: a full disk during the move of an old journal store, or during a
    migration, answered "Could not save … Reading still works, and saving resumes by itself"
    while the bot had stopped; the import's own failure was a bare OSError."""
    monkeypatch.setattr(SqliteBackend, "commit", _refused)
    new = tmp_path / "new"
    with pytest.raises(StoreNotOpened) as caught:
        open_database(new)
    assert str(caught.value) == (
        f"Could not make {new} ready (No space left on device): that step was "
        "rolled back and nothing else changed. If the disk is full, free some space, then "
        "start again."
    )
    old = tmp_path / "old"
    write_journal_store(old, v1_tables())
    with pytest.raises(StoreNotOpened, match=r"Could not make .* ready .* start again"):
        open_database(old)
    assert (old / "store.snapshot").exists()  # the old files stay where they were
    monkeypatch.undo()
    open_database(old).close()  # space is back: the move and the migrations run
    assert not (old / "store.snapshot").exists()

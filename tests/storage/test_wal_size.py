"""The WAL stays near the checkpoint mark: on a small disk it must not fill the disk by itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.port import Batch
from storage.sqlite import DB_FILE, SqliteBackend

MARK = 20  # pages


def _wal(root: Path) -> int:
    path = root / f"{DB_FILE}-wal"
    return path.stat().st_size if path.exists() else 0


def test_frames_committed_while_a_checkpoint_copied_do_not_keep_the_wal_from_rewinding(
    tmp_path: Path,
) -> None:
    """Frames the background checkpoint could not copy (committed while it ran; here held
    back by a reader's snapshot, the same state without the race) are copied by the next
    write, which starts the WAL afresh. Before, SQLite rewound it only at a write that found
    every frame copied, so under a steady stream of sets it grew to the 8-mark backstop."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    reader = sqlite3.connect(tmp_path / DB_FILE, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM tables").fetchall()
        body = b"v" * 5000  # 4 pages by the backend's count
        while backend.checkpoints == 0:  # until one crosses the mark
            backend.commit(Batch({f"t{backend.commits}": body}))
        assert backend._checkpoint is not None
        backend._checkpoint.result(timeout=10)
        reader.execute("COMMIT")
        backend.commit(Batch({"after": b"w"}))
        _, frames, copied = reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert copied == frames <= 4  # this one commit only
        assert backend.load("t0") == body
    finally:
        reader.close()
        backend.close()


def test_a_large_write_leaves_no_large_wal_behind(tmp_path: Path) -> None:
    """One big transaction (an import) grows the WAL; once it is copied, the next write
    cuts the file back to the mark instead of keeping it at its largest."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    try:
        backend.commit(Batch({"big": b"x" * 2_000_000}))
        assert _wal(tmp_path) > 2_000_000
        assert backend._checkpoint is not None
        backend._checkpoint.result(timeout=10)
        backend.commit(Batch({"small": b"y"}))
        assert _wal(tmp_path) <= MARK * 4096
        assert backend.load("big") == b"x" * 2_000_000
    finally:
        backend.close()

"""The WAL stays near the checkpoint mark: on a small disk it must not fill the disk by itself."""

from __future__ import annotations

from pathlib import Path

from storage.port import Batch
from storage.sqlite import DB_FILE, SqliteBackend

MARK = 20  # pages


def _wal(root: Path) -> int:
    path = root / f"{DB_FILE}-wal"
    return path.stat().st_size if path.exists() else 0


def test_a_steady_stream_of_writes_keeps_the_wal_near_the_checkpoint_mark(tmp_path: Path) -> None:
    """Commits in a row, with background checkpoints copying meanwhile: the WAL is rewound
    every few marks instead of growing to SQLite's backstop (8 marks)."""
    backend = SqliteBackend(tmp_path, checkpoint_pages=MARK)
    backend.lock()
    try:
        largest = 0
        for i in range(160):
            backend.commit(Batch({f"t{i % 20}": bytes([i % 256]) * 5000}))
            largest = max(largest, _wal(tmp_path))
        assert backend.checkpoints > 5
        assert largest <= 3 * MARK * 4096
        assert backend.load("t19") == bytes([159]) * 5000
    finally:
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

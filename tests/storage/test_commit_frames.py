"""A commit writes the pages of the rows it changes and the commit counter's one page, no
more: every page is a WAL frame the writer checksums, copies and syncs (issue 8)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from bot.app import build_core
from storage.audit import AUDIT_BLOCK
from storage.initiatives import LOG_BLOCK
from storage.port import Batch
from storage.sqlite import DB_FILE, SqliteBackend
from tests.support import FakeChat, FixedClock, stored_tables, wal_frames


def _wal_pages(root: Path) -> list[int]:
    """The page number of each frame in the WAL, in order."""
    return [page for page, _ in wal_frames(root)]


def test_a_commit_that_puts_a_row_writes_its_page_alone(tmp_path: Path) -> None:
    """The row carries the commit's number and the lock file names it: the counter's page
    in `meta` is not written (test_commit_witness.py), one frame fewer in every such
    commit; when the counter is written, an upsert changes it in place (a replace also
    rewrote the page of meta's key index)."""
    backend = SqliteBackend(tmp_path)
    backend.lock()
    try:
        backend.commit(Batch({"t": b"1"}))
        before = len(_wal_pages(tmp_path))
        backend.commit(Batch({"t": b"2"}))
        written = _wal_pages(tmp_path)[before:]
        assert len(written) == 1, written  # the row's leaf page
        backend.commit(Batch({"t": None}))  # nothing put: the counter is written
        before = len(_wal_pages(tmp_path))
        backend.commit(Batch({"u": None}))
        written = _wal_pages(tmp_path)[before:]
        assert len(written) == 1, written  # the counter's page, its index untouched
        backend.commit(Batch({"t": b"2"}))
        assert backend.commits == 6  # the first commit skips a number
    finally:
        backend.close()
    reopened = SqliteBackend(tmp_path)
    reopened.lock()
    try:
        assert reopened.commits == 6
        assert reopened.summaries_current()
        assert reopened.load("t") == b"2"
    finally:
        reopened.close()


def test_pages_a_shrunk_body_frees_are_not_written(tmp_path: Path) -> None:
    """A body that shrinks (or moves to new pages as it grows: the alert book, an audit
    block) frees its overflow pages. SQLite built with SECURE_DELETE (Debian's, this
    host's) zeroes each freed page, a WAL frame apiece though nothing reads them again;
    `secure_delete=FAST` still clears deleted rows on the pages that hold them."""
    backend = SqliteBackend(tmp_path)
    backend.lock()
    try:
        backend.commit(Batch({"t": bytes(40_000)}))  # ten overflow pages
        before = len(_wal_pages(tmp_path))
        backend.commit(Batch({"t": b"1"}))
        written = _wal_pages(tmp_path)[before:]
        # the row's leaf, the freelist's trunk page, page 1 (its count)
        assert len(written) == 3, written
    finally:
        backend.close()


async def _said(chat: FakeChat, texts: list[str]) -> None:
    for text in texts:
        await chat.ok(text)


def _largest_row(root: Path, prefix: str, texts: list[str]) -> tuple[int, int]:
    """(blocks, the largest record of tables named `prefix…`) after `texts`, and the page
    size. A record: the body and name, and under 20 bytes of header, generation and CRC."""
    core = build_core(root, clock=FixedClock())
    try:
        asyncio.run(_said(FakeChat(core, chat_id="-1001234567890"), texts))
        tables = stored_tables(core)
    finally:
        core.close()
    with contextlib.closing(sqlite3.connect(root / DB_FILE)) as con:
        page = int(con.execute("PRAGMA page_size").fetchone()[0])
    blocks = {name: body or b"" for name, body in tables.items() if name.startswith(prefix)}
    assert len(blocks) >= 3
    return max(len(body) + len(name) + 20 for name, body in blocks.items()), page


def test_a_full_audit_block_of_sets_fits_its_leaf_page(tmp_path: Path) -> None:
    """An audit block is rewritten at every entry in it. A row longer than a page's local
    payload (page size - 35 bytes) spills into an overflow page that SQLite frees and
    takes again at each rewrite: the overflow page, the freelist's trunk page and page 1
    (its count) are three more WAL frames. Blocks of 16 `/kpi set` entries (~7.4 KB)
    spilled for half their life: ~7 frames a set instead of ~4 (issue 8)."""
    add = '/kpi add cac "Customer acquisition cost" target=50 perspective=finance'
    sets = [f"/kpi set cac {n * 7 % 180}.5" for n in range(3 * AUDIT_BLOCK)]
    largest, page = _largest_row(tmp_path, "audit:", [add, *sets])
    assert largest <= page - 35


def test_a_full_progress_log_block_of_hashtags_fits_its_leaf_page(tmp_path: Path) -> None:
    """The same for a `#hashtag`'s progress log block: 64 entries (~150 bytes each) spilled
    from 28 on, 4.5 WAL frames a hashtag instead of 2.5 (its audit block's and its own)."""
    add = '/initiative add articles "Publish articles" cadence=4/month'
    logs = [f"#articles +{n % 3 + 1} published" for n in range(3 * LOG_BLOCK)]
    largest, page = _largest_row(tmp_path, "ilog:", [add, *logs])
    assert largest <= page - 35

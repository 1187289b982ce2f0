"""Reading the stores of scorecard-bot before SQLite (`store.snapshot` + `store.journal`).

Only for the one-time migration (`storage.migrations`): it validates both files like the
old engine did (CRC per line, whole batches, generations, schema) and returns the final
body of every table, without changing either file. A torn last batch was never
acknowledged and is left out; damage followed by complete batches is refused.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path
from typing import Any, Final

import orjson

from storage.errors import SchemaTooNew, StoreCorrupt

__all__ = ["JOURNAL_FILE", "LEGACY_SCHEMA", "SNAPSHOT_FILE", "read_legacy"]

_LOGGER = logging.getLogger(__name__)

SNAPSHOT_FILE: Final = "store.snapshot"
JOURNAL_FILE: Final = "store.journal"
LEGACY_SCHEMA: Final = 1  # the journal engine's layout; newer files are refused
_FORMAT: Final = "scorecard-bot.store"


def _docs_start(line: bytes) -> int:
    """Offset of the table JSON in a put line (names are JSON strings: no raw tabs)."""
    return line.index(b"\t", 11) + 1


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
    if schema > LEGACY_SCHEMA:
        raise SchemaTooNew(path, schema, LEGACY_SCHEMA)
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


def read_legacy(root: Path) -> tuple[dict[str, bytes], int]:
    """Every table's body (JSON of its documents by id) and the schema of the files."""
    snapshot, journal = root / SNAPSHOT_FILE, root / JOURNAL_FILE
    lines: dict[str, bytes | None] = {}
    generation = 0
    schema = LEGACY_SCHEMA
    if snapshot.exists():
        raw = snapshot.read_bytes()
        header, start = _parse_header(snapshot, raw, "snapshot")
        generation = header["generation"]
        schema = min(schema, header["schema"])
        records, _ = _read_records(snapshot, raw, start, tail_ok=False)
        if header.get("tables") != len(records):
            raise StoreCorrupt(
                snapshot, f"{len(records)} tables, header says {header.get('tables')}"
            )
        for line in records:
            kind, name = _record_name(snapshot, line)
            if kind != b"P":
                raise StoreCorrupt(snapshot, "drop record in a snapshot")
            lines[name] = line
    if journal.exists():
        raw = journal.read_bytes()
        header, start = _parse_header(journal, raw, "journal")
        schema = min(schema, header["schema"])
        if header["generation"] > generation:
            raise StoreCorrupt(
                journal,
                f"journal generation {header['generation']} is newer than snapshot "
                f"generation {generation}; the snapshot is missing or old",
            )
        if header["generation"] == generation:
            records, _ = _read_records(journal, raw, start, tail_ok=True)
            batch: list[tuple[bytes, str, bytes]] = []
            for line in records:
                count = _commit_count(journal, line)
                if count is None:
                    kind, name = _record_name(journal, line)
                    batch.append((kind, name, line))
                    continue
                if count != len(batch):
                    raise StoreCorrupt(journal, "a batch lost records")
                for kind, name, record in batch:
                    lines[name] = record if kind == b"P" else None
                batch = []
            if batch:
                _LOGGER.warning("%s: a batch cut short by a crash was never saved", journal)
    bodies = {
        name: bytes(memoryview(line)[_docs_start(line) : -1])
        for name, line in lines.items()
        if line is not None
    }
    return bodies, schema


def legacy_present(root: Path) -> bool:
    """Whether `root` holds a store of the journal engine."""
    return (root / SNAPSHOT_FILE).exists() or (root / JOURNAL_FILE).exists()


def document_count(body: bytes) -> int:
    """How many documents a table body holds."""
    docs: dict[str, Any] = orjson.loads(body)
    return len(docs)

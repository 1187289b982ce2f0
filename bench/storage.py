"""Durable `/kpi set` writes on 50 KPIs × 100 000 values: our engine vs sqlite3 vs TinyDB.

Every write is one measurement made durable before the next starts (insert + fsync):

- ours: `table.insert` into the KPI's month shard, then `await db.commit()`; also 50
  concurrent writers to show group commit;
- sqlite3: WAL, `synchronous=FULL`, one INSERT + COMMIT per write (same rows, indexed);
- TinyDB's default `JSONStorage` holding the same tables in one file (it re-reads and
  rewrites the whole file per write, so a handful of writes is enough).

Our engine runs in a child process so its open time and resident memory are those of a
process that only holds the store. Run: `python -m bench.storage`.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from storage.engine import Database

KPIS = 50
MEASUREMENTS = 100_000
CHAT = "console:local"
FIRST_DAY = date(2021, 5, 3)  # 2 000 daily values per KPI end in 2026-10
WRITES = 2_000  # per engine, run in alternating blocks so machine noise hits both alike
BLOCKS = 4
CONCURRENT_WRITERS = 50
TINYDB_WRITES = 5
ROOT = Path(__file__).resolve().parents[1]

Row = dict[str, object]
Report = Callable[[str, Row], None]


def measurement(rng: random.Random, kpi: str, day: date) -> dict[str, Any]:
    """A document shaped like a stored `Measurement`."""
    return {
        "kpi": kpi,
        "value": round(rng.uniform(0, 1000), 2),
        "day": day.isoformat(),
        "at": f"{day.isoformat()}T09:{rng.randrange(60):02d}:00+00:00",
        "by": f"console:user{rng.randrange(8)}",
        "note": rng.choice(["", "", "", "campaign week", "estimate, to confirm"]),
    }


def dataset() -> dict[str, list[dict[str, Any]]]:
    """100 000 measurements sharded as the repositories do: `m:<chat>:<kpi>:<YYYY-MM>`."""
    rng = random.Random(7)
    shards: dict[str, list[dict[str, Any]]] = {}
    per_kpi = MEASUREMENTS // KPIS
    for k in range(KPIS):
        kpi = f"kpi{k:02d}"
        for d in range(per_kpi):
            day = FIRST_DAY + timedelta(days=d)
            shards.setdefault(f"m:{CHAT}:{kpi}:{day.isoformat()[:7]}", []).append(
                measurement(rng, kpi, day)
            )
    return shards


def new_value(rng: random.Random, i: int) -> tuple[str, dict[str, Any]]:
    """The i-th benchmark write: today's value of one KPI, into this month's shard."""
    kpi = f"kpi{i % KPIS:02d}"
    day = date(2026, 11, 1) + timedelta(days=i % 28)
    return f"m:{CHAT}:{kpi}:{day.isoformat()[:7]}", measurement(rng, kpi, day)


def _ops(rate: float) -> float:
    """Whole ops/s, but keep two digits for the very slow baseline."""
    return round(rate) if rate >= 100 else round(rate, 2)


def summary(name: str, latencies: list[float], elapsed: float) -> Row:
    """ops/s and p50/p99 in milliseconds."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "engine": name,
        "writes": len(latencies),
        "ops/s": _ops(len(latencies) / elapsed),
        "p50 ms": round(statistics.median(ordered) * 1000, 3),
        "p99 ms": round(p99 * 1000, 3),
    }


# --------------------------------------------------------------------------- ours


def build_ours(path: Path, shards: dict[str, list[dict[str, Any]]]) -> None:
    """Write the data set through the engine and leave a snapshot, as a running bot would."""
    with Database.open(path) as db:
        for name, docs in shards.items():
            db.table(name).insert_multiple(docs)
        db.flush()


def _rss_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
    )
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


class Timings:
    """Per-write latencies and total time of one engine, accumulated over blocks."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.elapsed = 0.0

    def as_json(self) -> tuple[list[float], float]:
        return self.latencies, self.elapsed


async def _ours_block(db: Database, rng: random.Random, first: int, timings: Timings) -> None:
    started = time.perf_counter()
    for i in range(first, first + WRITES // BLOCKS):
        t0 = time.perf_counter()
        name, doc = new_value(rng, i)
        db.table(name).insert(doc)
        await db.commit()
        timings.latencies.append(time.perf_counter() - t0)
    timings.elapsed += time.perf_counter() - started


def _sqlite_block(conn: Any, rng: random.Random, first: int, timings: Timings) -> None:
    started = time.perf_counter()
    for i in range(first, first + WRITES // BLOCKS):
        t0 = time.perf_counter()
        name, doc = new_value(rng, i)
        conn.execute("BEGIN")
        conn.execute(SQLITE_INSERT, sqlite_row(name, doc))
        conn.execute("COMMIT")
        timings.latencies.append(time.perf_counter() - t0)
    timings.elapsed += time.perf_counter() - started


async def _writes(db: Database, sqlite_path: Path) -> dict[str, Any]:
    import sqlite3  # only now: the RSS figure is taken before, for our store alone

    conn = sqlite3.connect(sqlite_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    ours, sqlite = Timings(), Timings()
    ours_rng, sqlite_rng = random.Random(11), random.Random(11)
    for block in range(BLOCKS):
        first = block * (WRITES // BLOCKS)
        await _ours_block(db, ours_rng, first, ours)
        _sqlite_block(conn, sqlite_rng, first, sqlite)
    conn.close()

    syncs_before = db.commits
    concurrent = Timings()
    rng = random.Random(13)

    async def writer(w: int) -> None:
        for i in range(WRITES // CONCURRENT_WRITERS):
            t0 = time.perf_counter()
            name, doc = new_value(rng, w + i * CONCURRENT_WRITERS)
            db.table(name).insert(doc)
            await db.commit()
            concurrent.latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(CONCURRENT_WRITERS)))
    concurrent.elapsed = time.perf_counter() - started
    return {
        "ours": ours.as_json(),
        "sqlite": sqlite.as_json(),
        "concurrent": concurrent.as_json(),
        "concurrent_syncs": db.commits - syncs_before,
    }


def child(path: Path, sqlite_path: Path) -> None:
    """In a fresh process: open the store, measure memory, time durable writes; print JSON."""
    t0 = time.perf_counter()
    db = Database.open(path)
    open_s = time.perf_counter() - t0
    rss, hwm = _rss_mb()
    stats = db.stats()
    result = asyncio.run(_writes(db, sqlite_path))
    rss_after, hwm_after = _rss_mb()
    db.close()
    result |= {
        "open_s": open_s,
        "rss_mb": rss,
        "hwm_mb": hwm,
        "rss_after_mb": rss_after,
        "hwm_after_mb": hwm_after,
        "tables": stats.tables,
        "documents": MEASUREMENTS,
        "snapshot_bytes": (path / "store.db").stat().st_size,
    }
    sys.stdout.write(json.dumps(result))


def run_child(path: Path, sqlite_path: Path) -> dict[str, Any]:
    """Run `child` in a subprocess and return its measurements."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.storage", "--child", str(path), str(sqlite_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


# --------------------------------------------------------------------------- baselines


SQLITE_INSERT = (
    "INSERT INTO measurement (shard, kpi, value, day, at, by, note) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def sqlite_row(shard: str, d: dict[str, Any]) -> tuple[Any, ...]:
    """A measurement as an sqlite row."""
    return (shard, d["kpi"], d["value"], d["day"], d["at"], d["by"], d["note"])


def build_sqlite(path: Path, shards: dict[str, list[dict[str, Any]]]) -> None:
    """The same rows in one indexed sqlite3 table (WAL, synchronous=FULL)."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE measurement (id INTEGER PRIMARY KEY, shard TEXT, kpi TEXT, value REAL,"
        " day TEXT, at TEXT, by TEXT, note TEXT)"
    )
    conn.execute("CREATE INDEX measurement_shard ON measurement (shard, day)")
    conn.execute("BEGIN")
    conn.executemany(SQLITE_INSERT, (sqlite_row(s, d) for s, docs in shards.items() for d in docs))
    conn.execute("COMMIT")
    conn.close()


def run_tinydb_default(path: Path, shards: dict[str, list[dict[str, Any]]]) -> Row:
    """TinyDB's default JSONStorage: one file, whole-file read + rewrite + fsync per write."""
    file = path / "tinydb-default.json"
    with open(file, "w") as f:
        json.dump({n: {str(i): d for i, d in enumerate(docs, 1)} for n, docs in shards.items()}, f)
    rng = random.Random(11)
    latencies: list[float] = []
    with TinyDB(file) as db:
        started = time.perf_counter()
        for i in range(TINYDB_WRITES):
            t0 = time.perf_counter()
            name, doc = new_value(rng, i)
            db.table(name).insert(doc)  # JSONStorage.write fsyncs
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
    return summary("TinyDB default JSONStorage", latencies, elapsed)


# --------------------------------------------------------------------------- main


def _num(value: object) -> float:
    """A numeric table cell."""
    return float(str(value))


def run(report: Report | None = None) -> list[Row]:
    """Build the store three ways, time durable writes, return one row per engine."""
    rows: list[Row] = []

    def emit(row: Row) -> None:
        rows.append(row)
        if report is not None:
            report(str(row["engine"]), row)

    shards = dataset()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        root = Path(tmp)
        build_ours(root / "ours", shards)
        build_sqlite(root / "bench.sqlite3", shards)
        measured = run_child(root / "ours", root / "bench.sqlite3")
        tinydb_row = run_tinydb_default(root, shards)

    seq = summary("ours: commit per write", *measured["ours"])
    conc = summary(
        f"ours: {CONCURRENT_WRITERS} concurrent writers ({measured['concurrent_syncs']} fsyncs)",
        *measured["concurrent"],
    )
    sqlite_row = summary("sqlite3 WAL, synchronous=FULL", *measured["sqlite"])
    sqlite_ops, tinydb_ops = _num(sqlite_row["ops/s"]), _num(tinydb_row["ops/s"])
    for row in (seq, conc, sqlite_row, tinydb_row):
        ops = _num(row["ops/s"])
        row["vs sqlite"] = f"{ops / sqlite_ops:.2f}x"
        row["vs tinydb"] = f"{ops / tinydb_ops:.0f}x"
        row["open s"] = row["RSS MB (peak)"] = "-"
    seq["open s"] = f"{measured['open_s']:.2f}"
    seq["RSS MB (peak)"] = f"{measured['rss_mb']:.0f} ({measured['hwm_mb']:.0f})"
    conc["RSS MB (peak)"] = f"{measured['rss_after_mb']:.0f} ({measured['hwm_after_mb']:.0f})"
    for row in (seq, conc, sqlite_row, tinydb_row):
        emit(row)
    return rows


def main() -> None:
    """Print the table and the goals from the issue."""
    from bench.table import print_table

    rows = run()
    print_table(f"Storage: durable writes on {KPIS} KPIs × {MEASUREMENTS:,} values", rows)
    seq, _, sqlite_row, tinydb_row = rows
    ops = _num(seq["ops/s"])
    print(
        f"\ngoals: ≥0.5× sqlite: {ops / _num(sqlite_row['ops/s']):.2f}x"
        f" · ≥20× TinyDB default: {ops / _num(tinydb_row['ops/s']):.0f}x"
        f" · RSS after load ≤150 MB: {str(seq['RSS MB (peak)']).split()[0]} MB"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()

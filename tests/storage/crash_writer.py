"""Writer process for the kill -9 test: change the store, make it durable, print the id.

Run as ``python -m tests.storage.crash_writer DIR FIRST_ID CHECKPOINT_PAGES``. It prints
``ready`` once the store is open, then one line per acknowledged write, forever. Every id
it prints has been committed (fsynced) before the print, so the parent may count it lost
only if a reopened store lacks it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tinydb import Query

from storage.engine import Database

WORKERS = 4
Q = Query()


def shard(n: int) -> str:
    """Measurement-like sharded table for id `n` (chat, KPI, month)."""
    return f"m:c{n % 3}:k{n % 5}:{2026 + n // 1000 % 3}-{n % 12 + 1:02d}"


def moves_scratch(n: int) -> bool:
    """Ids whose write also moves the scratch table (a drop and a put in one block)."""
    return n % 7 == 0


def write(db: Database, worker: int, n: int) -> None:
    """One logical command touching several tables; all of it lands or none of it."""
    with db.atomic():
        db.table(shard(n)).insert({"id": n, "worker": worker, "note": "x" * (n % 97)})
        db.table("config").upsert({"worker": worker, "last": n}, Q.worker == worker)
        if moves_scratch(n):
            src, dst = "scratch:a", "scratch:b"
            if src not in db.table_names():
                src, dst = dst, src
            docs = [dict(doc) for doc in db.table(src).all()]
            db.drop_table(src)
            db.table(dst).insert_multiple([*docs, {"id": n}])


async def main(path: Path, first_id: int, checkpoint_pages: int) -> None:
    """Write forever from several concurrent tasks; the parent kills us."""
    db = Database.open(path, checkpoint_pages=checkpoint_pages)
    out = sys.stdout
    out.write("ready\n")
    out.flush()

    async def worker(worker: int) -> None:
        n = first_id + worker
        while True:
            write(db, worker, n)
            if n % 11 == 0:
                db.flush()  # the blocking path, racing the async commits of the others
            else:
                await db.commit()
            out.write(f"{n}\n")
            out.flush()
            n += WORKERS

    await asyncio.gather(*(worker(w) for w in range(WORKERS)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))

"""kill -9 a writer at random moments (mid-transaction, mid-checkpoint): the store always
opens and keeps every acknowledged write."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.engine import Database
from tests.storage.crash_writer import WORKERS, moves_scratch

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6
MAX_ACKS_PER_ROUND = 400
# Per round: checkpoint the WAL after nearly every transaction (kills land inside
# checkpoints), sometimes, or at SQLite's default.
CHECKPOINT_PAGES = (2, 50, 1000)
ROUND_TIMEOUT_S = 20.0
MAX_JITTER_S = 0.005  # a few batches: spreads the kill over the whole write cycle


class AckStream:
    """The writer's stdout, read with deadlines (select) instead of sleeps."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.log = log
        self.buffer = b""
        self.lines: list[bytes] = []
        self.eof = False

    def pump(self, timeout: float) -> None:
        """Read whatever arrives within `timeout` seconds."""
        if self.eof or not select.select([self.fd], [], [], timeout)[0]:
            return
        chunk = os.read(self.fd, 1 << 16)
        self.eof = not chunk
        *complete, self.buffer = (self.buffer + chunk).split(b"\n")
        self.lines.extend(complete)

    def wait_for(self, count: int, deadline: float) -> None:
        """Block until `count` lines arrived; the writer must not die or hang meanwhile."""
        while len(self.lines) < count:
            assert not self.eof, f"writer died on its own:\n{self.log.read_text()}"
            left = deadline - time.monotonic()
            assert left > 0, f"writer hung:\n{self.log.read_text()}"
            self.pump(left)


def run_round(
    data: Path,
    first_id: int,
    checkpoint_pages: int,
    kill_after: int,
    jitter: float,
    log: Path,
) -> set[int]:
    """Start a writer and SIGKILL it `jitter` s after its `kill_after`-th ack; return its acks."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.storage.crash_writer",
                str(data),
                str(first_id),
                str(checkpoint_pages),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        stream = AckStream(proc, log)
        stream.wait_for(1, time.monotonic() + ROUND_TIMEOUT_S)
        assert stream.lines[0] == b"ready", f"writer did not open the store:\n{log.read_text()}"
        stream.wait_for(1 + kill_after, time.monotonic() + ROUND_TIMEOUT_S)
        # Keep consuming acks for a random fraction of a batch so the kill lands at any
        # point of the writer's cycle, not just after a print.
        kill_at = time.monotonic() + jitter
        while (left := kill_at - time.monotonic()) > 0 and not stream.eof:
            stream.pump(left)
        proc.kill()
        while not stream.eof:  # acks already in the pipe were sent before the kill
            stream.pump(ROUND_TIMEOUT_S)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, log.read_text()
    return {int(line) for line in stream.lines[1:]}


def check_store(data: Path, acked: set[int], seed: int) -> None:
    """The store loads and holds every acked id; the atomic blocks landed whole."""
    db = Database.open(data)
    try:
        tables = {name: db.table(name).all() for name in db.table_names()}
    finally:
        db.close()
    stored = {doc["id"] for name, docs in tables.items() if name[0] == "m" for doc in docs}
    missing = sorted(acked - stored)
    assert not missing, f"seed {seed}: acknowledged ids lost: {missing[:20]}"

    # config rows change in the same atomic blocks: never behind an ack, never dangling
    last = {doc["worker"]: doc["last"] for doc in tables.get("config", [])}
    for worker in range(WORKERS):
        acked_by_worker = [n for n in acked if n % WORKERS == worker]
        if acked_by_worker:
            assert last[worker] >= max(acked_by_worker), f"seed {seed}: config update lost"
    assert set(last.values()) <= stored, f"seed {seed}: config points at a lost write"

    # the scratch table moves by drop + put: exactly one copy survives, holding every ack
    scratch = [name for name in tables if name.startswith("scratch:")]
    moved = {n for n in acked if moves_scratch(n)}
    if moved:
        assert len(scratch) == 1, f"seed {seed}: scratch tables {scratch}"
        assert moved <= {doc["id"] for doc in tables[scratch[0]]}, f"seed {seed}: move lost"


def test_kill_9_at_random_moments_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    data = tmp_path / "data"
    acked: set[int] = set()
    for round_no in range(ROUNDS):
        options = rng.choice(CHECKPOINT_PAGES)
        kill_after = rng.choice([0, *(rng.randrange(1, MAX_ACKS_PER_ROUND) for _ in range(4))])
        jitter = rng.uniform(0, MAX_JITTER_S)
        log = tmp_path / f"{round_no}.log"
        acked |= run_round(data, round_no * 1_000_000, options, kill_after, jitter, log)
        check_store(data, acked, seed)

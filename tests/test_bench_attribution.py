"""The open loop's attribution: every slow operation's wall time split into its owners.

No timings here: the clocks are fake files and hand-built timelines; what is proved is the
arithmetic and the bookkeeping (which step is whose, where a window's edges fall)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench import attribution
from bench.attribution import (
    OPERATION,
    LoopRecorder,
    Parts,
    ThreadClock,
    goal_row,
    parse_proc_stat,
    parse_schedstat,
    totals_row,
)
from bench.storage import _rewind_row

STAT = "cpu  100 5 20 900 3 1 2 7 0 0\ncpu0 50 2 10 450 1 0 1 3 0 0\n"


def test_schedstat_gives_time_on_a_cpu_then_the_run_delay_then_the_slices() -> None:
    assert parse_schedstat("8805 2700478 2\n") == (8805, 2700478, 2)


def test_a_thread_clock_reads_its_file_afresh_each_time(tmp_path: Path) -> None:
    """The kernel's file is re-generated at each read at offset 0; a fake one is rewritten."""
    fake = tmp_path / "schedstat"
    fake.write_text("1000 2500000000 7\n")
    clock = ThreadClock(fake)
    assert clock.delay() == 2.5
    fake.write_text("1000 3000000000 9\n")
    assert clock.delay() == 3.0
    clock.close()


def test_proc_stat_busy_leaves_out_idle_iowait_and_steal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attribution, "_TICK_S", 0.01)
    busy, steal = parse_proc_stat(STAT)
    assert busy == pytest.approx((100 + 5 + 20 + 1 + 2) * 0.01)
    assert steal == pytest.approx(0.07)


def _recorder(steps: list[tuple[float, float, float, float, float, float, int]]) -> LoopRecorder:
    """A recorder holding hand-made steps: (start, end, cpu at start, cpu at end, run
    delay at start, at end, operation), seconds."""
    rec = LoopRecorder()
    for start, end, cpu0, cpu1, delay0, delay1, op in steps:
        rec.wall += [start, end]
        rec.cpu += [cpu0, cpu1]
        rec.delay += [delay0, delay1]
        rec.operation.append(op)
        rec.gc.append(0.0)
    return rec


def test_a_window_is_split_into_run_delay_cpu_commit_and_other_sleep() -> None:
    """Operation 1 runs 2 ms, sleeps 10 ms while the writer commits its change, waits
    3 ms for a CPU once woken, finishes in 1 ms; then operation 2 runs."""
    rec = _recorder(
        [
            (0.000, 0.002, 0.0, 0.002, 0.0, 0.0, 1),
            (0.015, 0.016, 0.002, 0.003, 0.003, 0.003, 1),
            (0.016, 0.020, 0.003, 0.007, 0.003, 0.003, 2),
        ]
    )
    rec.writer.append(attribution._Span(0.003, 0.011, cpu=0.001, delay=0.002))
    parts = rec.attribute(0.0, 0.016, operation=1)
    assert parts.wall == pytest.approx(16)
    assert parts.cpu == pytest.approx(3)
    assert parts.own_cpu == pytest.approx(3)
    assert parts.run_delay == pytest.approx(3)
    assert parts.commit == pytest.approx(8)  # asleep while the writer held the job
    assert parts.writer_cpu == pytest.approx(1) and parts.writer_delay == pytest.approx(2)
    assert parts.other_sleep == pytest.approx(2)  # asleep, the writer idle (waking up)
    assert parts.our_threads_cpu == pytest.approx(1)  # the writer's, all in the window
    total = parts.run_delay + parts.cpu + parts.commit + parts.other_sleep
    assert total == pytest.approx(parts.wall)


def test_the_cpu_of_other_steps_in_the_window_is_not_the_operations_own() -> None:
    """An operation due at 1 ms waits behind operation 7's 10 ms step (preempted 4 ms of
    it), then runs 1 ms: its window's CPU is mostly someone else's."""
    rec = _recorder(
        [
            (0.000, 0.010, 0.0, 0.006, 0.0, 0.004, 7),
            (0.010, 0.011, 0.006, 0.007, 0.004, 0.004, 8),
        ]
    )
    parts = rec.attribute(0.001, 0.011, operation=8)
    assert parts.wall == pytest.approx(10)
    assert parts.own_cpu == pytest.approx(1)
    assert parts.cpu == pytest.approx(0.9 * 6 + 1)  # the edge falls inside step 7
    assert parts.run_delay == pytest.approx(0.9 * 4)
    assert parts.commit == 0 and parts.other_sleep == pytest.approx(0)


def test_a_window_starting_in_a_gap_counts_only_the_run_delay_at_the_gaps_end() -> None:
    """The loop slept from 1 ms, was woken and waited 2 ms for a CPU before 10 ms: a window
    from 5 ms holds 3 ms of sleep and 2 of run delay, not a share of both."""
    rec = _recorder(
        [
            (0.000, 0.001, 0.0, 0.001, 0.0, 0.0, -1),
            (0.010, 0.011, 0.001, 0.002, 0.002, 0.002, 3),
        ]
    )
    parts = rec.attribute(0.005, 0.011, operation=3)
    assert parts.run_delay == pytest.approx(2)
    assert parts.other_sleep == pytest.approx(3)
    assert parts.cpu == pytest.approx(1) == parts.own_cpu


def test_the_machine_counters_cover_the_window_from_the_readings_around_it() -> None:
    rec = _recorder([(0.0, 0.001, 0.0, 0.001, 0.0, 0.0, 1), (0.03, 0.031, 0.001, 0.002, 0, 0, 1)])
    rec.machine = [(0.0, 1.00, 0.50), (0.012, 1.02, 0.50), (0.025, 1.04, 0.51), (0.04, 1.1, 0.52)]
    parts = rec.attribute(0.013, 0.024, operation=1)
    assert parts.steal == pytest.approx(10)  # 0.012 → 0.025
    assert parts.others_cpu == pytest.approx(20)  # no CPU of ours in that stretch


async def test_a_recorder_tags_each_step_with_its_operation_and_keeps_start_end_pairs(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "schedstat"
    fake.write_text("1 0 1\n")
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    rec = LoopRecorder(schedstat=fake, stat=stat)

    async def operation(i: int) -> None:
        OPERATION.set(i)
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    for _ in range(2):  # entered again: the blocks add up
        with rec:
            await asyncio.gather(operation(4), operation(5))
    assert len(rec.wall) == len(rec.cpu) == len(rec.delay) == 2 * len(rec.operation)
    assert rec.operation.count(4) >= 4 and rec.operation.count(5) >= 4
    assert all(a <= b for a, b in zip(rec.wall, rec.wall[1:], strict=False))
    assert rec.machine and rec.gc == [0.0] * len(rec.operation)


def test_watching_a_backend_times_its_commits_and_checkpoints_on_their_threads(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "schedstat"
    fake.write_text("1 0 1\n")

    class Backend:
        def __init__(self) -> None:
            self.threads: list[int] = []

        def commit(self, batch: Any) -> None:
            self.threads.append(threading.get_ident())

        def _passive_checkpoint(self) -> None:
            self.threads.append(threading.get_ident())

    backend = Backend()
    rec = LoopRecorder(schedstat=fake)
    undo = rec.watch_backend(backend)
    writer = threading.Thread(target=backend.commit, args=(None,))
    writer.start()
    writer.join()
    backend._passive_checkpoint()
    undo()
    backend.commit(None)
    assert len(rec.writer) == 1 and len(rec.checkpoints) == 1
    assert backend.threads[0] == writer.ident and len(backend.threads) == 3
    assert "commit" not in vars(backend)


async def test_a_transaction_the_loop_runs_itself_cuts_its_step_and_counts_as_a_commit(
    tmp_path: Path,
) -> None:
    """A lone transaction run on the loop (the store's `commit_now`, through `commit`) is
    the loop asleep while a transaction ran, as between steps: the step is cut in two
    around it, both halves the operation's own, the transaction is a writer span, and its
    CPU is left out of the loop's clocks."""
    fake = tmp_path / "schedstat"
    fake.write_text("1 0 1\n")
    stat = tmp_path / "stat"
    stat.write_text(STAT)

    class Backend:
        def __init__(self) -> None:
            self.calls: list[float] = []

        def commit(self, batch: Any) -> None:
            self.calls.append(time.monotonic())
            spent = time.thread_time()
            while time.thread_time() - spent < 0.02:  # the transaction's CPU
                pass

        def _passive_checkpoint(self) -> None:
            pass

    backend = Backend()
    rec = LoopRecorder(schedstat=fake, stat=stat)
    undo = rec.watch_backend(backend)

    async def operation() -> None:
        OPERATION.set(6)
        backend.commit(None)

    with rec:
        await asyncio.ensure_future(operation())
    undo()
    assert len(backend.calls) == 1 and "commit" not in vars(backend)
    assert rec.operation.count(6) == 2
    assert len(rec.wall) == len(rec.cpu) == len(rec.delay) == 2 * len(rec.operation)
    first = rec.operation.index(6)
    assert rec.wall[2 * first + 1] <= backend.calls[0] <= rec.wall[2 * first + 2]  # in the gap
    assert len(rec.writer) == 1 and rec.writer[0].cpu >= 0.02 and rec.inline_cpu >= 0.02
    parts = rec.attribute(rec.wall[0], rec.wall[-1], 6)
    assert parts.cpu < 10 and parts.commit >= 20 and parts.writer_cpu >= 20


def test_the_writers_idle_upkeep_counts_as_the_writers_and_its_rewinds_are_listed(
    tmp_path: Path,
) -> None:
    """A command handed over while the writer rewinds the WAL waits for it as for a
    transaction: every idle call is a writer span; those that rewound are listed too."""
    fake = tmp_path / "schedstat"
    fake.write_text("1 0 1\n")

    class Backend:
        rewinds = 0

        def commit(self, batch: Any) -> None:
            pass

        def _passive_checkpoint(self) -> None:
            pass

        def idle(self) -> None:
            self.rewinds += 1 if self.due else 0

        due = False

    backend = Backend()
    rec = LoopRecorder(schedstat=fake)
    undo = rec.watch_backend(backend)
    backend.idle()  # nothing due: the writer's all the same
    backend.due = True
    backend.idle()
    undo()
    backend.idle()
    assert len(rec.writer) == 2 and rec.rewinds == [rec.writer[1]]
    assert backend.rewinds == 2 and "idle" not in vars(backend)
    assert _rewind_row({"ms": [1.0, 3.0, 2.0], "slow_writes_meeting": 1}) == ("3, 2.00 / 3.00; 1")
    assert _rewind_row(None) == _rewind_row({"ms": [], "slow_writes_meeting": 0}) == "none"


def test_a_goal_row_reads_as_a_sum_in_whole_milliseconds() -> None:
    parts = Parts(wall=41.2, run_delay=33.4, cpu=6.0, commit=1.8, other_sleep=0.0, own_cpu=2.0)
    assert goal_row("write max", parts) == (
        "write max 41 ms = 33 run delay + 6.0 CPU (2.0 its own, 0.0 gc) + 1.8 commit "
        "(writer CPU 0.0, run delay 0.0) + 0.0 other sleep; beside: checkpoint 0.0, "
        "our other threads' CPU 0.0, machine: steal 0.0, other processes' CPU 0.0"
    )


def test_the_totals_row_adds_every_part_and_counts_the_windows() -> None:
    one = Parts(wall=30, run_delay=20, cpu=8, commit=1, other_sleep=1, steal=10)
    assert totals_row([one, one]).startswith("2, 60 ms = 40 run delay + 16 CPU")
    assert "steal 20," in totals_row([one, one])
    assert totals_row([]) == "none"


def test_shares_say_which_part_of_each_operations_cpu_fell_in_the_window() -> None:
    """Operation 1 ran 2 ms before the window and 2 ms inside it; operation 2 wholly in."""
    rec = _recorder(
        [
            (0.000, 0.002, 0.0, 0.002, 0.0, 0.0, 1),
            (0.010, 0.012, 0.002, 0.004, 0.0, 0.0, 1),
            (0.012, 0.013, 0.004, 0.005, 0.0, 0.0, 2),
            (0.013, 0.014, 0.005, 0.006, 0.0, 0.0, -1),
        ]
    )
    assert rec.shares(0.005, 0.020) == pytest.approx({1: 0.5, 2: 1.0})


def test_our_part_is_the_replayed_cpu_untagged_steps_and_the_commit_less_its_run_delay() -> None:
    """A 60 ms pause whose operations took 4 ms closed-loop (13 in the window) and whose
    commit waited 10 ms, 8 of them for a CPU: at most 4 + 1 + 2 ms were ours."""
    parts = Parts(
        wall=60, run_delay=40, cpu=14, commit=10, other_sleep=0, untagged_cpu=1,
        replay_cpu=4, writer_delay=8,
    )  # fmt: skip
    assert attribution.ours_at_most(parts) == pytest.approx(7)
    unknown = dataclasses.replace(parts, replay_cpu=0.0)  # no replay: all the CPU counts
    assert attribution.ours_at_most(unknown) == pytest.approx(16)
    row = attribution.verdict_row([parts, dataclasses.replace(parts, replay_cpu=30)], 20)
    assert row == (
        "1 of 2 over 20 ms by our part alone (ours at most 40 of 120 ms; the longest ours "
        "33 ms, of 60: 30 replayed CPU + 1.0 untagged steps + 2.0 commit less the writer's "
        "run delay)"
    )
    assert ", of 60: 14 CPU + 2.0 commit" in attribution.verdict_row([unknown], 20)
    assert attribution.verdict_row([], 20) == "none"


def test_a_window_whose_machine_counters_were_not_read_says_so() -> None:
    parts = Parts(wall=3, run_delay=0, cpu=1, commit=2, other_sleep=0, machine=False)
    assert goal_row("#hashtag p99", parts).endswith("machine: not read")
    assert totals_row([parts, parts]).endswith("machine: not read")

"""The storage bench's table: one row per measure, whatever a run measured."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench import storage as bench_storage
from bench.slices import SliceTracer
from bench.storage import HASHTAGS, _causes, _write_rows
from bot.app import build_core


def _write_run(scale: float) -> dict[str, Any]:
    """A `_measure` result's write part, every figure times `scale`."""
    stats = {"p50": 1.0 * scale, "p99": 2.0 * scale, "max": 3.0 * scale}
    sample = {"wall": 3.0 * scale, "loop_cpu": scale, "commit": 2.0 * scale, "gc": 0.0}
    causes = _causes([{**sample, "checkpoint": 1.0}] * HASHTAGS)
    run = {
        "ours": stats,
        "raw": stats,
        "floor": stats,
        "rate": 100 * scale,
        "raw_rate": 300 * scale,
        "cpu_ms": scale,
        "loop_cpu_ms": scale,
        "per_transaction": 4.0,
        "causes": causes,
        "journey": dict.fromkeys(bench_storage.JOURNEY, scale),
        "full_collections": [[50.0 * scale, False]],
    }
    return {"set": run, "set_together": run, "hashtag": run, "cadence": run}


def test_the_write_rows_are_named_alike_in_every_run_so_sizes_line_up_as_columns() -> None:
    """A figure in a row's name made `writes 10k 100k 1M` (and the full run) fail."""
    assert list(_write_rows(_write_run(1.0))) == list(_write_rows(_write_run(7.0)))


def test_the_journey_row_cuts_a_commands_wall_time_into_parts_that_add_up_to_it() -> None:
    sample = {
        "wall": 2.0,
        "loop_cpu": 1.1,
        "run_delay": 0.4,  # overlaps the CPU on this VM: beside, not added
        "away": 0.8,
        "away_cpu": 0.1,
        "hand_off": 0.1,
        "writer_own": 0.05,
        "commit": 0.55,
        "writer_cpu": 0.3,
        "writer_delay": 0.0,
        "wake": 0.1,
        "jobs": 1.0,
        "inline": 0.0,
    }
    row = bench_storage.journey_row(bench_storage._journey([sample, sample]))
    assert row == (
        "2.00 ms = 1.00 loop CPU + 0.20 loop otherwise + 0.10 hand-off (loop CPU 0.10) + "
        "0.05 writer's own + 0.55 commit (writer CPU 0.30, run delay 0.00) + 0.10 wake; "
        "beside: loop run delay 0.40, 1.00 transactions each (0.00 on the loop)"
    )


def test_a_transaction_the_loop_ran_itself_is_all_commit_in_the_journey_row() -> None:
    """No hand-off, writer's own or wake: the span the loop spent in it is the commit, and
    its CPU is the transaction's (the probe leaves it out of the loop's)."""
    sample = dict.fromkeys(bench_storage.JOURNEY, 0.0)
    sample |= {"wall": 1.0, "loop_cpu": 0.4, "away": 0.5, "commit": 0.5, "writer_cpu": 0.2}
    sample |= {"jobs": 1.0, "inline": 1.0}
    row = bench_storage.journey_row(bench_storage._journey([sample]))
    assert row == (
        "1.00 ms = 0.40 loop CPU + 0.10 loop otherwise + 0.00 hand-off (loop CPU 0.00) + "
        "0.00 writer's own + 0.50 commit (writer CPU 0.20, run delay 0.00) + 0.00 wake; "
        "beside: loop run delay 0.00, 1.00 transactions each (1.00 on the loop)"
    )


def test_full_collections_are_counted_inside_a_command_or_when_the_loop_idled() -> None:
    assert bench_storage._full_collections([[54.0, False], [3.0, True]]) == "1 / 1 (54)"
    assert bench_storage._full_collections([]) == "0 / 0 (0)"


def test_a_slow_hashtag_is_counted_under_each_cause_it_had() -> None:
    causes = _causes(
        [
            {"wall": 5.0, "loop_cpu": 0.2, "commit": 4.0, "gc": 0.0, "checkpoint": 0.0},
            {"wall": 4.0, "loop_cpu": 3.0, "commit": 0.2, "gc": 2.5, "checkpoint": 1.0},
            {"wall": 0.5, "loop_cpu": 0.3, "commit": 0.2, "gc": 0.0, "checkpoint": 1.0},
        ]
    )
    counted = [causes[k] for k in ("samples", "slow", "commit", "loop_cpu", "gc", "checkpoint")]
    assert counted == [3, 2, 1, 1, 1, 1]


def test_a_slice_tracer_entered_again_adds_up_the_steps_of_each_block() -> None:
    """The open loop and its floor alternate in blocks, each kind under one tracer."""
    tracer = SliceTracer(limit_ms=0.0)  # every step is "long"

    async def steps(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    with tracer:
        asyncio.run(steps(3))
    first = tracer.steps
    with tracer:
        asyncio.run(steps(3))
    assert first >= 3
    assert tracer.steps == 2 * first
    assert tracer.summary()["over"] == 2 * first


async def test_the_floor_does_the_same_work_per_operation_whatever_the_cpu_clock_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A floor burning until its CPU clock advanced did less work when the VM stretched
    the clock, so it could not show the long steps the store cannot avoid either."""
    spun: list[int] = []

    def spin(rounds: int) -> int:
        spun.append(rounds)
        return 0

    monkeypatch.setattr(bench_storage, "_spin", spin)
    monkeypatch.setattr(time, "thread_time", lambda: pytest.fail("the floor read the clock"))
    latencies: list[float] = []
    one = bench_storage._burn(1234, latencies)
    loop = asyncio.get_running_loop()
    for i in range(3):
        await one(i, loop.time())
    assert spun == [1234] * 3
    assert len(latencies) == 3


async def test_the_open_loop_runs_in_blocks_alternating_with_its_floor_and_fills_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny store and timetable: the bench's own code runs end to end."""
    for name, value in (("KPIS", 2), ("HASHTAG_LOGS", 4), ("OPS", 8), ("BLOCKS", 2)):
        monkeypatch.setattr(bench_storage, name, value)
    monkeypatch.setattr(bench_storage, "INTERVAL_S", 0.0)
    bench_storage.build(tmp_path / "data", 40, 1)
    core = build_core(tmp_path / "data", clock=lambda: bench_storage.NOW)
    try:
        store, floor = await bench_storage._open_loop(core, 1)
        replayed = await bench_storage._replay(core, 1)
    finally:
        core.close()
    assert len(replayed) == bench_storage.OPS
    rows = bench_storage._open_loop_rows({"open_loop": store, "floor": floor})
    assert {"write", "read", "run", "slices"} <= set(store)
    assert {"all", "run", "slices"} <= set(floor)
    assert store["slices"]["steps"] > 0 and floor["slices"]["steps"] > 0
    assert "floor: same timetable and loop work, no store, alternating: p99 / max ms" in rows


async def test_the_write_measures_run_end_to_end_closed_loop_and_several_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny store: every write run finishes and fills its journey (a probe that failed
    in the writer's wake-up callback once left the commands in flight waiting forever)."""
    for name, value in (("KPIS", 2), ("HASHTAG_LOGS", 4)):
        monkeypatch.setattr(bench_storage, name, value)
    monkeypatch.setattr(bench_storage, "IDLE_S", 0.0)
    bench_storage.build(tmp_path / "data", 40, 1)
    core = build_core(tmp_path / "data", clock=lambda: bench_storage.NOW)
    sets = [f"/kpi set k{n % 2} {n}" for n in range(6)]
    try:  # a hang fails (after a minute) instead of stopping the suite
        alone = bench_storage._summary(
            await asyncio.wait_for(bench_storage._writes(core, tmp_path, sets), 60)
        )
        together = bench_storage._summary(
            await asyncio.wait_for(bench_storage._writes(core, tmp_path, sets, in_flight=2), 60)
        )
    finally:
        core.close()
    assert alone["journey"]["jobs"] == 1.0  # one transaction for each closed-loop set
    assert 0.0 <= alone["journey"]["inline"] <= 1.0  # on the loop, unless the disk was slow
    assert together["journey"] is None  # several in flight: no per-command split
    assert "loop CPU" in bench_storage.journey_row(alone["journey"])


def test_an_operation_is_ours_only_if_it_was_slow_in_both_replays_on_copies_of_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step the VM stretched lands on different operations in each replay."""
    store = tmp_path / "data"
    store.mkdir()
    (store / "store.db").write_bytes(b"kept")
    replays = iter([[1.0, 6.0, 7.0, 2.0], [6.0, 1.0, 8.0, 2.0]])
    seen: list[Path] = []

    def child(path: Path, chats: int, part: str = "") -> dict[str, Any]:
        assert part == bench_storage.REPLAY and path != store
        assert (path / "store.db").read_bytes() == b"kept"
        (path / "store.db").write_bytes(b"changed by the replay")
        seen.append(path)
        return {"replay": next(replays)}

    monkeypatch.setattr(bench_storage, "_child", child)
    recurring = bench_storage._recurring(store, 1)
    assert recurring == [(2, 7.0)]
    assert len(set(seen)) == 2 and not any(p.exists() for p in seen)
    assert (store / "store.db").read_bytes() == b"kept"
    row = bench_storage._recurring_rows(recurring, 1)
    assert list(row.values()) == [f"1 of {bench_storage.OPS}: #2 /kpi set k2 502 7.0"]


def test_a_windows_replayed_cpu_weighs_each_operation_by_its_share_in_the_window() -> None:
    parts = {"wall": 30.0, "run_delay": 20.0, "cpu": 9.0, "commit": 0.0, "other_sleep": 1.0}
    window = {"parts": parts, "shares": {"3": 0.5, "4": 1.0}}
    replayed = [0.0, 0.0, 0.0, 2.0, 1.5]
    assert bench_storage._window_parts(window, replayed).replay_cpu == pytest.approx(2.5)
    assert bench_storage._window_parts(window, []).replay_cpu == 0.0


def test_a_floor_hashtags_sleep_is_its_raw_commit_and_a_commands_is_the_writers() -> None:
    floor = bench_storage._sample_parts({"wall": 5.0, "run_delay": 1.0, "loop_cpu": 1.5})
    assert (floor.commit, floor.other_sleep) == (2.5, 0.0)
    ours = bench_storage._sample_parts(
        {"wall": 5.0, "run_delay": 1.0, "loop_cpu": 1.5, "commit": 2.0, "writer_cpu": 0.3}
    )
    assert (ours.commit, ours.other_sleep, ours.writer_cpu) == (2.0, 0.5, 0.3)


def test_a_step_past_the_limit_is_named_by_where_it_was_and_no_thread_looks() -> None:
    """The timer's handler names the step; a watchdog thread cost the loop CPU and GIL."""
    tracer = SliceTracer(limit_ms=1.0)

    async def long_step() -> None:
        while not tracer._step_where:  # runs until the alarm named this step
            pass

    with tracer:
        threads = threading.active_count()
        asyncio.run(long_step())
    assert threading.active_count() == threads
    # on a loaded machine another of asyncio.run's steps may pass 1 ms too: only ours is known
    assert "long_step" in [s.where.split(" ")[1] for s in tracer.slow if s.where]
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)

"""Where a slow operation's wall time went: waiting to run, running, the writer, the machine.

An open-loop operation is late by its wall time from its scheduled instant to its reply.
On this VM that time has five possible owners, and this module measures each of them over
any window of the run, so every pause over the goal can be written as a sum:

- **run delay**: the event loop's thread was runnable but not running (both cores busy:
  other processes, or our own writer thread). The kernel counts it per thread, in ns:
  the second field of `/proc/thread-self/schedstat` (`sched_info.run_delay`, updated each
  time the thread is put on a CPU, so a thread reading its own is exact up to that read);
- **CPU**: the loop thread's own CPU time (`time.thread_time`), split into the steps of the
  operation itself (tagged through a context variable the task carries), the steps of
  everything else the loop ran meanwhile, and of that, garbage collections;
- **commit**: the loop was asleep while the store's writer thread had a transaction in
  hand, or its idle upkeep (SQLite's WAL rewind, which a transaction handed over
  meanwhile waits for), or the loop ran a lone transaction itself (the store's
  `commit_now`: its step is cut around it, and its CPU and run delay are the
  transaction's, not the loop's): its CPU, its own run delay, and the rest (the fsyncs
  and any wait for the GIL);
- **other sleep**: the loop was neither running, runnable nor waiting for the writer (a
  vCPU stolen from under it, a late timer, a wait for the GIL outside a commit);
- beside these, the machine over the same window: CPU time stolen by the hypervisor and
  the CPU other processes used (both from `/proc/stat`, in the kernel's 10 ms ticks, so
  coarse for one window), our own other threads' CPU, and the checkpoint thread's.

The loop's clocks are read at the start and end of every loop step (an `asyncio` handle;
about 7 µs a step); a window's edges are placed inside a step by wall time and, in the
gap between steps, with the run delay at the gap's end (the thread sleeps, is woken, and
then waits for a CPU). The writer's and the checkpoint's clocks are read on their own
threads at the start and end of each transaction or checkpoint.
"""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import dataclasses
import gc
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

__all__ = [
    "OPERATION",
    "LoopRecorder",
    "Parts",
    "ThreadClock",
    "goal_row",
    "ours_at_most",
    "parse_proc_stat",
    "parse_schedstat",
    "totals_row",
    "verdict_row",
]

#: The operation a task is running for (set by the bench in its coroutine; -1: none).
OPERATION: contextvars.ContextVar[int] = contextvars.ContextVar("operation", default=-1)
SCHEDSTAT: Final = Path("/proc/thread-self/schedstat")
PROC_STAT: Final = Path("/proc/stat")
#: How often the machine's counters are read (the kernel counts them in 10 ms ticks).
MACHINE_EVERY_S: Final = 0.005
_TICK_S: Final = 1 / os.sysconf("SC_CLK_TCK")


def parse_schedstat(text: str) -> tuple[int, int, int]:
    """(ns on a CPU, ns runnable but waiting for one, times scheduled) of a schedstat line."""
    ran, waited, slices = text.split()[:3]
    return int(ran), int(waited), int(slices)


def parse_proc_stat(text: str) -> tuple[float, float]:
    """(seconds all CPUs were busy, seconds stolen by the hypervisor) from `/proc/stat`'s
    first line: busy is user + nice + system + irq + softirq (guest time is inside user)."""
    fields = text.split("\n", 1)[0].split()
    assert fields[0] == "cpu", fields[0]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq) * _TICK_S, steal * _TICK_S


class ThreadClock:
    """The run delay of the thread that created it, read again at each call (one pread of
    its schedstat file; a plain file in tests)."""

    def __init__(self, path: Path = SCHEDSTAT) -> None:
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.close = weakref.finalize(self, os.close, self._fd)

    def delay(self) -> float:
        """Seconds this thread has waited for a CPU while runnable, since it started."""
        return parse_schedstat(os.pread(self._fd, 128, 0).decode())[1] / 1e9


def _machine(fd: int) -> tuple[float, float]:
    return parse_proc_stat(os.pread(fd, 256, 0).decode())


@dataclasses.dataclass(frozen=True, slots=True)
class Parts:
    """One window's wall time and where it went (ms). `wall` = `run_delay` + `cpu` +
    `commit` + `other_sleep`; the rest are parts of those or beside them."""

    wall: float
    run_delay: float
    cpu: float
    commit: float
    other_sleep: float
    own_cpu: float = 0.0  # of `cpu`: the operation's own steps
    untagged_cpu: float = 0.0  # of `cpu`: steps of no operation (timetable, writer callbacks)
    gc: float = 0.0  # of `cpu`: collections on the loop
    writer_cpu: float = 0.0  # the writer's CPU during `commit`
    writer_delay: float = 0.0  # the writer's run delay during `commit`
    checkpoint: float = 0.0  # wall ms a background checkpoint ran within the window
    our_threads_cpu: float = 0.0  # our other threads' CPU (the writer's, the checkpoints')
    steal: float = 0.0  # the machine's CPU stolen by the hypervisor (10 ms ticks)
    others_cpu: float = 0.0  # CPU of other processes (10 ms ticks, less ours)
    #: whether `steal` and `others_cpu` were read (not for a closed-loop command: its
    #: milliseconds are below the counters' 10 ms ticks)
    machine: bool = True
    #: the loop CPU the same operations' steps took in a closed-loop replay (`cpu` less
    #: this, less untagged steps, is how far the machine stretched the CPU); 0: not known
    replay_cpu: float = 0.0


@dataclasses.dataclass(slots=True)
class _Span:
    """A stretch of a helper thread's work: wall edges, its CPU and run delay in it."""

    start: float
    end: float
    cpu: float
    delay: float


class LoopRecorder:
    """While active (a context manager), the loop thread's clocks at every step's start
    and end, each step's operation and collections, the machine's counters, and, once
    `watch_backend` was called, every transaction and checkpoint of that SQLite backend.

    Enter it on the loop's thread. It may be entered again (the open loop runs in blocks
    alternating with its floor); what it recorded adds up.
    """

    def __init__(self, schedstat: Path = SCHEDSTAT, stat: Path = PROC_STAT) -> None:
        self._schedstat = schedstat
        self._stat = stat
        # step k starts at index 2k of these and ends at 2k + 1
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.delay: list[float] = []
        self.operation: list[int] = []  # per step
        self.gc: list[float] = []  # per step, seconds collecting
        self.machine: list[tuple[float, float, float]] = []  # (wall, busy, steal)
        self.writer: list[_Span] = []
        self.checkpoints: list[_Span] = []
        self.rewinds: list[_Span] = []  # the writer's idle upkeep that rewound the WAL
        self._clock: ThreadClock | None = None
        self._stat_fd = -1
        self._original: Callable[[asyncio.Handle], None] | None = None
        self._gc_started = 0.0
        self._step_gc = 0.0
        self._step: asyncio.Handle | None = None  # the step running, while recorded
        self._loop_thread = 0
        self._next_machine = 0.0
        self._op_cpu: dict[int, float] | None = None  # each operation's loop CPU, seconds
        #: CPU and run delay (s) of the transactions the loop ran itself (`watch_backend`):
        #: left out of the loop's clocks, as a transaction on the writer thread is
        self.inline_cpu = self._inline_delay = 0.0

    # recording --------------------------------------------------------------------------

    def __enter__(self) -> LoopRecorder:
        self._loop_thread = threading.get_ident()
        if self._clock is None:  # kept: the step that leaves the block reads it last
            self._clock = ThreadClock(self._schedstat)
        self._stat_fd = os.open(self._stat, os.O_RDONLY | os.O_CLOEXEC)
        original: Callable[[asyncio.Handle], None] = getattr(asyncio.events.Handle, "_run")  # noqa: B009
        self._original = original
        recorder = self

        def run(handle: asyncio.Handle) -> None:
            recorder._start_step(handle)
            try:
                original(handle)
            finally:
                if recorder._step is handle:  # else the block ended in it: already closed
                    recorder._end_step()

        setattr(asyncio.events.Handle, "_run", run)  # noqa: B010 - a method swapped for the block
        gc.callbacks.append(self._collected)
        self._read_machine(time.monotonic())
        return self

    def _start_step(self, handle: asyncio.Handle) -> None:
        """The opening clocks of a step running `handle`."""
        assert self._clock is not None
        now = time.monotonic()
        if now >= self._next_machine:
            self._read_machine(now)
        self._step_gc = 0.0
        self._step = handle
        self.delay.append(self._clock.delay() - self._inline_delay)
        self.cpu.append(time.thread_time() - self.inline_cpu)
        self.wall.append(time.monotonic())

    def _end_step(self) -> None:
        """The running step's closing clocks, its operation and its collections."""
        assert self._clock is not None and self._step is not None
        self.wall.append(time.monotonic())
        self.cpu.append(time.thread_time() - self.inline_cpu)
        self.delay.append(self._clock.delay() - self._inline_delay)
        context = getattr(self._step, "_context", None)
        self.operation.append(context.get(OPERATION, -1) if context is not None else -1)
        self.gc.append(self._step_gc)
        self._step = None

    def __exit__(self, *exc_info: object) -> None:
        if self._step is not None:  # the step leaving the block ends the recording
            self._end_step()
        self._read_machine(time.monotonic())
        gc.callbacks.remove(self._collected)
        if self._original is not None:
            setattr(asyncio.events.Handle, "_run", self._original)  # noqa: B010
        if self._stat_fd >= 0:
            os.close(self._stat_fd)
            self._stat_fd = -1

    def _read_machine(self, now: float) -> None:
        busy, steal = _machine(self._stat_fd)
        self.machine.append((now, busy, steal))
        self._next_machine = now + MACHINE_EVERY_S

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        del info
        if threading.get_ident() != self._loop_thread or self._step is None:
            return
        if phase == "start":
            self._gc_started = time.monotonic()
        else:
            self._step_gc += time.monotonic() - self._gc_started

    def watch_backend(self, backend: Any) -> Callable[[], None]:
        """Time `backend.commit`'s transactions, on the writer thread or run by the loop
        itself (then the step is cut around it, so it counts as the loop asleep while a
        transaction ran, as between steps, and its CPU and run delay are left out of the
        loop's clocks), and its background checkpoints, each on its own thread; returns
        the undo."""
        commit, checkpoint = backend.commit, backend._passive_checkpoint
        clocks: dict[int, ThreadClock] = {}

        def spanned(work: Callable[..., None], spans: list[_Span]) -> Callable[..., None]:
            def timed(*args: Any) -> None:
                tid = threading.get_ident()
                clock = clocks.get(tid)
                if clock is None:
                    clock = clocks[tid] = ThreadClock(self._schedstat)
                step = self._step if tid == self._loop_thread else None
                if step is not None:
                    self._end_step()
                delay, cpu, start = clock.delay(), time.thread_time(), time.monotonic()
                try:
                    work(*args)
                finally:
                    end = time.monotonic()
                    cpu, delay = time.thread_time() - cpu, clock.delay() - delay
                    spans.append(_Span(start, end, cpu, delay))
                    if tid == self._loop_thread:
                        self.inline_cpu += cpu
                        self._inline_delay += delay
                    if step is not None:
                        self._start_step(step)

            return timed

        backend.commit = spanned(commit, self.writer)
        backend._passive_checkpoint = spanned(checkpoint, self.checkpoints)
        # the writer's upkeep when no transaction waits (SQLite's WAL rewind): a command
        # handed over meanwhile waits for it as for a transaction, so it counts as one
        idle = getattr(backend, "idle", None)
        if idle is not None:
            timed_idle = spanned(idle, self.writer)

            def upkeep() -> None:
                rewound = getattr(backend, "rewinds", 0)
                timed_idle()
                if getattr(backend, "rewinds", 0) != rewound:
                    self.rewinds.append(self.writer[-1])

            backend.idle = upkeep

        def undo() -> None:
            del backend.commit, backend._passive_checkpoint  # the class's methods again
            if idle is not None:
                del backend.idle
            for clock in clocks.values():
                clock.close()

        return undo

    # attributing ------------------------------------------------------------------------

    def _state(self, t: float) -> tuple[float, float]:
        """(loop CPU, loop run delay) at instant `t`: inside a step by wall time; in a
        gap, the run delay accrues at its end (woken, waiting for a CPU)."""
        wall, cpu, delay = self.wall, self.cpu, self.delay
        at = bisect.bisect_right(wall, t)
        if at == 0:
            return cpu[0], delay[0]
        if at == len(wall):
            return cpu[-1], delay[-1]
        lo, hi = at - 1, at
        if lo % 2 == 0:  # inside step lo // 2
            span = wall[hi] - wall[lo]
            f = (t - wall[lo]) / span if span > 0 else 1.0
            return cpu[lo] + f * (cpu[hi] - cpu[lo]), delay[lo] + f * (delay[hi] - delay[lo])
        # the gap's run delay came at its end
        return cpu[lo], min(delay[hi], max(delay[lo], delay[hi] - (wall[hi] - t)))

    def _asleep(self, start: float, end: float) -> list[tuple[float, float]]:
        """The stretches of [start, end] the loop slept between steps (gaps less their
        closing run delay)."""
        wall, delay = self.wall, self.delay
        out = []
        first = max(1, bisect.bisect_right(wall, start) - 1)
        first += (first + 1) % 2  # a step's end index: gaps run from odd to even
        for lo in range(first, len(wall) - 1, 2):
            if wall[lo] >= end:
                break
            sleep_end = wall[lo + 1] - (delay[lo + 1] - delay[lo])
            a, b = max(start, wall[lo]), min(end, sleep_end)
            if b > a:
                out.append((a, b))
        return out

    def attribute(self, start: float, end: float, operation: int = -1) -> Parts:
        """Where the loop's wall time in [start, end] went (`operation`: whose steps are
        its own CPU)."""
        cpu0, delay0 = self._state(start)
        cpu1, delay1 = self._state(end)
        wall = end - start
        cpu, delay = cpu1 - cpu0, delay1 - delay0
        own = untagged = collecting = 0.0
        first = bisect.bisect_right(self.wall, start) // 2
        for step in range(max(0, first - 1), len(self.operation)):
            a, b = self.wall[2 * step], self.wall[2 * step + 1]
            if a >= end:
                break
            overlap = min(b, end) - max(a, start)
            if overlap <= 0 or b <= a:
                continue
            share = overlap / (b - a)
            took = share * (self.cpu[2 * step + 1] - self.cpu[2 * step])
            if self.operation[step] == operation and operation >= 0:
                own += took
            elif self.operation[step] < 0:
                untagged += took
            collecting += share * self.gc[step]
        commit = writer_cpu = writer_delay = 0.0
        for a, b in self._asleep(start, end):
            for span in _overlapping(self.writer, a, b):
                overlap = min(b, span.end) - max(a, span.start)
                commit += overlap
                whole = span.end - span.start
                writer_cpu += span.cpu * overlap / whole if whole > 0 else 0.0
                writer_delay += span.delay * overlap / whole if whole > 0 else 0.0
        checkpoint = threads = 0.0
        for spans in (self.writer, self.checkpoints):
            for span in _overlapping(spans, start, end):
                overlap = min(end, span.end) - max(start, span.start)
                whole = span.end - span.start
                threads += span.cpu * overlap / whole if whole > 0 else span.cpu
                checkpoint += overlap if spans is self.checkpoints else 0.0
        busy, steal = self._machine_between(start, end)
        return Parts(
            wall=wall * 1000,
            run_delay=delay * 1000,
            cpu=cpu * 1000,
            commit=commit * 1000,
            other_sleep=max(0.0, wall - cpu - delay - commit) * 1000,
            own_cpu=own * 1000,
            untagged_cpu=untagged * 1000,
            gc=collecting * 1000,
            writer_cpu=writer_cpu * 1000,
            writer_delay=writer_delay * 1000,
            checkpoint=checkpoint * 1000,
            our_threads_cpu=threads * 1000,
            steal=steal * 1000,
            others_cpu=max(0.0, busy - cpu - threads) * 1000,
        )

    def shares(self, start: float, end: float) -> dict[int, float]:
        """Each operation's share of its whole loop CPU that ran within [start, end]
        (times its replayed CPU: what those steps cost closed-loop)."""
        if self._op_cpu is None:
            self._op_cpu = {}
            for step, op in enumerate(self.operation):
                took = self.cpu[2 * step + 1] - self.cpu[2 * step]
                self._op_cpu[op] = self._op_cpu.get(op, 0.0) + took
        found: dict[int, float] = {}
        first = bisect.bisect_right(self.wall, start) // 2
        for step in range(max(0, first - 1), len(self.operation)):
            a, b = self.wall[2 * step], self.wall[2 * step + 1]
            if a >= end:
                break
            op = self.operation[step]
            overlap = min(b, end) - max(a, start)
            whole = self._op_cpu.get(op, 0.0)
            if op < 0 or overlap <= 0 or b <= a or whole <= 0:
                continue
            took = self.cpu[2 * step + 1] - self.cpu[2 * step]
            found[op] = found.get(op, 0.0) + took * overlap / (b - a) / whole
        return found

    def _machine_between(self, start: float, end: float) -> tuple[float, float]:
        """(busy, steal) seconds of the whole machine from the last reading at or before
        `start` to the first at or after `end` (so a window is never under-counted)."""
        if not self.machine:
            return 0.0, 0.0
        times = [m[0] for m in self.machine]
        lo = max(0, bisect.bisect_right(times, start) - 1)
        hi = min(len(times) - 1, bisect.bisect_left(times, end))
        return (
            self.machine[hi][1] - self.machine[lo][1],
            self.machine[hi][2] - self.machine[lo][2],
        )


def _overlapping(spans: list[_Span], start: float, end: float) -> list[_Span]:
    """The spans (in start order, not overlapping each other) that meet [start, end]."""
    at = bisect.bisect_left([s.end for s in spans], start)
    out = []
    for span in spans[at:]:
        if span.start >= end:
            break
        if span.end > start:
            out.append(span)
    return out


def ours_at_most(p: Parts) -> float:
    """The most of a window's wall time (ms) our code can have made on an idle machine:
    what its operations' steps cost in the closed-loop replay, the loop's steps of no
    operation, and the writer's commit less the writer's wait for a CPU (its CPU, the
    fdatasync, the GIL). The rest (the loop's run delay, its CPU beyond the replay's, other
    sleep, the writer's run delay) is the machine's. Without a replay, all CPU counts."""
    cpu = p.replay_cpu + p.untagged_cpu if p.replay_cpu else p.cpu
    return min(p.wall, cpu + p.commit - p.writer_delay)


def verdict_row(parts: list[Parts], goal_ms: float) -> str:
    """`K of N would still be over the goal with the machine's part taken out (ours at
    most X ms of Y)`: the proof, window by window, of whose the pauses are."""
    if not parts:
        return "none"
    ours = [ours_at_most(p) for p in parts]
    still = sum(1 for o in ours if o > goal_ms)
    worst = parts[ours.index(max(ours))]
    cpu = (
        f"{_n(worst.replay_cpu)} replayed CPU + {_n(worst.untagged_cpu)} untagged steps"
        if worst.replay_cpu
        else f"{_n(worst.cpu)} CPU"
    )
    return (
        f"{still} of {len(parts)} over {goal_ms:g} ms by our part alone (ours at most "
        f"{_n(sum(ours))} of {_n(sum(p.wall for p in parts))} ms; the longest ours "
        f"{_n(max(ours))} ms, of {_n(worst.wall)}: {cpu} + "
        f"{_n(worst.commit - worst.writer_delay)} commit less the writer's run delay)"
    )


def goal_row(name: str, parts: Parts) -> str:
    """`write max 41 ms = 33 run delay + 6 CPU (2 its own, 0 gc) + 2 commit + 0 other
    sleep; beside: …`, every figure in whole ms (tenths under 10)."""
    return f"{name} {_n(parts.wall)} ms = {_sum(parts)}"


def totals_row(parts: list[Parts]) -> str:
    """The parts of many windows added up, in the same words (count first)."""
    if not parts:
        return "none"
    total = Parts(
        **{
            f.name: sum(getattr(p, f.name) for p in parts)
            for f in dataclasses.fields(Parts)
            if f.name != "machine"
        },
        machine=all(p.machine for p in parts),
    )
    return f"{len(parts)}, {_n(total.wall)} ms = {_sum(total)}"


def _sum(p: Parts) -> str:
    replayed = f"; {_n(p.replay_cpu)} in a replay" if p.replay_cpu else ""
    return (
        f"{_n(p.run_delay)} run delay + {_n(p.cpu)} CPU ({_n(p.own_cpu)} its own, "
        f"{_n(p.gc)} gc{replayed}) + {_n(p.commit)} commit (writer CPU {_n(p.writer_cpu)}, "
        f"run delay {_n(p.writer_delay)}) + {_n(p.other_sleep)} other sleep; beside: checkpoint "
        f"{_n(p.checkpoint)}, our other threads' CPU {_n(p.our_threads_cpu)}, machine: "
        + (
            f"steal {_n(p.steal)}, other processes' CPU {_n(p.others_cpu)}"
            if p.machine
            else "not read"
        )
    )


def _n(ms: float) -> str:
    return f"{ms:.1f}" if abs(ms) < 10 else f"{ms:.0f}"

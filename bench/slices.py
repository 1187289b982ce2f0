"""Event-loop slices: every loop step longer than a limit, with where it was spent.

A pause in an open loop is a loop step (one callback or task step) that ran long: every
operation due meanwhile waits for it. `SliceTracer` times each step (wall and the loop
thread's CPU) and, once a step runs past the limit, an interval timer armed at the step's
start (SIGALRM) interrupts it and its handler records the loop's stack, so each long step
is reported with the code it was in: ours (a slow path to fix) or an ordinary step the VM
stalled (CPU far below wall time).

The timer replaced a watchdog thread that looked every millisecond: that thread cost
0.17–0.3 ms of CPU per open-loop operation (one every 8 ms: 2–4 % of a core; 1.89 against
1.72 ms per operation in an A/B of the two tracers on the floor's work, and in the slow
windows of the floor about 3 ms per 44 ms), taken from the same CPU share as the loop, and
it took the GIL each time. A timer costs two system calls per step and nothing between.

The garbage collector runs inside whatever step allocates when a threshold is crossed, and
no Python frame of its own shows, so the tracer also times every collection
(`gc.callbacks`): each long step says how much of it was collecting, and in which
generation, and the summary counts collections by generation.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import gc
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OURS = tuple(str(ROOT / part) for part in ("bot", "handlers", "scoring", "storage"))


@dataclasses.dataclass(frozen=True, slots=True)
class Slow:
    """One loop step over the limit."""

    wall_ms: float
    cpu_ms: float
    where: str  # our innermost frames when the step passed the limit ("" if not known)
    gc_ms: float = 0.0  # of the wall time, spent in garbage collections
    gc_generations: tuple[int, ...] = ()  # the generation of each collection in the step


class SliceTracer:
    """Records every event-loop step over `limit_ms` while active (a context manager).

    Patches `asyncio.events.Handle._run` (every step of every loop in this process runs
    through it) for the block; each step arms a one-shot SIGALRM timer for the limit,
    whose handler records where the step is (only a loop on the main thread, where Python
    runs signal handlers, gets the places). One tracer may be entered again: its counts
    add up over the blocks (an open loop run in several blocks alternating with its floor).
    """

    def __init__(self, limit_ms: float = 5.0) -> None:
        self.limit_s = limit_ms / 1000
        self.slow: list[Slow] = []
        self.steps = 0
        self._started: float | None = None
        self._step_where: dict[int, str] = {}
        self._loop_thread = threading.get_ident()
        self._original: Callable[[asyncio.Handle], None] | None = None
        self._handler: Any = None  # SIGALRM's handler before the block (None: no timer)
        self._gc_started = 0.0
        self._step_gc: list[tuple[int, float]] = []  # (generation, ms) in the running step
        #: every collection while active: generation -> [count, total ms, max ms, in long steps]
        self.collections: dict[int, list[float]] = {}

    def __enter__(self) -> SliceTracer:
        self._loop_thread = threading.get_ident()
        original: Callable[[asyncio.Handle], None] = getattr(asyncio.events.Handle, "_run")  # noqa: B009
        self._original = original
        tracer = self
        timed = threading.current_thread() is threading.main_thread()
        # setitimer(…, 0) disarms: a limit of 0 (every step is long) fires at once instead
        arm, limit = signal.setitimer, max(self.limit_s, 1e-6)

        def run(handle: asyncio.Handle) -> None:
            tracer.steps += 1
            step = tracer.steps
            tracer._step_gc.clear()
            cpu = time.thread_time()
            started = tracer._started = time.perf_counter()
            if timed:
                arm(signal.ITIMER_REAL, limit)
            try:
                original(handle)
            finally:
                if timed:
                    arm(signal.ITIMER_REAL, 0)
                wall = time.perf_counter() - started
                tracer._started = None
                where = tracer._step_where.pop(step, "")
                if wall > tracer.limit_s:
                    cpu_ms = (time.thread_time() - cpu) * 1000
                    gcs = tracer._step_gc
                    for generation, _ in gcs:
                        tracer.collections[generation][3] += 1
                    gc_ms = sum(ms for _, ms in gcs)
                    generations = tuple(g for g, _ in gcs)
                    tracer.slow.append(Slow(wall * 1000, cpu_ms, where, gc_ms, generations))

        if timed:
            self._handler = signal.signal(signal.SIGALRM, self._alarm)
        setattr(asyncio.events.Handle, "_run", run)  # noqa: B010 - a method swapped for the block
        gc.callbacks.append(self._collected)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handler is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._handler)
            self._handler = None
        gc.callbacks.remove(self._collected)
        if self._original is not None:
            setattr(asyncio.events.Handle, "_run", self._original)  # noqa: B010

    def _alarm(self, signum: int, frame: FrameType | None) -> None:
        """SIGALRM: the running step passed the limit; `frame` is where it was."""
        del signum
        if self._started is not None and frame is not None:
            self._step_where.setdefault(self.steps, _ours(frame))

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        """`gc.callbacks`: time each collection (any thread; the loop's are what count)."""
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_started) * 1000
        generation = info["generation"]
        seen = self.collections.setdefault(generation, [0, 0.0, 0.0, 0])
        seen[0] += 1
        seen[1] += ms
        seen[2] = max(seen[2], ms)
        if self._started is not None and threading.get_ident() == self._loop_thread:
            self._step_gc.append((generation, ms))

    def summary(self, top: int = 3) -> dict[str, Any]:
        """JSON-ready: how many steps ran long, the longest `top` with where they were."""
        longest = sorted(self.slow, key=lambda s: s.wall_ms, reverse=True)[:top]
        places = collections.Counter(_place(s.where) for s in self.slow if s.where)
        return {
            "steps": self.steps,
            "over": len(self.slow),
            # long steps that also ran over the limit on the CPU: code to look at, not a
            # stalled VM (a step of 1 ms CPU that took 9 ms of wall time was descheduled)
            "over_cpu": sum(1 for s in self.slow if s.cpu_ms > self.limit_s * 1000),
            # where the watchdog found the long steps, innermost function of ours first
            "places": places.most_common(top + 2),
            # long steps with a collection in them, and those under the limit without it
            "over_collecting": sum(1 for s in self.slow if s.gc_generations),
            "over_because_of_gc": sum(
                1 for s in self.slow if s.wall_ms - s.gc_ms <= self.limit_s * 1000
            ),
            "collections": {
                str(g): {"count": int(c), "total_ms": t, "max_ms": m, "in_long_steps": int(n)}
                for g, (c, t, m, n) in sorted(self.collections.items())
            },
            "longest": [dataclasses.asdict(s) for s in longest],
        }


def _place(where: str) -> str:
    """`storage/kpis.py:214 record < …` → `storage/kpis.py record` (the innermost frame)."""
    file_line, _, rest = where.partition(" ")
    return f"{file_line.rpartition(':')[0] or file_line} {rest.partition(' < ')[0]}"


def _ours(frame: FrameType) -> str:
    """The innermost three frames of our own code (else the innermost frame at all)."""
    stack = traceback.extract_stack(frame)
    mine = [f for f in stack if f.filename.startswith(OURS)] or stack[-1:]
    return " < ".join(f"{_file(f.filename)}:{f.lineno} {f.name}" for f in reversed(mine[-3:]))


def _file(name: str) -> str:
    path = Path(name)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name

"""Event-loop slices: every loop step longer than a limit, with where it was spent.

A pause in an open loop is a loop step (one callback or task step) that ran long: every
operation due meanwhile waits for it. `SliceTracer` times each step (wall and the loop
thread's CPU) and, while a step runs past the limit, a watchdog thread samples the loop
thread's stack, so each long step is reported with the code it was in: ours (a slow path
to fix) or an ordinary step the VM stalled (CPU far below wall time).

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
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OURS = tuple(str(ROOT / part) for part in ("bot", "handlers", "scoring", "storage"))


@dataclasses.dataclass(frozen=True, slots=True)
class Slow:
    """One loop step over the limit."""

    wall_ms: float
    cpu_ms: float
    where: str  # our innermost frames when the watchdog looked ("" if it never did)
    gc_ms: float = 0.0  # of the wall time, spent in garbage collections
    gc_generations: tuple[int, ...] = ()  # the generation of each collection in the step


class SliceTracer:
    """Records every event-loop step over `limit_ms` while active (a context manager).

    Patches `asyncio.events.Handle._run` (every step of every loop in this process runs
    through it) for the block; the watchdog looks every `look_ms`. One tracer may be
    entered again: its counts add up over the blocks (an open loop run in several blocks
    alternating with its floor).
    """

    def __init__(self, limit_ms: float = 5.0, look_ms: float = 1.0) -> None:
        self.limit_s = limit_ms / 1000
        self.look_s = look_ms / 1000
        self.slow: list[Slow] = []
        self.steps = 0
        self._started: float | None = None
        self._step_where: dict[int, str] = {}
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._original: Callable[[asyncio.Handle], None] | None = None
        self._gc_started = 0.0
        self._step_gc: list[tuple[int, float]] = []  # (generation, ms) in the running step
        #: every collection while active: generation -> [count, total ms, max ms, in long steps]
        self.collections: dict[int, list[float]] = {}

    def __enter__(self) -> SliceTracer:
        self._loop_thread = threading.get_ident()
        original: Callable[[asyncio.Handle], None] = getattr(asyncio.events.Handle, "_run")  # noqa: B009
        self._original = original
        tracer = self

        def run(handle: asyncio.Handle) -> None:
            tracer.steps += 1
            step = tracer.steps
            tracer._step_gc.clear()
            cpu = time.thread_time()
            started = tracer._started = time.perf_counter()
            try:
                original(handle)
            finally:
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

        setattr(asyncio.events.Handle, "_run", run)  # noqa: B010 - a method swapped for the block
        gc.callbacks.append(self._collected)
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._watch, name="slice-watchdog", daemon=True)
        self._watchdog.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join()
        gc.callbacks.remove(self._collected)
        if self._original is not None:
            setattr(asyncio.events.Handle, "_run", self._original)  # noqa: B010

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

    def _watch(self) -> None:
        while not self._stop.wait(self.look_s):
            started, step = self._started, self.steps
            if started is None or step in self._step_where:
                continue
            if time.perf_counter() - started > self.limit_s:
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    self._step_where[step] = _ours(frame)

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

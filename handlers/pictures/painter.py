"""Drawing off the event loop: one worker that renders pictures while commands keep answering.

A picture costs tens of milliseconds of CPU, and matplotlib's import half a second. In a
worker *process* (production) neither holds the event loop's GIL, so `/kpi` keeps its
latency while a map is drawn; the process is started and warmed up (matplotlib imported,
font loaded, one tiny figure drawn) in the background right after start-up, so the first
picture is as fast as the next. A worker *thread* (tests, tools) needs no start-up. If the
worker process dies, the next picture starts a new one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, TypeVar

_LOGGER = logging.getLogger(__name__)
S = TypeVar("S")
R = TypeVar("R")
Mode = Literal["thread", "process"]


def _quiet_child() -> None:
    """The worker leaves Ctrl-C to the bot (which then stops it) instead of printing a trace."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def warm_up() -> int:
    """Import matplotlib and draw a tiny map and chart: fonts, hatching and arrows loaded."""
    from handlers.pictures.charts import ChartSpec, chart_png
    from handlers.pictures.strategy import BandSpec, BoxSpec, MapSpec, map_png

    boxes = (BoxSpec("a", "Рост", "50%", "red"), BoxSpec("b", "Grow", "—", "nodata"))
    spec = MapSpec(
        "Map",
        (BandSpec("F", "50%", "red", boxes[:1]), BandSpec("C", "—", "nodata", boxes[1:])),
        (("b", "a"),),
    )
    chart = ChartSpec(
        "KPI",
        "$",
        (738000, 738030),
        (1.0, 2.0),
        2.0,
        0.0,
        -1.0,
        3.0,
        ((-1.0, 3.0, "green"),),
        None,
        "green",
        "note",
    )
    return len(map_png(spec)) + len(chart_png(chart))


def warm_up_process() -> int:
    """`warm_up`, then freeze what is loaded so far out of the garbage collector's full passes.

    Only in the worker process (it holds nothing but matplotlib): a picture allocates enough
    to trigger full collections, which would otherwise walk every matplotlib object each time.
    """
    drawn = warm_up()
    gc.freeze()
    return drawn


def timed(job: tuple[Callable[[S], R], S]) -> tuple[R, float]:
    """`draw(spec)` and the CPU milliseconds it took where it ran: the bench's figure that
    does not depend on how busy the machine is."""
    draw, spec = job
    started = time.thread_time()
    result = draw(spec)
    return result, (time.thread_time() - started) * 1000


class Painter:
    """Runs picture functions (`spec → PNG bytes`) in one dedicated worker."""

    def __init__(self, mode: Mode = "thread") -> None:
        self.mode: Mode = mode
        self._executor: Executor | None = None
        self._warming: Future[int] | None = None

    def _worker(self) -> Executor:
        if self._executor is None:
            if self.mode == "process":
                self._executor = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_quiet_child,
                )
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="painter")
        return self._executor

    def warm(self) -> Future[int]:
        """Start the worker and draw a tiny picture in it, without waiting (call after start)."""
        if self._warming is None:
            first = warm_up_process if self.mode == "process" else warm_up
            self._warming = self._worker().submit(first)
        return self._warming

    async def paint(self, draw: Callable[[S], bytes], spec: S) -> bytes:
        """`draw(spec)` in the worker; the event loop stays free meanwhile."""
        return await self.run(draw, spec)

    async def run(self, job: Callable[[S], R], arg: S) -> R:
        """`job(arg)` in the worker (`paint` for any result, e.g. `timed`)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker(), job, arg)
        except BrokenProcessPool:
            _LOGGER.warning("the picture worker stopped; starting a new one")
            self.close()
            return await loop.run_in_executor(self._worker(), job, arg)

    def close(self) -> None:
        """Stop the worker now (pending pictures are cancelled, one being drawn is dropped).

        The worker process is terminated rather than left to finish: a warm-up or drawing
        nobody waits for would otherwise hold the bot's exit (about a second when start-up
        fails right after the command line started the worker).
        """
        executor, self._executor, self._warming = self._executor, None, None
        if executor is not None:
            # CPython's own table of the pool's processes (3.14 adds terminate_workers())
            workers: dict[int, Any] = dict(getattr(executor, "_processes", None) or {})
            for process in workers.values():
                process.terminate()
            # Then wait for the pool's manager thread to see them go: left running, it could
            # still be closing its pipes when the interpreter exits, which prints a
            # "Bad file descriptor" trace after a clean one-line start-up error.
            executor.shutdown(wait=bool(workers), cancel_futures=True)

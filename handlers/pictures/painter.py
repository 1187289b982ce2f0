"""Drawing off the event loop: one worker that renders pictures while commands keep answering.

A picture costs tens of milliseconds of CPU. In a worker *process* (production) it does not
hold the event loop's GIL, so `/kpi` keeps its latency while a map is drawn; the process is
started and warmed up in the background right after start-up, so the first picture is as
fast as the next. Every picture is drawn with Pillow on `canvas` (no matplotlib), so the
warm-up is the imports, a tiny map and a tiny chart: about 0.1 s. They are three jobs, each
queued only once the one before is done, so a `/map` asked for right after start waits for
the imports but not for the tiny pictures. A worker
*thread* (tests, tools) needs no start-up. If the worker process dies, the next picture
starts a new one.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from handlers.pictures.charts import ChartSpec

_LOGGER = logging.getLogger(__name__)
S = TypeVar("S")
R = TypeVar("R")
Mode = Literal["thread", "process"]


def _quiet_child() -> None:
    """The worker leaves Ctrl-C to the bot (which then stops it) instead of printing a trace,
    and ends when the bot is gone however it ended: after a `kill -9` nothing stops it
    otherwise (it holds its own job queue open), so each crash left a worker and a resource
    tracker behind, holding the bot's stdout open."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    """Wait until the bot's process is gone (its sentinel turns readable), then exit."""
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def warm_imports() -> int:
    """Load what every picture needs first: Pillow, the map's modules, the font's charmap."""
    from handlers.pictures import strategy, style

    return len(style.safe(strategy.MapSpec.__name__))


def warm_map() -> int:
    """Draw a tiny map: Pillow, the fonts and the drawing modules loaded (no matplotlib)."""
    from handlers.pictures.strategy import BandSpec, BoxSpec, MapSpec, map_png

    boxes = (BoxSpec("a", "Рост", "50%", "red"), BoxSpec("b", "Grow", "—", "nodata"))
    spec = MapSpec(
        "Map",
        (BandSpec("F", "50%", "red", boxes[:1]), BandSpec("C", "—", "nodata", boxes[1:])),
        (("b", "a"),),
    )
    return len(map_png(spec))


def tiny_chart() -> ChartSpec:
    """A two-point chart: what the warm-up draws to load the chart code and its fonts."""
    from handlers.pictures.charts import ChartSpec

    return ChartSpec(
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


def warm_charts() -> int:
    """Draw a tiny chart (Pillow, like the map: a few milliseconds once the map is warm)."""
    from handlers.pictures.charts import chart_png

    return len(chart_png(tiny_chart()))


# the warm-up, in the order `Painter.warm` submits it (each step frozen in a process)
WARM_UP = (warm_imports, warm_map, warm_charts)


def frozen(step: Callable[[], int]) -> int:
    """In the worker process: one warm-up step, then what it loaded is frozen out of the
    garbage collector's full passes (a picture allocates enough to trigger them)."""
    drawn = step()
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
        self._warming: Future[int] | None = None  # the first step's: the imports
        self._settled: Future[int] | None = None  # the whole warm-up's, after the last step

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
        """Start the worker and warm it up without waiting (call after start): the drawing
        modules loaded, then a tiny map drawn, then a tiny chart; the future is done when
        the modules are loaded (a map can be drawn).

        Each step is submitted only when the one before is done, so a picture asked for
        meanwhile is queued ahead of the rest (the process pool takes jobs in order, and
        holds one more than it runs): a `/map` right after start waits for the imports,
        not for a tiny map and chart drawn before it."""
        if self._warming is None:
            self._settled = Future[int]()
            self._warming = self._chain(self._worker(), WARM_UP, self._settled, 0)
        return self._warming

    def _chain(
        self,
        worker: Executor,
        steps: tuple[Callable[[], int], ...],
        settled: Future[int],
        drawn: int,
    ) -> Future[int]:
        """Submit `steps[0]`, and the rest one by one after it; `settled` gets the sum of
        what they return, or is cancelled if the worker stops meanwhile."""
        first = self._step(worker, steps[0])

        def then(done: Future[int]) -> None:
            if done.cancelled() or done.exception() is not None:
                settled.cancel()
            elif len(steps) == 1:
                settled.set_result(drawn + done.result())
            else:
                try:
                    self._chain(worker, steps[1:], settled, drawn + done.result())
                except RuntimeError:  # closed meanwhile
                    settled.cancel()

        first.add_done_callback(then)
        return first

    def _step(self, worker: Executor, step: Callable[[], int]) -> Future[int]:
        if self.mode == "process":
            return worker.submit(frozen, step)
        return worker.submit(step)

    def settled(self) -> Future[int]:
        """Done when the whole warm-up is (for the bench: a quiet worker)."""
        self.warm()
        assert self._settled is not None
        return self._settled

    async def paint(self, draw: Callable[[S], bytes], spec: S) -> bytes:
        """`draw(spec)` in the worker; the event loop stays free meanwhile."""
        return await self.run(draw, spec)

    async def run(self, job: Callable[[S], R], arg: S) -> R:
        """`job(arg)` in the worker (`paint` for any result, e.g. `timed`)."""
        import asyncio  # here: the worker process, which imports this module, never needs it

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
        executor, self._executor = self._executor, None
        self._warming = self._settled = None
        if executor is not None:
            # CPython's own table of the pool's processes (3.14 adds terminate_workers())
            workers: dict[int, Any] = dict(getattr(executor, "_processes", None) or {})
            for process in workers.values():
                process.terminate()
            # Then wait for the pool's manager thread to see them go: left running, it could
            # still be closing its pipes when the interpreter exits, which prints a
            # "Bad file descriptor" trace after a clean one-line start-up error.
            executor.shutdown(wait=bool(workers), cancel_futures=True)

"""Timing commands through the whole core and process start-ups, shared by the benches."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bot.app import Core
from handlers.contract import Command


def percentile(samples: list[float], q: float) -> float:
    """The sample at quantile `q` (0.99: p99) of the sorted samples, never past the last."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def on_timetable(
    one: Callable[[int, float], Awaitable[None]], arrivals: Sequence[int], every: float
) -> float:
    """Start `one(i, due)` for each arrival `i`, one every `every` s, whatever the earlier
    ones are doing (an open loop: `due` is the scheduled instant on the loop's clock, so a
    latency counted from it includes the wait behind other work); return once all are done,
    with how many seconds behind schedule the last one finished. The first failure is
    raised then.

    Only unfinished operations are held, as a bot holds only the updates it is handling:
    keeping all 5 000 finished tasks alive grew the live objects by a quarter, which
    looks to the collector policy (`storage.gc_policy`) like a leak to collect."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    running: set[asyncio.Future[None]] = set()
    failed: list[BaseException] = []

    def finished(task: asyncio.Future[None]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failed.append(task.exception())  # type: ignore[arg-type]  # checked just above

    for n, i in enumerate(arrivals):
        due = start + n * every
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.ensure_future(one(i, due))
        running.add(task)
        task.add_done_callback(finished)
    while running:
        await asyncio.wait(set(running))
    if failed:
        raise failed[0]
    return loop.time() - (start + (len(arrivals) - 1) * every)


async def latencies_on_timetable(
    call: Callable[[], Awaitable[Any]], count: int, every: float = 0.01
) -> list[float]:
    """Seconds each of `count` calls took from its scheduled instant, issued one every
    `every` s (`on_timetable`): time spent waiting for the event loop counts too."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []

    async def one(i: int, due: float) -> None:
        del i
        await call()
        latencies.append(loop.time() - due)

    await on_timetable(one, range(count), every)
    return latencies


async def timed(core: Core, texts: list[str], to_command: Callable[[str], Command]) -> list[float]:
    """Milliseconds each command took through `core.dispatch`; an error reply fails the bench."""
    out = []
    for text in texts:
        started = time.perf_counter()
        replies = await core.dispatch(to_command(text))
        out.append((time.perf_counter() - started) * 1000)
        assert replies and replies[0].kind != "error", replies[0].plain()
    return out


def first_line_after_start(args: list[str], stdin: str, cwd: Path) -> float:
    """Seconds from starting a process (fed `stdin`) to its first line of output."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(stdin)
    proc.stdin.flush()
    proc.stdout.readline()
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.wait(timeout=60)
    return elapsed

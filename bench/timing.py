"""Timing commands through the whole core and process start-ups, shared by the benches."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.app import Core
from handlers.contract import Command


def percentile(samples: list[float], q: float) -> float:
    """The sample at quantile `q` (0.99: p99) of the sorted samples, never past the last."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def on_timetable(
    call: Callable[[], Awaitable[Any]], count: int, every: float = 0.01
) -> list[float]:
    """Seconds each of `count` calls took, issued one every `every` s on a fixed timetable:
    latency counts from the scheduled instant, so time spent waiting for the event loop
    (behind other work on it) counts, not only the call's own run."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.01
    latencies: list[float] = []

    async def one(at: float) -> None:
        await asyncio.sleep(at - loop.time())
        await call()
        latencies.append(loop.time() - at)

    await asyncio.gather(*(one(start + i * every) for i in range(count)))
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

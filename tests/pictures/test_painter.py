"""Pictures are drawn in a worker: the event loop keeps answering meanwhile; the worker warms
up with a tiny map and chart and never imports matplotlib."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from handlers.pictures import painter as painter_module
from handlers.pictures.charts import chart_png
from handlers.pictures.dashboard import dashboard_png
from handlers.pictures.painter import Painter
from handlers.pictures.strategy import map_png
from tests.pictures.dashboards import fifty
from tests.pictures.support import big_map, decode

_RELEASE = threading.Event()


def _blocked_draw(spec: str) -> bytes:
    """A drawing that finishes only when the event loop has done other work."""
    assert _RELEASE.wait(timeout=10)
    return spec.encode()


async def test_the_loop_keeps_running_while_a_picture_is_drawn() -> None:
    painter = Painter("thread")
    _RELEASE.clear()
    drawing = asyncio.ensure_future(painter.paint(_blocked_draw, "png"))
    for _ in range(3):  # the loop runs other coroutines while the worker is busy
        await asyncio.sleep(0)
    assert not drawing.done()
    _RELEASE.set()
    assert await drawing == b"png"
    painter.close()


async def test_the_worker_process_warms_up_then_draws_a_map_a_chart_and_a_dashboard() -> None:
    painter = Painter("process")
    try:
        assert await asyncio.wrap_future(painter.warm()) > 0  # a map can be drawn now
        png, chart, dashboard = await asyncio.wait_for(
            asyncio.gather(  # right after the warm-up, one after the other in one worker
                painter.paint(map_png, big_map(objectives=6, links=5)),
                painter.paint(chart_png, painter_module.tiny_chart()),
                painter.paint(dashboard_png, fifty()),
            ),
            timeout=120,
        )
        assert decode(png)[0] >= 800 and decode(chart)[0] > 0 and decode(dashboard)[0] > 0
    finally:
        painter.close()


def test_the_worker_warms_up_without_matplotlib_or_the_scoring_models() -> None:
    check = (
        "import sys; from handlers.pictures import painter; "
        "[painter.frozen(step) for step in painter.WARM_UP]; "
        "print(sorted(m for m in ('matplotlib', 'pydantic', 'asyncio') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


async def test_a_picture_asked_for_during_the_warm_up_imports_is_drawn_before_the_tiny_pictures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order: list[str] = []

    def step(name: str, *, blocked: bool = False) -> Callable[[], int]:
        def run() -> int:
            assert not blocked or _RELEASE.wait(timeout=10)
            order.append(name)
            return 1

        return run

    def picture(spec: str) -> bytes:
        order.append(spec)
        return spec.encode()

    monkeypatch.setattr(
        painter_module,
        "WARM_UP",
        (step("imports", blocked=True), step("tiny map"), step("tiny chart")),
    )
    painter = Painter("thread")
    _RELEASE.clear()
    try:
        painter.warm()
        drawing = asyncio.ensure_future(painter.paint(picture, "map"))
        await asyncio.sleep(0)  # the map is asked for while the imports are still loading
        _RELEASE.set()
        assert await drawing == b"map"
        assert await asyncio.wrap_future(painter.settled()) == 3
        assert order == ["imports", "map", "tiny map", "tiny chart"]
    finally:
        painter.close()


_ORPHAN_CHECK = (
    "import os, sys; from handlers.pictures.painter import Painter; "
    "painter = Painter('process'); "
    "print(painter._worker().submit(os.getpid).result(timeout=60), flush=True); "
    "sys.stdin.read()"
)


def test_the_worker_process_stops_when_the_bot_is_killed() -> None:
    """Found by probe9: after `kill -9` of the bot its picture worker (and multiprocessing's
    resource tracker) lived on, one pair per crash, holding the bot's stdout open, so a
    supervisor reading the bot's output never saw it end."""
    bot = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_CHECK],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert bot.stdin is not None and bot.stdout is not None
    worker = int(bot.stdout.readline())
    bot.kill()
    bot.wait()
    try:
        # EOF: every process holding the bot's stdout (the worker, the tracker) is gone
        finished = threading.Thread(target=bot.stdout.read, daemon=True)
        finished.start()
        finished.join(timeout=30)
        assert not finished.is_alive(), "the worker outlived the bot"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
        bot.stdin.close()
        bot.stdout.close()

"""Pictures are drawn in a worker: the event loop keeps answering meanwhile."""

from __future__ import annotations

import asyncio
import threading

from handlers.pictures.painter import Painter
from handlers.pictures.strategy import map_png
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


async def test_the_worker_process_warms_up_then_draws_the_map() -> None:
    painter = Painter("process")
    try:
        assert await asyncio.wrap_future(painter.warm()) > 0
        png = await painter.paint(map_png, big_map(objectives=6, links=5))
        assert decode(png)[0] >= 800
    finally:
        painter.close()

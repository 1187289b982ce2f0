"""Pictures are drawn in a worker: the event loop keeps answering meanwhile; the worker can
draw a map before matplotlib (for charts) is imported, and that import gives way to it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

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


async def test_the_worker_process_warms_up_then_draws_the_map_and_charts_meanwhile() -> None:
    painter = Painter("process")
    try:
        assert await asyncio.wrap_future(painter.warm()) > 0  # a map can be drawn now
        png, chart, dashboard = await asyncio.wait_for(
            asyncio.gather(  # while matplotlib imports: no deadlock, no half-imported module
                painter.paint(map_png, big_map(objectives=6, links=5)),
                painter.paint(chart_png, painter_module.tiny_chart()),
                painter.paint(dashboard_png, fifty()),
            ),
            timeout=120,
        )
        assert decode(png)[0] >= 800 and decode(chart)[0] > 0 and decode(dashboard)[0] > 0
        assert await asyncio.wrap_future(painter.settled())  # matplotlib imported meanwhile
        assert decode(await painter.paint(chart_png, painter_module.tiny_chart()))[0] > 0
    finally:
        painter.close()


def test_the_map_worker_draws_without_matplotlib_or_the_scoring_models() -> None:
    check = (
        "import sys; from handlers.pictures import painter; painter.warm_map(); "
        "print(sorted(m for m in ('matplotlib', 'pydantic', 'asyncio') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


class _Waits:
    """An `Event` stand-in that records how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        return True


def test_the_background_import_waits_at_each_module_while_a_picture_is_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits = _Waits()
    monkeypatch.setattr(painter_module, "_idle", waits)
    finder = painter_module._Yielding(threading.get_ident())
    assert finder.find_spec("idle.module", None) is None and waits.waits == []
    monkeypatch.setattr(painter_module, "_drawing_since", time.monotonic())
    assert finder.find_spec("busy.module", None) is None
    assert len(waits.waits) == 1 and 0 < waits.waits[0] <= painter_module.YIELD_S
    other = painter_module._Yielding(threading.get_ident() + 1)  # the drawing thread itself
    assert other.find_spec("busy.module", None) is None and len(waits.waits) == 1
    monkeypatch.setattr(painter_module, "_drawing_since", time.monotonic() - 10)
    finder.find_spec("long.busy", None)
    assert waits.waits[-1] == 0.0  # a picture that needs the import itself stalls it no longer


def test_drawing_marks_the_worker_busy_only_while_the_job_runs() -> None:
    seen: list[bool] = []

    def job(arg: int) -> int:
        seen.append(painter_module._drawing_since is not None)
        return arg + 1

    assert painter_module.drawing((job, 1)) == 2
    assert seen == [True] and painter_module._drawing_since is None

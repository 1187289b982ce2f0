"""Sweep plumbing: do a list of small synchronous steps in atomic slices of CPU time.

A command waits at most about one slice (plus one step) behind a long sweep: between
slices the loop serves whatever is waiting.

After each slice the objects alive are frozen out of the garbage collector's generations
(`storage.gc_policy`, as after opening the store and after every command). What a sweep
allocates and keeps is the store's cache of the tables it read — hundreds of thousands
of long-lived dicts and lists on 500 chats — and without this the collector's full
collections re-scan all of it, 100–250 ms at a time, inside a later slice or a command.
Frozen objects are still freed by reference counting (an evicted table goes as before);
only cyclic garbage alive at that instant would stay, and a sweep makes none (a test
checks that a busy sweep leaves nothing for the collector). For the same reason the
automatic collector is off inside a slice: what a slice keeps is frozen when it ends, and
the collections its allocations set off (about 50 in the first busy sweep after a start,
each scanning the tables just loaded) found nothing to free.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager
from time import perf_counter
from typing import TypeVar

from storage import gc_policy

T = TypeVar("T")
_END = object()  # no more items


async def in_slices(
    items: Iterable[T],
    step: Callable[[T], None],
    *,
    atomic: Callable[[], AbstractContextManager[None]],
    slice_seconds: float,
    pause: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run `step` on each item, as many as fit in `slice_seconds` per atomic block,
    pausing (by default: yielding to the loop) after each block.

    A slice ends before a step that would take it past `slice_seconds` if it cost what
    the step before it did (not only once past it: a slice of steps that cost a few
    milliseconds each ran a whole step over).
    Taking the next item counts as part of a slice: `items` may be a generator that does
    the work itself (`Store.sweep_preload`).
    """
    pending = iter(items)
    item: T | object = _END
    started = perf_counter()  # CPU slicing, not business time: not the clock
    with atomic():
        item = next(pending, _END)
    while item is not _END:
        collecting = gc.isenabled()
        gc.disable()  # what the slice keeps is frozen below: nothing for a collection to free
        try:
            with atomic():
                last = perf_counter()
                while item is not _END:
                    step(item)  # type: ignore[arg-type]  # not _END: a T
                    item = next(pending, _END)
                    now = perf_counter()
                    if 2 * now - last - started >= slice_seconds:  # now + (now - last)
                        break
                    last = now
        finally:
            if collecting:
                gc.enable()
        gc_policy.keep_long_lived()  # what the slice loaded is long-lived: out of full collections
        await (pause() if pause is not None else yield_to_loop())
        started = perf_counter()


async def yield_to_loop() -> None:
    """Let waiting commands run before the next slice.

    Twice: a command whose timer fired during a slice is only made runnable after the
    sweep's own wake-up is queued; the second yield lets it go first.
    """
    await asyncio.sleep(0)
    await asyncio.sleep(0)

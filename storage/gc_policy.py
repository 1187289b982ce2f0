"""The one garbage-collector policy: what survives a command is frozen out of collections.

CPython's collector runs inside whichever loop step crosses an allocation threshold, and a
full collection re-scans every tracked object not frozen. In the open-loop bench (1M
values) one such full collection took 34–38 ms of a 44–50 ms loop step: the objects it
scanned were what reads and writes had kept since the last freeze (cached table
documents, models derived from them, finished tasks). So:

- `keep_long_lived()` — `gc.freeze()`, O(1) (it splices the generations' lists onto the
  permanent one): called after the store opens, after each warm or sweep slice, and after
  every command (`after_command`). Frozen objects are still freed by reference counting
  (an evicted table goes as before); only cyclic garbage alive at that instant would stay,
  and commands make none (a test runs everyday commands and refusals under
  `DEBUG_SAVEALL` and attributes what the collector finds).
- The bound, should some path make cycles anyway: once the objects frozen since the last
  full collection outnumber a quarter (`GROWTH`) of the live objects then, everything is
  unfrozen and collected once. Leaked cycles stay bounded to about a quarter of the live
  objects, and a steady store never collects.

The frozen objects are counted without walking them (`gc.get_freeze_count()` walks the
whole permanent generation: 6–10 ms at the bench's stores, a long loop step each time it
ran). The account comes from CPython's own counter (3.11, Modules/gcmodule.c): generation
0's count goes up by one at each allocation of a collector type (`_PyObject_GC_Link`,
tracked or not) and down by one at each free (`PyObject_GC_Del`), floored at 0; a
collection of generation g resets the counts up to g and `gc.freeze()` resets them all.
So just before each freeze the count is the net number of such objects made since the
last freeze, and the account adds it up. What that alone would miss, and how it is made up:

- objects an automatic collection inside a command promoted to generation 1 or 2 leave
  the count: `gc.callbacks` adds the count at each collection's start, so each object is
  in the account once, wherever it was promoted;
- frees that meet a count of 0 are lost, and they are many: what a command hands back (its
  replies, its task) is freed just after the freeze, in the next loop step. In the bench's
  replay at 10k values the account grew ~13 objects per command where ~4.3 were kept
  (counted by a walk of every object and what it refers to). So `BALLAST` objects (and the
  three a `tee` makes them with) are made just after each freeze and dropped just before
  the next: the count starts at what they made, those frees take one off it, and the
  ballast itself is taken off the account: ~4.8 per command then, for ~1 µs per command.
  What still meets a count of 0 (more frees than that; temporaries a collection promoted
  and the command freed after it; the garbage a collection frees, not taken off either,
  since lists and dicts come and go through free lists uncounted and taking each collected
  one off would let the account sink at every collection) makes the account run high,
  never low (except by what the free lists hold, a few hundred objects): a leak is never
  hidden.

"Live objects" are the allocator's blocks (`sys.getallocatedblocks()`, a sum over its
arenas: microseconds whatever the heap): every small object, string and number alike,
holds one, a container two. That is a looser bound than the walk's, which counted tracked
containers only (a quarter of 255,000 blocks at 10k values, not of 57,000 containers),
but those cannot be counted without a walk, and the account (which counts every
collector-type object, tracked or not) against them would have put a 35 ms full
collection every ~3,000 commands in the bench's replay at 10k, whose store keeps what
its writes add; against the blocks, every ~14,000. A collection also needs the blocks
themselves to have grown by a quarter: an account that only ran high (a steady store)
never collects, and cycles leaked while as much else was freed leave the process within a
quarter of its size after the last collection.

On the system allocator (`PYTHONMALLOC=malloc`: no block count) the frozen objects are
walked at the first look and after each collection (which walked everything anyway), and
a quarter of them is the bound.

Where the collection runs. It re-scans every object (53–61 ms at the bench's 10k store),
and CPython 3.11 cannot split a full collection into steps (`gc.collect(2)` is one call
over the whole heap; 3.14's incremental collector would give steps). So no command pays
it: a look that finds the bound passed only marks the collection due, and it runs when
the loop is idle — no command in flight (`command_started` … `after_command`, the
router's) and nothing else ready to run on the loop (`loop_idle`). A command arriving
during it still waits, as it would behind any loop step; none has its own reply held
back. The hard bound, for a loop that is never idle (commands back to back, each sent as
the last is answered, for 1 000s of commands): once the account passes `HARD_GROWTH` (half
the live objects), the look collects at once, inside the command it ends. Leaked cycles
then stay within half the live objects instead of a quarter. Without a running loop (a
script, a migration) a due collection runs at once: nobody waits on a loop there.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from itertools import tee
from typing import Final

#: Commands between two looks at the account.
CHECK_EVERY: Final = 1_000
#: How much may be frozen since the last full collection, as a share of the live objects
#: then, before everything is collected once.
GROWTH: Final = 0.25
#: Past this share the collection no longer waits for an idle loop (see the module).
HARD_GROWTH: Final = 2 * GROWTH
#: Objects made just after each freeze and dropped just before the next (see the module).
BALLAST: Final = 32

_commands = 0
#: Objects made since the last freeze that collections took out of generation 0's count.
_promoted = 0
#: Net objects frozen since the last full collection (the account; it can only run high).
_grown = 0
#: Live objects then: allocated blocks (0: not looked yet; or frozen objects, walked once,
#: without Python's allocator).
_live = 0
#: Allocated blocks at the last full collection (or first look).
_blocks = 0
#: Commands started and not ended (`command_started`, `after_command`).
_in_flight = 0
#: A look found the bound passed: a full collection waits for an idle loop.
_due = False
#: The loop a look for idleness is queued on (None: none queued).
_armed: asyncio.AbstractEventLoop | None = None
#: Full collections run so far: when the loop was idle, and inside a command (the hard
#: bound) or with no loop running. Benchmarks report them.
idle_collections = 0
inline_collections = 0


#: The ballast alive now: `BALLAST` copies of an `itertools.tee`, collector-type objects
#: that no free list keeps, made in one C call (32 objects made one by one in Python were
#: about 3 % of a `/kpi set`'s instructions); and how much of generation 0's count it is.
_ballast: tuple[Iterator[object], ...] = ()
_ballast_counted = 0


def _on_collection(phase: str, info: dict[str, int]) -> None:
    """Carry generation 0's count across a collection that is about to reset it."""
    global _promoted, _ballast_counted
    if phase == "start":
        _promoted += gc.get_count()[0] - _ballast_counted
        _ballast_counted = 0


gc.callbacks.append(_on_collection)


def keep_long_lived() -> None:
    """Freeze every object alive now out of the collector's generations (O(1))."""
    global _ballast, _promoted, _grown, _ballast_counted
    count = gc.get_count()[0]  # read first: a collection after it adds to _promoted, kept
    _grown += _promoted + count - _ballast_counted
    _promoted = 0
    gc.freeze()
    _ballast = ()  # freed with the count at 0: nothing taken off it
    _ballast = tee((), BALLAST)
    # what the ballast made, counted (the tees, their shared buffer, iterator and tuple)
    _ballast_counted = gc.get_count()[0]


def command_started() -> None:
    """A command starts: no deferred collection runs until every one started has ended."""
    global _in_flight
    _in_flight += 1


def after_command() -> None:
    """A command finished: what it kept is long-lived (see the module for the bound)."""
    global _commands, _in_flight, _due
    keep_long_lived()
    _commands += 1
    if _commands >= CHECK_EVERY:
        _commands = 0
        if not _live:
            _restart()  # the first look: the live objects the account is measured against
        elif _passed(HARD_GROWTH):
            _collect(idle=False)  # never idle for that long: the hard bound, inline
        elif _passed(GROWTH):
            _due = True
    _in_flight = max(0, _in_flight - 1)  # a bare call (a script, a test) started nothing
    if _due and not _in_flight:
        _look_for_idle()


def _passed(share: float) -> bool:
    """Has the account, and the memory itself, grown past `share` of the live objects?"""
    return _grown > _live * share and _memory_grew(_live * share)


def _loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def loop_idle(loop: asyncio.AbstractEventLoop) -> bool:
    """Nothing else is ready to run on `loop` (asyncio's own loop keeps its ready
    callbacks in `_ready`; a loop without one is taken as idle between commands)."""
    return not getattr(loop, "_ready", None)


def quiet_for(loop: asyncio.AbstractEventLoop, most: float) -> float:
    """How long (s, at most `most`) `loop` has nothing to run: no ready callback and no
    timer due sooner. 0 for a loop that keeps them elsewhere than asyncio's own
    (`_ready`, `_scheduled`): then nothing is known."""
    ready = getattr(loop, "_ready", None)
    timers = getattr(loop, "_scheduled", None)
    if ready or ready is None or timers is None:
        return 0.0
    if timers:
        due: float = timers[0].when()
        return max(0.0, min(most, due - loop.time()))
    return most


def _look_for_idle() -> None:
    """Run the due collection at the loop's next step with nothing else ready to run."""
    global _armed
    loop = _loop()
    if loop is None:
        _collect(idle=False)  # no loop: nobody waits on one
    elif _armed is not loop:  # one queued on a loop since closed never ran: queue again
        _armed = loop
        loop.call_soon(_when_idle, loop)


def _when_idle(loop: asyncio.AbstractEventLoop) -> None:
    global _armed
    _armed = None
    if not _due or _in_flight:
        return  # collected already, or the last command in flight looks again as it ends
    if not loop_idle(loop):
        _armed = loop
        loop.call_soon(_when_idle, loop)  # after what is ready now
        return
    _collect(idle=True)


def _collect(*, idle: bool) -> None:
    """Unfreeze everything, collect once, freeze again and restart the account."""
    global _due, idle_collections, inline_collections
    _due = False
    gc.unfreeze()
    gc.collect()
    keep_long_lived()
    _restart()
    if idle:
        idle_collections += 1
    else:
        inline_collections += 1


def _memory_grew(by: float) -> bool:
    """Did the allocator's blocks grow by more than `by` since the account restarted? (Yes
    on the system allocator, which has no block count: the account alone judges there.)"""
    return not _blocks or sys.getallocatedblocks() - _blocks > by


def _restart() -> None:
    """Start the account again from the live objects now."""
    global _grown, _live, _blocks
    _grown = 0
    _blocks = sys.getallocatedblocks()  # 0 on the system allocator: walk the frozen ones
    _live = _blocks or gc.get_freeze_count() or 1

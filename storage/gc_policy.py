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
- The bound, should some path make cycles anyway: every `CHECK_EVERY` commands the
  interpreter's allocated small-object blocks are counted (`sys.getallocatedblocks`, a sum
  over its arenas: microseconds whatever the heap). Only when they grew by more than
  `GROWTH` since the last look that counted are the frozen objects counted
  (`gc.get_freeze_count()`, which walks them: about 3 ms at 190k objects), and only if
  *those* grew by more than `GROWTH` since the last full collection is everything
  unfrozen and collected once. That is CPython's own rule for full collections (a quarter
  more long-lived objects), counted on what survives commands. The block count alone is
  not the judge: it also grows with untracked data (the table cache's bytes and strings
  fill it by ~6 % per 1,000 commands while frozen objects grow ~2 %), and judging by it
  put a 40–50 ms full collection inside the open-loop bench every ~5,000 commands. A
  steady store never pays either count's walk; a filling cache pays the walk a
  logarithmic number of times; cycles that leak are bounded to about a quarter of the
  live objects.
"""

from __future__ import annotations

import gc
import sys
from typing import Final

#: Commands between two looks at how many objects are frozen.
CHECK_EVERY: Final = 1_000
#: How much the frozen objects may grow before everything is collected once.
GROWTH: Final = 0.25

_commands = 0
_blocks_seen = 0  # allocated blocks at the last look that counted the frozen objects
_frozen_after_full = 0  # frozen objects just after the last full collection (0: none yet)


def keep_long_lived() -> None:
    """Freeze every object alive now out of the collector's generations (O(1))."""
    gc.freeze()


def after_command() -> None:
    """A command finished: what it kept is long-lived (see the module for the bound)."""
    global _commands, _blocks_seen, _frozen_after_full
    gc.freeze()
    _commands += 1
    if _commands < CHECK_EVERY:
        return
    _commands = 0
    blocks = sys.getallocatedblocks()  # 0 on the system allocator: always count frozen
    if blocks and _blocks_seen and blocks <= _blocks_seen * (1 + GROWTH):
        return
    _blocks_seen = blocks
    frozen = gc.get_freeze_count()
    if not _frozen_after_full:
        _frozen_after_full = frozen
    elif frozen > _frozen_after_full * (1 + GROWTH):
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _frozen_after_full = gc.get_freeze_count()
        _blocks_seen = sys.getallocatedblocks()

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
  over its arenas: about 0.1 ms whatever the heap), and if they grew by more than `GROWTH`
  since the last full collection, everything is unfrozen and collected once. That is
  CPython's own rule for full collections (a quarter more long-lived objects), counted on
  what survives commands rather than on every promotion: a steady store never pays it, a
  filling cache pays it a logarithmic number of times, and cycles that leak are bounded
  to a quarter of the live objects. (The count used to be `gc.get_freeze_count()`, which
  walks the frozen list: 7 ms at the 10k store and 9–10 ms at 1M, once per 1 000
  commands, inside whichever command was the thousandth.)
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
_blocks_after_full = 0  # allocated blocks just after the last full collection (0: none yet)


def keep_long_lived() -> None:
    """Freeze every object alive now out of the collector's generations (O(1))."""
    gc.freeze()


def after_command() -> None:
    """A command finished: what it kept is long-lived (see the module for the bound)."""
    global _commands, _blocks_after_full
    gc.freeze()
    _commands += 1
    if _commands < CHECK_EVERY:
        return
    _commands = 0
    blocks = _live()
    if not _blocks_after_full:
        _blocks_after_full = blocks
    elif blocks > _blocks_after_full * (1 + GROWTH):
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _blocks_after_full = _live()


def _live() -> int:
    """How much is alive: allocated object blocks, or (when Python runs on the system
    allocator, `PYTHONMALLOC=malloc`, and has no such count) the frozen objects."""
    return sys.getallocatedblocks() or gc.get_freeze_count()

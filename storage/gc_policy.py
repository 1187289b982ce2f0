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
  and commands make none (a test runs every kind of command, errors included, under
  `DEBUG_SAVEALL` and attributes what the collector finds).
- The bound, should some path make cycles anyway: every `FULL_EVERY` commands the
  permanent generation is unfrozen and fully collected once (one pause of a full
  collection, ~25 ms at 1M values, per `FULL_EVERY` commands), so nothing leaks for good.
"""

from __future__ import annotations

import gc
from typing import Final

#: Commands between two full collections of everything (the bound on what cycles can keep).
FULL_EVERY: Final = 10_000

_commands = 0


def keep_long_lived() -> None:
    """Freeze every object alive now out of the collector's generations (O(1))."""
    gc.freeze()


def after_command() -> None:
    """A command finished: what it kept is long-lived; once per `FULL_EVERY`, collect all."""
    global _commands
    _commands += 1
    if _commands >= FULL_EVERY:
        _commands = 0
        gc.unfreeze()
        gc.collect()
    gc.freeze()

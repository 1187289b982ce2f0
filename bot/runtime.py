"""Process-wide interpreter settings of the running bot, made once by its command line.

A library module (the store) must not change them as a side effect of being used: tests,
tools (`doctor`, export, import) and benchmark baselines opening a store keep the
interpreter as they found it, and the setting is made, documented and tested in one place.
"""

from __future__ import annotations

import sys
from typing import Final

__all__ = ["SWITCH_INTERVAL_S", "tune_interpreter"]

#: How long a thread wanting the GIL waits before the running one is asked to let go
#: (CPython's default: 5 ms). The store's writer thread needs the GIL back after each SQLite
#: call of a commit (BEGIN, the rows, the counter, COMMIT), so while the event loop was busy
#: a durable write waited up to 5 ms per call: `/kpi set`s with the loop kept busy took p99
#: 133–276 ms at 5 ms and 31–88 ms at 0.5 ms. Only a thread that waits is affected.
SWITCH_INTERVAL_S: Final = 0.0005


def tune_interpreter() -> None:
    """Let the store's writer thread (and the picture thread) have the GIL back within
    `SWITCH_INTERVAL_S` while the event loop is busy (never raises a lower setting)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)

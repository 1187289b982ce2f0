"""Alert state rebuilt from a KPI's history, silently: the demo, imports, restores and
stores from before alerts hold 90 days of data that are not "first readings"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from scoring.alert_rules import (
    AlertState,
    rebuild,
)
from scoring.kpi import performance
from scoring.models import Kpi, Measurement, Thresholds
from scoring.status import would_be_status
from scoring.targets import kpi_on
from storage.alert_state import AlertSettings

if TYPE_CHECKING:
    from storage import Store


#: Readings replayed to rebuild a state: the colour hysteresis settles on depends on
#: recent history only.
REBUILD_READINGS = 60


def rebuild_state(
    kpi: Kpi,
    history: Sequence[Measurement],
    settings: AlertSettings,
    thresholds: Thresholds,
    now: datetime,
) -> AlertState | None:
    """`scoring.alert_rules.rebuild` with each reading's colour and performance filled in
    (each scored against the staged target in force on its day)."""
    readings = list(history[-REBUILD_READINGS:])
    on_day = [kpi_on(kpi, m.day) for m in readings]
    return rebuild(
        kpi,
        readings,
        statuses=[
            would_be_status(k, m.value, thresholds) for k, m in zip(on_day, readings, strict=True)
        ],
        performances=[performance(k, m.value) for k, m in zip(on_day, readings, strict=True)],
        policy=settings.policy,
        thresholds=thresholds,
        now=now,
    )


def rebuild_states(store: Store, chat: str, now: datetime) -> int:
    """Rebuild every KPI's alert state from its history, silently (demo, scorecard imports).

    For stores filled by other paths than `/kpi set`: afterwards `/alerts` shows what is
    firing and the next value is compared with the history, never a "first reading".
    Returns how many states were written.
    """
    settings = store.alerts.settings(chat)
    thresholds = store.scorecards.thresholds(chat)
    written = 0
    for kpi in store.kpis.all(chat):
        history = store.kpis.history(chat, kpi.key, limit=REBUILD_READINGS)
        state = rebuild_state(kpi, history, settings, thresholds, now)
        if state is not None:
            store.alerts.put_state(chat, state, test=kpi.test)
            written += 1
    return written

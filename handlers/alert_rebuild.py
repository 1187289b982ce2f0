"""Alert state rebuilt from a KPI's history, silently: the demo, imports, restores and
stores from before alerts hold 90 days of data that are not "first readings"."""

from __future__ import annotations

from collections import OrderedDict
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


_Ahead = tuple[Kpi, list[Measurement], AlertSettings, Thresholds, datetime, AlertState | None]
#: States replayed ahead (`replay_ahead`), by KPI key, with the inputs they were built from.
_AHEAD: OrderedDict[str, _Ahead] = OrderedDict()
_AHEAD_SIZE = 1_000


def replay_ahead(
    kpi: Kpi,
    history: Sequence[Measurement],
    settings: AlertSettings,
    thresholds: Thresholds,
    now: datetime,
) -> None:
    """Replay now what `rebuild_state` will be asked later with the same inputs: a big
    import does it in its slices for the KPIs it is about to give their first values, so
    its one atomic step does not replay 60 readings per KPI. Only an exact match is used."""
    readings = list(history[-REBUILD_READINGS:])
    state = _replay(kpi, readings, settings, thresholds, now)
    _AHEAD[kpi.key] = (kpi, readings, settings, thresholds, now, state)
    while len(_AHEAD) > _AHEAD_SIZE:
        _AHEAD.popitem(last=False)


def rebuild_state(
    kpi: Kpi,
    history: Sequence[Measurement],
    settings: AlertSettings,
    thresholds: Thresholds,
    now: datetime,
) -> AlertState | None:
    """`scoring.alert_rules.rebuild` with each reading's colour and performance filled in
    (each scored against the staged target in force on its day).

    A state replayed ahead from the same KPI, readings, settings and thresholds is taken
    instead: the replay evaluates each reading at its own instant (all before both
    `now`s), so only the instant it is deemed told at differs, and that is set to `now`."""
    readings = list(history[-REBUILD_READINGS:])
    ahead = _AHEAD.pop(kpi.key, None)
    if ahead is not None:
        a_kpi, a_readings, a_settings, a_thresholds, then, state = ahead
        same = (a_kpi, a_readings, a_settings, a_thresholds) == (
            kpi,
            readings,
            settings,
            thresholds,
        )
        if same and all(m.at <= then and m.at <= now for m in readings):
            return None if state is None else state.model_copy(update={"last_notified": now})
    return _replay(kpi, readings, settings, thresholds, now)


def _replay(
    kpi: Kpi,
    readings: list[Measurement],
    settings: AlertSettings,
    thresholds: Thresholds,
    now: datetime,
) -> AlertState | None:
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

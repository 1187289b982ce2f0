"""A state replayed ahead (a big import's slices) is exactly what the step would rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import alert_rebuild
from handlers.alert_rebuild import rebuild_state, replay_ahead
from scoring.alert_rules import AlertState
from scoring.models import Kpi, Measurement, Thresholds
from storage.alert_state import AlertSettings

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
KPI = Kpi(key="cac", name="CAC", objective="o", baseline=120, target=80)


def _history(values: list[float]) -> list[Measurement]:
    return [
        Measurement(kpi="cac", value=v, day=date(2026, 8, 1) + timedelta(n), at=AT)
        for n, v in enumerate(values)
    ]


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(60, 140), min_size=2, max_size=70), later=st.integers(0, 90))
def test_a_state_replayed_ahead_is_the_one_rebuilt_later(values: list[float], later: int) -> None:
    history, rules, thresholds = _history(values), AlertSettings(), Thresholds()
    then, now = AT + timedelta(seconds=5), AT + timedelta(seconds=5, minutes=later)
    replay_ahead(KPI, history, rules, thresholds, then)
    before = len(alert_rebuild._AHEAD)
    ahead = rebuild_state(KPI, history, rules, thresholds, now)
    assert len(alert_rebuild._AHEAD) == before - 1
    replays: list[object] = []
    replay = alert_rebuild._replay

    def counted(*args: Any) -> AlertState | None:
        replays.append(args)
        return replay(*args)

    setattr(alert_rebuild, "_replay", counted)  # noqa: B010
    try:
        replay_ahead(KPI, history, rules, thresholds, then)
        assert len(replays) == 1
        rebuild_state(KPI, history, rules, thresholds, now)
        assert len(replays) == 1  # taken from the replay ahead, not replayed again
    finally:
        setattr(alert_rebuild, "_replay", replay)  # noqa: B010
    assert ahead == rebuild_state(KPI, history, rules, thresholds, now)  # nothing kept: replayed


def test_a_state_replayed_from_other_inputs_is_not_used() -> None:
    history, rules, thresholds = _history([100, 130, 70]), AlertSettings(), Thresholds()
    replay_ahead(KPI, history, rules, thresholds, AT + timedelta(1))
    other = _history([100, 130, 71])
    assert rebuild_state(KPI, other, rules, thresholds, AT + timedelta(1)) == rebuild_state(
        KPI, other, rules, thresholds, AT + timedelta(1)
    )
    assert "cac" not in alert_rebuild._AHEAD  # taken once, whichever way it went

"""`alert_judge.reminder_step`, the sweep's red reminder on the stored document: whenever it
answers, `step` on the parsed state gives one reminder, and the state's and the reminder's
documents are exactly what it answered (byte for byte); a planted bug (the quiet hours'
hold forgotten) fails that."""

from __future__ import annotations

from datetime import UTC, time, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from handlers import alert_judge
from handlers.alert_judge import reminder_step, step
from scoring.alert_rules import AlertPolicy, AlertState, Mute, QuietHours
from scoring.models import Kpi, Measurement, Status, Thresholds
from storage.alert_state import AlertSettings
from storage.base import to_doc
from tests.alerts.test_quiet_step import _INSTANTS, _KPIS, _READINGS, _STATES, _THRESHOLDS, NOW

_ZONES = st.sampled_from([ZoneInfo("UTC"), ZoneInfo("Europe/Copenhagen"), ZoneInfo("Asia/Tokyo")])
_RED = _STATES.map(lambda s: s.model_copy(update={"status": Status.RED})) | _STATES
_QUIET = [QuietHours(start=time(22), end=time(8)), QuietHours(start=time(8), end=time(12))]
_HOUR = timedelta(hours=1)
_SETTINGS = st.builds(
    AlertSettings,
    policy=st.builds(
        AlertPolicy,
        hysteresis=st.sampled_from([0.0, 0.05, 0.2]),
        confirm=st.integers(1, 3),
        repeat=st.sampled_from([_HOUR, timedelta(days=1)]),
        quiet=st.none() | st.sampled_from(_QUIET),
    ),
    mutes=st.sampled_from(
        [(), *((Mute(target=k, by="@a", created=NOW - _HOUR, until=NOW + _HOUR),) for k in "kx")]
    ),
)
_CASES = st.tuples(_RED, _KPIS, _READINGS, _SETTINGS, _THRESHOLDS, _ZONES)


def _check(
    case: tuple[AlertState, Kpi, Measurement, AlertSettings, Thresholds, ZoneInfo],
) -> bool:
    """Whether `reminder_step` answered (and, if it did, that `step` agrees exactly)."""
    state, kpi, reading, alert_settings, thresholds, zone = case
    answer = reminder_step(to_doc(state), kpi, reading, alert_settings, thresholds, zone, NOW)
    if answer is None:
        return False
    after, transitions = step(state, kpi, reading, alert_settings, zone, thresholds, NOW)
    assert [t.kind for t in transitions] == ["reminder"]
    assert orjson.dumps(answer[0]) == orjson.dumps(to_doc(after))
    assert orjson.dumps(answer[1]) == orjson.dumps(to_doc(transitions[0]))
    return True


def _holds(case: tuple[AlertState, Kpi, Measurement, AlertSettings, Thresholds, ZoneInfo]) -> None:
    _check(case)


@settings(max_examples=300, deadline=None)
@given(_CASES)
def test_a_reminder_step_is_the_full_step_whenever_it_answers(
    case: tuple[AlertState, Kpi, Measurement, AlertSettings, Thresholds, ZoneInfo],
) -> None:
    _holds(case)


def test_a_red_kpi_told_two_days_ago_takes_the_reminder_step() -> None:
    """The busy sweep's case: red, told two days ago, its reading still red."""
    kpi = Kpi(key="k", name="K", objective="o", target=100)
    state = AlertState(
        kpi="k",
        status=Status.RED,
        since=NOW - timedelta(days=3),
        last_notified=NOW - timedelta(days=2),
        value=30,
        performance=0.3,
        reading_at=NOW - timedelta(days=3),
    )
    reading = Measurement(kpi="k", value=30, day=NOW.date(), at=NOW - timedelta(days=3))
    case = (state, kpi, reading, AlertSettings(), Thresholds(), ZoneInfo("UTC"))
    assert _check(case)


def test_the_property_catches_a_reminder_step_that_forgets_quiet_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the reminder is never held for quiet hours (it would wake people)."""
    monkeypatch.setattr(alert_judge, "quiet_release_time", lambda *_: None)
    unshrunk = settings(max_examples=300, deadline=None, phases=[Phase.generate], derandomize=True)
    with pytest.raises(AssertionError):
        unshrunk(given(_CASES)(_holds))()


def test_a_reminder_step_answers_for_most_red_cases() -> None:
    """The shortcut is taken often enough over the strategy to be worth testing by it."""
    taken: list[bool] = []
    sample = settings(max_examples=200, deadline=None, phases=[Phase.generate], derandomize=True)
    sample(given(_CASES)(lambda case: taken.append(_check(case))))()
    assert sum(taken) >= 20, sum(taken)


_ = UTC, _INSTANTS

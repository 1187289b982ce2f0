"""`alert_judge.change_step`, a colour-changing `/kpi set`'s alert step on the stored
document: whenever it answers, `step` on the parsed state gives the same state and the same
transitions, their documents byte for byte; planted bugs (the quiet hours' hold forgotten,
the confirmation count restarted on every reading) fail that."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handlers import alert_judge
from scoring.alert_rules import AlertPolicy, AlertState
from scoring.models import Kpi, Measurement, Status, Thresholds
from storage.alert_state import AlertSettings
from storage.base import to_doc
from tests.alerts.test_quiet_step import _INSTANTS, _KPIS, _READINGS, _STATES, _THRESHOLDS, NOW
from tests.alerts.test_reminder_step import _QUIET, _SETTINGS, _ZONES

#: Told states (most change steps start from one), and any state.
_TOLD = _STATES.map(lambda s: s.model_copy(update={"last_notified": NOW - timedelta(hours=2)}))
#: Readings of every colour (a change to yellow or green is the one quiet hours hold).
_COLOURED = st.builds(
    lambda value, at: Measurement(kpi="k", value=value, day=at.date(), at=at, by="@b"),
    st.sampled_from([10.0, 45.0, 60.0, 85.0, 95.0, 100.0]),
    _INSTANTS,
)
_QUIETER = _SETTINGS.flatmap(
    lambda s: st.sampled_from(_QUIET).map(
        lambda q: s.model_copy(update={"policy": s.policy.model_copy(update={"quiet": q})})
    )
)
_CASES = st.tuples(
    _TOLD | _STATES, _KPIS, _COLOURED | _READINGS, _QUIETER | _SETTINGS, _THRESHOLDS, _ZONES
)
Case = tuple[AlertState, Kpi, Measurement, AlertSettings, Thresholds, ZoneInfo]

_PLAIN = Kpi(key="k", name="K", objective="o", target=100)
_UTC = ZoneInfo("UTC")
_RED_TOLD = AlertState(
    kpi="k",
    status=Status.RED,
    told=Status.RED,
    since=NOW - timedelta(hours=3),
    last_notified=NOW - timedelta(hours=2),
    value=20,
    performance=0.2,
    reading_at=NOW - timedelta(hours=2),
)
_GREEN = Measurement(kpi="k", value=95, day=NOW.date(), at=NOW, by="@b")
#: The bench's colour change: told red, a green reading, resolved at once.
_BENCH_CASE: Case = (_RED_TOLD, _PLAIN, _GREEN, AlertSettings(), Thresholds(), _UTC)
#: The same in quiet hours (held until 12:00).
_QUIET_CASE: Case = (
    _RED_TOLD,
    _PLAIN,
    _GREEN,
    AlertSettings(policy=AlertPolicy(quiet=_QUIET[1])),
    Thresholds(),
    _UTC,
)
#: A yellow KPI one red reading away from its `confirm=2`: this reading changes it.
_CONFIRMED_CASE: Case = (
    _RED_TOLD.model_copy(
        update={"status": Status.YELLOW, "pending": Status.RED, "pending_count": 1}
    ),
    _PLAIN,
    Measurement(kpi="k", value=10, day=NOW.date(), at=NOW, by="@b"),
    AlertSettings(policy=AlertPolicy(confirm=2)),
    Thresholds(),
    _UTC,
)


def _check(case: Case) -> None:
    state, kpi, reading, alert_settings, thresholds, zone = case
    moved = alert_judge.change_step(  # through the module: a planted bug is the one run
        to_doc(state), kpi, reading, alert_settings, thresholds, zone, NOW
    )
    if moved is None:
        return
    after, found = alert_judge.step(state, kpi, reading, alert_settings, zone, thresholds, NOW)
    assert orjson.dumps(moved[0]) == orjson.dumps(to_doc(after))
    assert orjson.dumps(moved[1]) == orjson.dumps([to_doc(t) for t in found])


@settings(max_examples=150, deadline=None)
@given(_CASES)
@example(_BENCH_CASE)
@example(_QUIET_CASE)
@example(_CONFIRMED_CASE)
def test_a_change_step_is_the_full_step_whenever_it_answers(case: Case) -> None:
    _check(case)


def test_the_named_cases_are_changes_on_documents() -> None:
    """Each named case is answered on documents, with its one change."""
    said: list[tuple[str, str, str, str | None]] = []
    for state, kpi, reading, alert_settings, thresholds, zone in (
        _BENCH_CASE,
        _QUIET_CASE,
        _CONFIRMED_CASE,
    ):
        found = alert_judge.change_step(
            to_doc(state), kpi, reading, alert_settings, thresholds, zone, NOW
        )
        assert found is not None
        said.extend((t["kind"], t["old"], t["new"], t["held_until"]) for t in found[1])
    assert said == [
        ("resolved", "red", "green", None),
        ("resolved", "red", "green", "2026-11-23T12:00:00Z"),
        ("escalated", "yellow", "red", None),
    ]


def test_the_property_catches_a_change_step_that_forgets_quiet_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a yellow or green change in quiet hours goes out at once."""
    monkeypatch.setattr(alert_judge, "quiet_release_time", lambda *args: None)
    with pytest.raises(AssertionError):
        _check(_QUIET_CASE)  # one of the property's examples


def test_the_property_catches_a_change_step_that_restarts_the_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a change waiting for `confirm` readings never counts past one."""
    real = alert_judge.change_step

    def restarting(state: dict[str, object], *args: object) -> object:
        return real({**state, "pending": None}, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(alert_judge, "change_step", restarting)
    with pytest.raises(AssertionError):
        _check(_CONFIRMED_CASE)  # one of the property's examples

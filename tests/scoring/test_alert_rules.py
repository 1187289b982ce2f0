"""Alert rules as table-driven time steps with an injected clock (no sleeps).

Colours come from `colour_of`, a local stand-in for scoring.status with the same
boundaries, so these tests pin the alert rules alone;
`test_stand_in_and_settle_agree_with_scoring_status` keeps the two in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from scoring.alert_rules import (
    AlertPolicy,
    AlertState,
    Mute,
    QuietHours,
    Transition,
    active_mute,
    evaluate,
    parse_duration,
    settle,
    transition_kind,
)
from scoring.errors import ScoringError
from scoring.models import Kpi, Measurement, Status, Thresholds
from tests.refusals import refuses

G, Y, R, ND = Status.GREEN, Status.YELLOW, Status.RED, Status.NODATA
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
LEADS = Kpi(key="leads", name="Leads", objective="grow", target=100.0, baseline=0.0, unit="")
CTR = Kpi(key="ctr", name="CTR", objective="reach", target=5.0, baseline=1.0, warn=4.0, crit=3.0)
CAC = Kpi(
    key="cac",
    name="CAC",
    objective="costs",
    target=80.0,
    baseline=120.0,
    direction="down",
    warn=100.0,
    crit=130.0,
)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def performance_of(kpi: Kpi, value: float) -> float:
    return (value - kpi.baseline) / (kpi.target - kpi.baseline)


def colour_of(kpi: Kpi, value: float) -> Status:
    """Stand-in for scoring.status.colour: warn/crit values first, else the default shares."""
    if kpi.warn is not None or kpi.crit is not None:
        down = kpi.direction == "down"

        def hit(level: float) -> bool:
            return value >= level if down else value <= level

        if kpi.crit is not None and hit(kpi.crit):
            return R
        return Y if kpi.warn is not None and hit(kpi.warn) else G
    share = performance_of(kpi, value)
    if share + 1e-9 >= 0.8:
        return G
    return Y if share + 1e-9 >= 0.5 else R


@dataclass
class Feed:
    """One KPI's alert state driven through time, keeping everything it produced."""

    kpi: Kpi = LEADS
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    mutes: list[Mute] = field(default_factory=list)
    tz: tzinfo = UTC
    state: AlertState | None = None
    log: list[Transition] = field(default_factory=list)

    def value(self, at: datetime, value: float, by: str = "ann") -> list[Transition]:
        """A value recorded (and evaluated) at `at`."""
        reading = Measurement(kpi=self.kpi.key, value=value, day=at.date(), at=at, by=by)
        return self.reading(reading, now=at)

    def reading(self, measurement: Measurement, *, now: datetime) -> list[Transition]:
        self.state, out = evaluate(
            self.state,
            kpi=self.kpi,
            measurement=measurement,
            status=colour_of(self.kpi, measurement.value),
            performance=performance_of(self.kpi, measurement.value),
            now=now,
            policy=self.policy,
            mutes=self.mutes,
            tz=self.tz,
        )
        self.log += out
        return out

    def sweep(self, at: datetime) -> list[Transition]:
        """The scheduler's sweep at `at`: the latest reading evaluated again (already counted,
        so only a reminder can come of it), as handlers.alert_pipeline does for red KPIs."""
        assert self.state is not None
        if self.state.status is not Status.RED:
            return []  # the sweep looks at red KPIs only (catch-ups follow a mute's end)
        latest = Measurement(
            kpi=self.kpi.key,
            value=self.state.value,
            day=self.state.reading_at.date(),
            at=self.state.reading_at,
            by=self.state.by,
        )
        return self.reading(latest, now=at)

    def kinds(self) -> list[str]:
        return [f"{t.kind}:{t.old.value}>{t.new.value}" for t in self.log]


def feed_values(feed: Feed, values: list[float], step: timedelta = timedelta(minutes=10)) -> None:
    for i, value in enumerate(values):
        feed.value(T0 + i * step, value)


# --- hysteresis -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "share", "expected"),
    [
        (G, 0.80, G),  # at the green threshold: still green
        (G, 0.79, Y),  # worse happens at the threshold, no margin
        (Y, 0.80, Y),  # back at the threshold is not enough
        (Y, 0.849, Y),
        (Y, 0.85, G),  # threshold + margin exactly clears (float noise forgiven)
        (Y, 0.49, R),
        (R, 0.54, R),  # raw yellow, not cleared by the margin
        (R, 0.55, Y),
        (R, 0.82, Y),  # raw green but only yellow's threshold is cleared
        (R, 0.90, G),
        (ND, 0.81, G),  # the first colour needs no margin
        (ND, 0.52, Y),
        (ND, 0.30, R),
    ],
)
def test_better_colour_needs_the_margin_worse_colour_comes_at_the_threshold(
    current: Status, share: float, expected: Status
) -> None:
    value = share * 100
    raw = colour_of(LEADS, value)
    got = settle(current, raw, kpi=LEADS, value=value, performance=share, hysteresis=0.05)
    assert got is expected


@pytest.mark.parametrize(
    ("kpi", "current", "value", "expected"),
    [
        # higher is better: warn 4, crit 3, margin 0.05 × |5 − 1| = 0.2
        (CTR, G, 4.0, Y),  # at warn is yellow (scoring.status: "at or below warn")
        (CTR, Y, 4.1, Y),
        (CTR, Y, 4.2, G),
        (CTR, Y, 3.0, R),
        (CTR, R, 3.1, R),
        (CTR, R, 3.2, Y),
        (CTR, R, 4.1, Y),  # raw green, clears crit only
        (CTR, R, 4.3, G),
        # lower is better: warn 100, crit 130, margin 0.05 × |80 − 120| = 2
        (CAC, G, 100.0, Y),
        (CAC, Y, 99.0, Y),
        (CAC, Y, 98.0, G),
        (CAC, Y, 130.0, R),
        (CAC, R, 129.0, R),
        (CAC, R, 128.0, Y),
        # only crit set: red or green, margin 0.05 × 100 = 5
        (LEADS.model_copy(update={"crit": 50.0}), R, 54.0, R),
        (LEADS.model_copy(update={"crit": 50.0}), R, 55.0, G),
        # only warn set: yellow or green
        (LEADS.model_copy(update={"warn": 80.0}), Y, 84.0, Y),
        (LEADS.model_copy(update={"warn": 80.0}), Y, 85.0, G),
        # target == baseline: the margin falls back to 0.05 × |warn − crit| = 0.25
        (Kpi(key="x", name="X", objective="o", target=0, warn=10, crit=5), Y, 10.2, Y),
        (Kpi(key="x", name="X", objective="o", target=0, warn=10, crit=5), Y, 10.25, G),
    ],
)
def test_explicit_warn_crit_values_get_a_margin_in_the_kpis_unit(
    kpi: Kpi, current: Status, value: float, expected: Status
) -> None:
    raw = colour_of(kpi, value)
    got = settle(current, raw, kpi=kpi, value=value, performance=0.0, hysteresis=0.05)
    assert got is expected


def test_close_thresholds_never_make_an_improving_reading_worse_than_before() -> None:
    close = Thresholds(green=0.8, yellow=0.78)  # margin 0.05 > the yellow band
    got = settle(Y, G, kpi=LEADS, value=81, performance=0.81, thresholds=close, hysteresis=0.05)
    assert got is Y


def test_zero_margin_follows_the_raw_colour() -> None:
    for current in (G, Y, R):
        for share in (0.2, 0.5, 0.6, 0.8, 0.95):
            value = share * 100
            raw = colour_of(LEADS, value)
            got = settle(current, raw, kpi=LEADS, value=value, performance=share, hysteresis=0)
            assert got is raw


def test_value_hovering_at_the_green_threshold_alerts_once() -> None:
    feed = Feed()
    feed_values(feed, [81, 79, 81, 79, 83, 80, 84, 79, 84.9])
    assert feed.kinds() == ["fired:green>yellow"]
    assert feed.value(hours(5), 85) and feed.kinds()[-1] == "resolved:yellow>green"


def test_value_hovering_at_the_red_threshold_escalates_and_improves_once() -> None:
    feed = Feed()
    feed_values(feed, [60, 49, 51, 49, 54, 50, 49, 55, 51, 54])
    assert feed.kinds() == ["fired:nodata>yellow", "escalated:yellow>red", "improved:red>yellow"]


def test_explicit_thresholds_hovering_value_alerts_once_then_resolves_past_the_margin() -> None:
    feed = Feed(kpi=CAC)
    feed_values(feed, [95, 101, 99, 100, 99, 101, 98.5, 98])
    assert feed.kinds() == ["fired:green>yellow", "resolved:yellow>green"]


# --- confirmation ----------------------------------------------------------------------


def test_confirm_needs_readings_in_a_row_and_a_reading_at_the_old_colour_resets() -> None:
    feed = Feed(policy=AlertPolicy(confirm=3))
    steps: list[tuple[float, Status, Status | None, int, list[str]]] = [
        # value, state.status, pending, pending_count, transitions
        (90, ND, G, 1, []),
        (90, ND, G, 2, []),
        (90, G, None, 0, []),  # nodata → green after 3, silently
        (40, G, R, 1, []),
        (40, G, R, 2, []),
        (90, G, None, 0, []),  # back at green: the run is reset
        (40, G, R, 1, []),
        (40, G, R, 2, []),
        (40, R, None, 0, ["fired"]),
    ]
    for i, (value, status, pending, count, kinds) in enumerate(steps):
        out = feed.value(hours(i), value)
        assert feed.state is not None
        assert (feed.state.status, feed.state.pending, feed.state.pending_count) == (
            status,
            pending,
            count,
        ), f"step {i}"
        assert [t.kind for t in out] == kinds, f"step {i}"
    assert feed.state is not None and feed.state.since == hours(8)


def test_confirm_restarts_when_a_different_bad_colour_interrupts() -> None:
    feed = Feed(policy=AlertPolicy(confirm=3))
    feed_values(feed, [90, 90, 90, 40, 40, 60, 60, 60])
    assert feed.kinds() == ["fired:green>yellow"]


def test_confirm_counts_the_same_reading_only_once() -> None:
    feed = Feed(policy=AlertPolicy(confirm=2))
    feed.value(hours(0), 90)
    feed.value(hours(1), 90)
    reading = Measurement(kpi="leads", value=40, day=hours(2).date(), at=hours(2), by="ann")
    for minute in range(3):  # e.g. a restart re-evaluating the latest value
        assert feed.reading(reading, now=hours(2) + timedelta(minutes=minute)) == []
    assert feed.state is not None and (feed.state.pending, feed.state.pending_count) == (R, 1)
    assert [t.kind for t in feed.value(hours(3), 40)] == ["fired"]


def test_confirm_applies_to_the_first_colour_too() -> None:
    feed = Feed(policy=AlertPolicy(confirm=2))
    assert feed.value(hours(0), 30) == []
    assert feed.state is not None and feed.state.status is ND and feed.state.pending is R
    assert [t.kind for t in feed.value(hours(1), 30)] == ["fired"]


# --- first value, resolve, message content ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kinds", "status"),
    [(90, [], G), (60, ["fired:nodata>yellow"], Y), (20, ["fired:nodata>red"], R)],
)
def test_first_value_fires_unless_green(value: float, kinds: list[str], status: Status) -> None:
    feed = Feed()
    feed.value(T0, value)
    assert feed.kinds() == kinds
    assert feed.state is not None and feed.state.status is status and feed.state.since == T0


def test_going_back_to_green_resolves_once() -> None:
    feed = Feed()
    feed_values(feed, [40, 60, 90, 95, 99, 90, 86])
    assert feed.kinds() == ["fired:nodata>red", "improved:red>yellow", "resolved:yellow>green"]


def test_a_transition_carries_what_the_message_needs() -> None:
    feed = Feed()
    feed.value(T0, 90, by="ann")
    (alert,) = feed.value(hours(1), 30, by="bob")
    assert alert.model_dump(exclude={"at", "since"}) == {
        "kpi": "leads",
        "name": "Leads",
        "objective": "grow",
        "unit": "",
        "target": 100.0,
        "low": None,
        "high": None,
        "kind": "fired",
        "old": G,
        "new": R,
        "value": 30.0,
        "performance": 0.3,
        "by": "bob",
        "suppressed": None,
        "mute": None,
        "held_until": None,
    }
    assert alert.at == alert.since == hours(1)
    assert alert.critical


@pytest.mark.parametrize(
    ("old", "new", "kind", "critical"),
    [
        (ND, Y, "fired", False),
        (ND, R, "fired", True),
        (G, Y, "fired", False),
        (G, R, "fired", True),
        (Y, R, "escalated", True),
        (R, Y, "improved", False),
        (R, G, "resolved", False),
        (Y, G, "resolved", False),
        (ND, G, None, False),
        (R, R, None, False),
    ],
)
def test_transition_kinds_and_which_are_critical(
    old: Status, new: Status, kind: str | None, critical: bool
) -> None:
    assert transition_kind(old, new) == kind
    if kind is not None:
        feed = Feed()
        feed.state = AlertState(
            kpi="leads", status=old, value=1, performance=0.01, reading_at=T0, last_notified=T0
        )
        target = {G: 95.0, Y: 60.0, R: 10.0}[new]
        (alert,) = feed.value(hours(1), target)
        assert (alert.kind, alert.critical, alert.suppressed) == (kind, critical, None)


# --- repeat ------------------------------------------------------------------------------


def test_values_arriving_hourly_while_red_remind_once_a_day() -> None:
    feed = Feed()
    for hour in range(73):
        feed.value(hours(hour), 30 + hour / 10)
    kinds = [(t.kind, t.at) for t in feed.log]
    assert kinds == [("fired", hours(0)), ("reminder", hours(24)), ("reminder", hours(48)),
                     ("reminder", hours(72))]  # fmt: skip
    reminder = feed.log[1]
    assert (reminder.old, reminder.new, reminder.value, reminder.since) == (R, R, 32.4, T0)
    assert not reminder.critical


def test_sweep_reminds_a_red_kpi_every_repeat_interval() -> None:
    feed = Feed(policy=AlertPolicy(repeat=timedelta(hours=4)))
    feed.value(T0, 20)
    schedule = [(1, 0), (3.99, 0), (4, 1), (4.5, 0), (6, 0), (8, 1), (8, 0), (12.2, 1)]
    for at, count in schedule:
        assert len(feed.sweep(hours(at))) == count, at
    assert feed.state is not None and feed.state.last_reminder == hours(12.2)
    assert feed.state.last_notified == hours(12.2)


def test_yellow_and_green_are_never_reminded() -> None:
    for value in (60, 90):
        feed = Feed()
        feed.value(T0, value)
        assert feed.sweep(hours(24 * 7)) == []


# --- mutes -------------------------------------------------------------------------------


def test_mute_suppresses_notifications_but_not_evaluation_and_reminds_once_after_expiry() -> None:
    mute = Mute.create("all", parse_duration("2h"), by="boss", now=T0)
    assert (mute.by, mute.created, mute.until) == ("boss", T0, hours(2))
    feed = Feed(mutes=[mute])
    feed.value(T0, 90)
    (fired,) = feed.value(hours(0.5), 20)
    assert (fired.kind, fired.suppressed, fired.mute) == ("fired", "muted", mute)
    assert feed.state is not None and feed.state.status is R and feed.state.last_notified is None
    assert feed.sweep(hours(1)) == []
    assert feed.value(hours(1.5), 21) == []  # no reminder while muted
    (reminder,) = feed.sweep(hours(2))  # the mute ends at `until`
    assert (reminder.kind, reminder.suppressed, reminder.since) == ("reminder", None, hours(0.5))
    assert feed.sweep(hours(2.1)) == [] and feed.value(hours(3), 22) == []  # no burst
    assert [t.kind for t in feed.sweep(hours(26))] == ["reminder"]


def test_mute_expiring_after_a_told_red_waits_for_the_next_repeat() -> None:
    feed = Feed()
    feed.value(T0, 20)  # fired and told
    feed.mutes.append(Mute.create("leads", timedelta(hours=3), by="boss", now=hours(1)))
    assert feed.sweep(hours(4)) == []
    assert feed.sweep(hours(23.9)) == []
    assert [t.suppressed for t in feed.sweep(hours(24))] == [None]


def test_changes_while_muted_are_logged_as_suppressed_and_move_the_state() -> None:
    feed = Feed(mutes=[Mute.create("leads", timedelta(days=1), by="boss", now=T0)])
    feed_values(feed, [20, 60, 90])
    assert [(t.kind, t.suppressed) for t in feed.log] == [
        ("fired", "muted"),
        ("improved", "muted"),
        ("resolved", "muted"),
    ]
    assert feed.state is not None and feed.state.status is G


def test_no_resolved_message_for_a_red_nobody_was_told_about() -> None:
    feed = Feed(mutes=[Mute.create("all", timedelta(hours=1), by="boss", now=T0)])
    feed.value(T0, 90)
    feed.value(hours(0.5), 20)  # red while muted
    (resolved,) = feed.value(hours(1.2), 95)  # mute over, but the sweep has not reminded yet
    assert (resolved.kind, resolved.suppressed) == ("resolved", "muted")
    feed.value(hours(2), 20)
    assert [(t.kind, t.suppressed) for t in feed.log[-1:]] == [("fired", None)]


def test_recovery_after_the_post_mute_reminder_is_sent() -> None:
    feed = Feed(mutes=[Mute.create("all", timedelta(hours=1), by="boss", now=T0)])
    feed.value(hours(0.5), 20)
    assert len(feed.sweep(hours(1))) == 1
    assert [t.suppressed for t in feed.value(hours(1.5), 95)] == [None]


def test_a_mute_on_another_kpi_or_not_yet_started_does_not_silence() -> None:
    other = Mute.create("cac", timedelta(hours=1), by="boss", now=T0)
    later = Mute.create("leads", timedelta(hours=1), by="boss", now=hours(5))
    feed = Feed(mutes=[other, later])
    assert [t.suppressed for t in feed.value(T0, 20)] == [None]
    assert active_mute("leads", [other, later], hours(5.5)) == later
    longest = Mute.create("all", timedelta(hours=3), by="eve", now=hours(5))
    assert active_mute("leads", [later, longest], hours(5.5)) == longest


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("30m", 30), ("2h", 120), ("1d", 1440), ("1w", 10080), ("1h30m", 90), ("2 H", 120),
     ("45min", 45), ("2ч", 120), ("1д", 1440)],
)  # fmt: skip
def test_mute_durations_people_type(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "2", "h", "2x", "-1h", "1.5h", "1h and 2m"])
def test_bad_mute_durations_get_a_friendly_error(text: str) -> None:
    with refuses(ScoringError, "not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(days=91)])
def test_mutes_last_from_a_minute_to_ninety_days(duration: timedelta) -> None:
    with refuses(ScoringError, "90 days"):
        Mute.create("all", duration, by="boss", now=T0)


# --- test-mode KPIs ----------------------------------------------------------------------


def test_test_mode_kpis_produce_would_be_alerts_marked_suppressed_at_the_would_be_pace() -> None:
    feed = Feed(kpi=LEADS.model_copy(update={"test": True}))
    feed.value(T0, 20)
    assert feed.sweep(hours(1)) == []
    assert len(feed.sweep(hours(24))) == 1
    assert feed.sweep(hours(25)) == []
    feed.value(hours(26), 95)
    assert [(t.kind, t.suppressed) for t in feed.log] == [
        ("fired", "test"),
        ("reminder", "test"),
        ("resolved", "test"),
    ]


def test_test_mode_wins_over_a_mute_in_the_log() -> None:
    mute = Mute.create("all", timedelta(hours=1), by="boss", now=T0)
    feed = Feed(kpi=LEADS.model_copy(update={"test": True}), mutes=[mute])
    (alert,) = feed.value(T0, 20)
    assert (alert.suppressed, alert.mute) == ("test", None)


# --- quiet hours -------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


def test_quiet_hours_hold_yellow_and_resolved_but_not_red() -> None:
    night = AlertPolicy(quiet=QuietHours.parse("22:00-08:00"))
    feed = Feed(policy=night, tz=BERLIN)
    feed.value(berlin(2, 21), 90)
    (yellow,) = feed.value(berlin(2, 23), 60)
    assert yellow.held_until == berlin(3, 8)
    assert feed.state is not None and feed.state.last_notified == berlin(3, 8)
    (red,) = feed.value(berlin(3, 1), 20)
    assert red.critical and red.held_until is None
    (resolved,) = feed.value(berlin(3, 7, 59), 95)
    assert resolved.held_until == berlin(3, 8)
    (daytime,) = feed.value(berlin(3, 8), 60)
    assert daytime.held_until is None


def test_a_reminder_due_at_night_is_held_and_the_next_one_counts_from_its_release() -> None:
    night = AlertPolicy(quiet=QuietHours.parse("22:00-08:00"))
    feed = Feed(policy=night, tz=BERLIN)
    feed.value(berlin(2, 3), 20)  # red: critical, sent at 03:00
    (reminder,) = feed.sweep(berlin(3, 3))
    assert reminder.held_until == berlin(3, 8)
    assert feed.sweep(berlin(4, 3)) == []  # 19 h after people saw the last one
    assert [t.held_until for t in feed.sweep(berlin(4, 8))] == [None]


# --- persistence -------------------------------------------------------------------------


def test_state_survives_a_json_round_trip_and_the_same_value_then_produces_nothing() -> None:
    feed = Feed()
    feed.value(T0, 20)
    assert feed.state is not None
    stored = json.loads(json.dumps(feed.state.model_dump(mode="json")))
    reloaded = AlertState.model_validate(stored)
    assert reloaded == feed.state
    assert reloaded.reading_at.tzinfo is not None and reloaded.last_notified == T0
    feed.state = reloaded
    same = Measurement(kpi="leads", value=20, day=T0.date(), at=T0, by="ann")
    assert feed.reading(same, now=hours(1)) == []
    assert feed.state == reloaded


def test_a_pending_run_survives_a_restart_without_counting_the_latest_value_twice() -> None:
    feed = Feed(policy=AlertPolicy(confirm=3))
    feed_values(feed, [90, 90, 90, 40, 40])
    assert feed.state is not None
    feed.state = AlertState.model_validate_json(feed.state.model_dump_json())
    latest = Measurement(kpi="leads", value=40, day=T0.date(), at=T0 + timedelta(minutes=40))
    assert feed.reading(latest, now=hours(3)) == []
    assert feed.state.pending_count == 2
    assert [t.kind for t in feed.value(hours(4), 40)] == ["fired"]


def test_policy_mute_and_transition_round_trip_through_json() -> None:
    policy = AlertPolicy(
        hysteresis=0.1,
        confirm=2,
        repeat=timedelta(hours=4),
        group_window=timedelta(0),
        quiet=QuietHours.parse("22:30-07:15"),
    )
    mute = Mute.create("all", timedelta(hours=2), by="boss", now=T0)
    feed = Feed(mutes=[mute])
    (alert,) = feed.value(T0, 20)
    for model in (policy, mute, alert):
        again = type(model).model_validate(json.loads(json.dumps(model.model_dump(mode="json"))))
        assert again == model


# --- refusals ----------------------------------------------------------------------------


def test_evaluate_refuses_naive_clocks_non_colours_and_foreign_states() -> None:
    reading = Measurement(kpi="leads", value=20, day=T0.date(), at=T0)
    policy = AlertPolicy()

    def run(**changes: object) -> None:
        args: dict[str, object] = {
            "kpi": LEADS,
            "measurement": reading,
            "status": R,
            "performance": 0.2,
            "now": T0,
            "policy": policy,
        }
        args.update(changes)
        evaluate(changes.pop("state", None), **args)  # type: ignore[arg-type]

    with refuses(ValueError, "aware"):
        run(now=T0.replace(tzinfo=None))
    for status in (ND, Status.TEST):
        with refuses(ValueError, "colour"):
            run(status=status)
    with refuses(ValueError, "belong"):
        run(kpi=CAC)


@pytest.mark.parametrize(
    "bad",
    [
        {"confirm": 0},
        {"hysteresis": -0.01},
        {"repeat": timedelta(0)},
        {"group_window": timedelta(seconds=-1)},
    ],
)
def test_policy_refuses_settings_that_make_no_sense(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AlertPolicy.model_validate(bad)


def test_state_and_mute_refuse_impossible_values() -> None:
    with pytest.raises(ValidationError):
        AlertState(kpi="leads", status=Status.TEST, value=1, performance=0, reading_at=T0)
    with pytest.raises(ValidationError):
        Mute(target="all", by="boss", created=T0, until=T0)


# --- kept in step with scoring.status -------------------------------------------------------


def test_stand_in_and_settle_agree_with_scoring_status() -> None:
    from scoring.kpi import performance
    from scoring.status import colour

    only_crit = LEADS.model_copy(update={"crit": 50.0})
    only_warn = LEADS.model_copy(update={"warn": 80.0})
    for kpi in (LEADS, CTR, CAC, only_crit, only_warn):
        low, high = sorted((kpi.baseline, kpi.target))
        span = high - low
        for i in range(-20, 141):
            value = low - 0.2 * span + i * span / 100
            share = performance(kpi, value)
            raw = colour(kpi, value, share)
            assert colour_of(kpi, value) is raw, (kpi.key, value)
            for current in (G, Y, R):
                settled = settle(current, raw, kpi=kpi, value=value, performance=share)
                assert settled in {raw, current} or settled is Y, (kpi.key, value)
                assert settle(current, raw, kpi=kpi, value=value, performance=share,
                              hysteresis=0) is raw  # fmt: skip

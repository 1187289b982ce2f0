"""Alert rules: which KPI colour changes become chat messages, and when (pure, injected clock).

The caller computes a KPI's colour and performance (scoring.status) when a value is
recorded and hands them to `evaluate` with the persisted `AlertState`; it gets back
the new state to persist and the `Transition`s to log and (unless `suppressed`) queue
in the chat's `Batcher` (scoring.alerts_batch). The scheduler sweep calls `evaluate`
again with a red KPI's latest reading (already counted: only a reminder can come of
it). Nothing here reads a clock or storage.

Rules, modelled on Prometheus/Alertmanager (see docs in each function; hysteresis and
confirmation in scoring.alert_hysteresis, the state and transition records in
scoring.alert_records, policy and mutes in scoring.alert_policy):

- **Hysteresis** (`settle`): a worse colour is taken at its threshold; a better colour
  only once the reading clears that colour's threshold by a margin (at exactly
  threshold + margin counts as cleared). Performance thresholds: margin =
  `policy.hysteresis` in performance units (0.05 = 5 points). Explicit `warn`/`crit`
  values: margin = `hysteresis` × |target − baseline| (the same fraction of the KPI's
  progress scale), or × |warn − crit| when target == baseline.
- **Confirmation**: a new colour must be seen `confirm` readings in a row; a reading at
  any other colour restarts the count, at the current colour clears it. A reading
  already counted (same recorded-at and value) never counts twice.
- **Kinds**: nodata/green → yellow/red "fired", yellow → red "escalated", red → yellow
  "improved", → green "resolved" (once: the state is then green); nodata → green is
  silent. Only changes *to red* are critical.
- **Repeat**: a KPI that stays red is reminded once `repeat` has passed since people
  were last told about it (by a value arriving or by the sweep). Yellow is not reminded.
- **Test-mode KPIs**: everything is produced with `suppressed="test"` and nothing is
  sent; the repeat clock runs as if it had been sent, so the log shows would-be alerts
  at the would-be pace.
- **Mutes**: changes are still produced (state moves on) with `suppressed="muted"`;
  reminders are not produced while muted. A muted change does not count as told, so
  after expiry the next sweep sends one reminder for a KPI that is red and was not
  told within `repeat`, and a KPI that moved to another colour meanwhile gets one
  catch-up message from the colour people last heard (`told`) to the current one
  (`catch_up`). A recovery to the colour people last heard (the change came and
  went while muted) is logged as muted too, never sent: no "resolved" for an alert
  nobody saw.
- **Told**: `AlertState.told` is the colour of the last message actually handed to
  the chat (the caller sets it when it sends; see handlers.alert_pipeline's send-time
  re-evaluation), so a message is always phrased from what people last heard.
- **History**: a KPI with history but no state (the demo, an import, a restore, a
  store from before alerts) gets its state rebuilt by replaying its readings
  silently (`rebuild`), so it never announces a "first reading".
- **Quiet hours** (scoring.alerts_quiet): non-critical transitions (yellow, improved,
  resolved, reminders) carry `held_until`, the end of the window; people are deemed
  told at that instant.
- **Missing data / removal**: there is nothing to evaluate without a value, so the state
  is left as is (not resolved). A removed KPI's state is dropped by the caller without a
  message; the sweep skips states of unknown or removed KPIs.

Wiring (per chat: `AlertPolicy` in config; mutes, one `AlertState` per KPI, the
`Batcher` and the transition log in state):

- value recorded / imported: `evaluate(state, kpi=..., measurement=...,
  status=would_be_status(kpi, value, thresholds), performance=performance(kpi, value),
  now=clock(), policy, mutes, tz=ZoneInfo(chat timezone), thresholds)`; persist the
  state, append the transitions to the log, `batcher.add` each, persist, and schedule
  a flush at `batcher.next_due()`. A KPI definition edit re-evaluates the latest
  measurement the same way (a reading is never counted twice).
- flush job: `batcher, batch = batcher.due(now)`; persist, then send `batch`.
- sweep (every few minutes): `evaluate` each red KPI's latest reading again; persist,
  log and queue what it returns (its reminder).
- KPI removed: delete its state. Test mode switched off: delete it too, so the first
  live reading announces its colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from scoring.alert_hysteresis import Hold, hold, settle
from scoring.alert_policy import (
    AlertPolicy,
    Mute,
    active_mute,
    parse_duration,
)
from scoring.alert_records import (
    COLOURS,
    AlertState,
    Kind,
    Suppressed,
    Transition,
    transition_kind,
)
from scoring.alerts_quiet import QuietHours, quiet_release_time
from scoring.errors import ScoringError
from scoring.models import Kpi, Measurement, Status, Thresholds

__all__ = [
    "COLOURS",
    "AlertPolicy",
    "AlertState",
    "Hold",
    "Kind",
    "Mute",
    "QuietHours",
    "Suppressed",
    "Transition",
    "active_mute",
    "catch_up",
    "evaluate",
    "hold",
    "parse_duration",
    "quiet_release_time",
    "range_of",
    "rebuild",
    "settle",
    "transition_kind",
    "values_gone",
]

_DEFAULT_THRESHOLDS = Thresholds()


def evaluate(
    state: AlertState | None,
    *,
    kpi: Kpi,
    measurement: Measurement,
    status: Status,
    performance: float,
    now: datetime,
    policy: AlertPolicy,
    mutes: Sequence[Mute] = (),
    tz: tzinfo = UTC,
    thresholds: Thresholds = _DEFAULT_THRESHOLDS,
) -> tuple[AlertState, list[Transition]]:
    """Step one KPI's alert state with its latest reading (call when a value is recorded).

    `status` is the reading's colour (for a test-mode KPI: the colour it would have),
    `performance` its performance share, `thresholds` the scorecard's. Returns the state
    to persist and zero or one transition (a change or a reminder).
    """
    if now.tzinfo is None:
        raise ScoringError("time.naive_now")
    if status not in COLOURS:
        raise ScoringError("alert.not_a_colour", status=status.value)
    if measurement.kpi != kpi.key or (state is not None and state.kpi != kpi.key):
        raise ScoringError("alert.other_kpi", key=kpi.key)
    reading = {
        "value": measurement.value,
        "performance": performance,
        "by": measurement.by,
        "reading_at": measurement.at,
    }
    counted = state is not None and (state.reading_at, state.value) == (
        measurement.at,
        measurement.value,
    )
    # The reading joins the stored state in the same copy as the confirmation count below
    # (one copy, no validation: the measurement is a validated model); a first reading
    # starts a validated state.
    previous = state or AlertState(kpi=kpi.key, told=Status.NODATA, **reading)
    current = previous.status
    goal = settle(
        current,
        status,
        kpi=kpi,
        value=measurement.value,
        performance=performance,
        thresholds=thresholds,
        hysteresis=policy.hysteresis,
    )
    if goal == current:
        pending: dict[str, object] = {"pending": None, "pending_count": 0, "pending_since": None}
    elif previous.pending == goal:
        count = previous.pending_count + (0 if counted else 1)
        pending = {"pending": goal, "pending_count": count}
    else:
        pending = {"pending": goal, "pending_count": 1, "pending_since": now}
    after = previous.model_copy(update=reading | pending)
    if goal != current and after.pending_count >= policy.confirm:
        return _change(after, goal, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz)
    reminder = _reminder(after, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz)
    if reminder is None:
        reminder = catch_up(after, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz)
    return (after, []) if reminder is None else (reminder[0], [reminder[1]])


def catch_up(
    state: AlertState,
    *,
    kpi: Kpi,
    now: datetime,
    policy: AlertPolicy,
    mutes: Sequence[Mute] = (),
    tz: tzinfo = UTC,
) -> tuple[AlertState, Transition] | None:
    """The one message a KPI needs when its colour moved on while nobody was told.

    For a state whose last change was muted (`last_notified` None) and whose colour is
    not what people last heard: heard → current, once the mute is over. Red is left to
    the reminder (the sweep's `evaluate`), which says the same with its "since".
    """
    if state.last_notified is not None or state.status in (Status.RED, Status.NODATA):
        return None
    kind = transition_kind(state.heard, state.status)
    if kind is None:
        return None
    transition = _transition(
        state, kind, state.heard, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz
    )
    if transition.suppressed == "muted":
        return None
    return state.model_copy(update={"last_notified": _told_at(transition)}), transition


def rebuild(
    kpi: Kpi,
    readings: Sequence[Measurement],
    *,
    statuses: Sequence[Status],
    performances: Sequence[float],
    policy: AlertPolicy,
    thresholds: Thresholds = _DEFAULT_THRESHOLDS,
    now: datetime,
) -> AlertState | None:
    """A KPI's alert state as its history leaves it, with nothing announced (None: no history).

    Replays `readings` (oldest first, with each one's colour and performance) through
    `evaluate` at the instants they were recorded, then deems the resulting colour told
    at `now`: people saw that history in `/kpi`, so it is not news.
    """
    state: AlertState | None = None
    for reading, status, share in zip(readings, statuses, performances, strict=True):
        state, _ = evaluate(
            state,
            kpi=kpi,
            measurement=reading,
            status=status,
            performance=share,
            now=min(reading.at, now),
            policy=policy,
            thresholds=thresholds,
        )
    if state is None:
        return None
    return state.model_copy(
        update={"told": state.status, "last_notified": now, "last_reminder": None}
    )


def _change(
    state: AlertState,
    new: Status,
    *,
    kpi: Kpi,
    now: datetime,
    policy: AlertPolicy,
    mutes: Sequence[Mute],
    tz: tzinfo,
) -> tuple[AlertState, list[Transition]]:
    """Move to a confirmed colour; say so unless it is the silent nodata → green.

    A state without a colour yet starts from what people last heard (a KPI back from
    test mode), so its first colour is news only when it differs from that.
    """
    old = state.heard if state.status is Status.NODATA else state.status
    moved = state.model_copy(
        update={
            "status": new,
            "since": now,
            "pending": None,
            "pending_count": 0,
            "pending_since": None,
            "last_notified": None,
            "last_reminder": None,
        }
    )
    kind = transition_kind(old, new)
    if kind is None:  # nodata → green: nothing to say, and nothing people need to hear
        return moved.model_copy(update={"told": new}), []
    transition = _transition(moved, kind, old, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz)
    if (
        kind in ("improved", "resolved")
        and state.last_notified is None
        and new == state.heard
        and not transition.suppressed
    ):
        # back to what people last heard: the colour it recovers from came while muted
        transition = transition.model_copy(update={"suppressed": "muted"})
    return moved.model_copy(update={"last_notified": _told_at(transition)}), [transition]


def _reminder(
    state: AlertState,
    *,
    kpi: Kpi,
    now: datetime,
    policy: AlertPolicy,
    mutes: Sequence[Mute],
    tz: tzinfo,
) -> tuple[AlertState, Transition] | None:
    """The reminder for a KPI that stays red, if `repeat` has passed since people were told."""
    if state.status is not Status.RED:
        return None
    if state.last_notified is not None and now - state.last_notified < policy.repeat:
        return None
    transition = _transition(
        state, "reminder", Status.RED, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz
    )
    if transition.suppressed == "muted":
        return None  # a muted KPI is reminded after the mute, not logged every sweep
    told = state.model_copy(update={"last_notified": _told_at(transition), "last_reminder": now})
    return told, transition


def _transition(
    state: AlertState,
    kind: Kind,
    old: Status,
    *,
    kpi: Kpi,
    now: datetime,
    policy: AlertPolicy,
    mutes: Sequence[Mute],
    tz: tzinfo,
) -> Transition:
    mute = active_mute(kpi.key, mutes, now)
    suppressed: Suppressed | None = "test" if kpi.test else ("muted" if mute else None)
    critical = state.status is Status.RED and kind != "reminder"  # Transition.critical
    return Transition(
        kpi=kpi.key,
        name=kpi.name,
        objective=kpi.objective,
        unit=kpi.unit,
        target=kpi.target,
        **range_of(kpi),
        kind=kind,
        old=old,
        new=state.status,
        at=now,
        since=state.since,
        value=state.value,
        performance=state.performance,
        by=state.by,
        suppressed=suppressed,
        mute=mute if suppressed == "muted" else None,
        held_until=None if critical else quiet_release_time(now, policy.quiet, tz),
    )


def values_gone(
    state: AlertState,
    *,
    kpi: Kpi,
    by: str,
    now: datetime,
    policy: AlertPolicy,
    mutes: Sequence[Mute],
    tz: tzinfo,
) -> Transition | None:
    """Every value of the KPI was removed (`by` someone): a yellow or red alert people
    heard of is closed ("red → no data", kind resolved), muted or held like any other;
    None when people heard of nothing to close. The value is the last one they heard."""
    if state.heard not in (Status.YELLOW, Status.RED):
        return None
    gone = state.model_copy(update={"status": Status.NODATA, "since": now, "by": by})
    return _transition(
        gone, "resolved", state.heard, kpi=kpi, now=now, policy=policy, mutes=mutes, tz=tz
    )


def range_of(kpi: Kpi) -> dict[str, float | None]:
    """A range KPI's `low`/`high` for a Transition (both None for up/down KPIs)."""
    if kpi.direction == "range" and kpi.min is not None and kpi.max is not None:
        return {"low": kpi.min, "high": kpi.max}
    return {"low": None, "high": None}


def _told_at(transition: Transition) -> datetime | None:
    """When people learn of a transition (test KPIs: would have); None when muted."""
    if transition.suppressed == "muted":
        return None
    return transition.held_until or transition.at

"""Issue 7 §2 property: whatever people do, the last alert about a KPI names its colour.

Random sequences of set / back-date / mute / unmute / quiet / edit / test mode on and
off / remove / restore,
clock moves, flush timers and sweeps, with a random group window and confirm count.
After every step (each command and timer flushes what is due), for every KPI on the
scorecard: the last alert text sent names the colour its alert state holds now, unless
the KPI is muted or in test mode, or an alert for it still waits (group window, quiet hours: it is
re-evaluated when it goes out); and that colour is the one the rules give the latest
value (its colour now, or a worse one held by hysteresis / waiting for confirm=).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers import render
from handlers.contract import Reply
from handlers.jobs import sweeper
from scoring.alert_rules import active_mute, settle
from scoring.models import Status
from scoring.status import would_be_status
from tests.alerts.support import CHAT, queued
from tests.support import FakeChat, FixedClock

KPIS = {
    "a": '/kpi add a "Alpha" target=100 perspective=customers',
    "b": '/kpi add b "Beta" baseline=120 target=80 warn=100 crit=110 perspective=finance',
}
NAMES = {"Alpha": "a", "Beta": "b"}
MARKS = {mark: status for status, mark in render.STATUS_MARK.items()}
VALUES = {
    "a": [10, 45, 50, 53, 56, 78, 80, 83, 86, 120],
    "b": [70, 95, 99, 101, 103, 108, 110, 112, 130],
}

key = st.sampled_from(sorted(KPIS))
action = st.one_of(
    st.tuples(st.just("set"), key, st.integers(0, 9)),
    st.tuples(st.just("backdate"), key, st.integers(0, 9), st.integers(1, 20)),
    st.tuples(st.just("mute"), st.sampled_from(["a", "b", "all"]), st.sampled_from(["30m", "2h"])),
    st.tuples(st.just("unmute"), st.sampled_from(["a", "b", "all"])),
    st.tuples(st.just("quiet"), st.sampled_from(["off", "22:00-08:00", "10:00-11:00"])),
    st.tuples(st.just("edit"), key, st.sampled_from([0.8, 1.0, 1.3])),
    st.tuples(st.just("test"), key, st.booleans()),
    st.tuples(st.just("remove"), key),
    st.tuples(st.just("restore"), key),
    st.tuples(st.just("wait"), st.integers(1, 200)),
    st.tuples(st.just("later"), st.integers(10, 600)),
    st.tuples(st.just("flush")),
    st.tuples(st.just("sweep")),
)


def named(reply: Reply) -> list[tuple[str, Status]]:
    """(KPI key, colour) for each KPI an alert message names, in order."""
    title = reply.title or ""
    if reply.kind not in ("alert", "reminder"):
        return []
    if " KPI alerts: " in title:  # grouped: one "🔴 Name (key) …" line per KPI
        lines = [line for line in reply.text.splitlines() if line[:1] in MARKS]
        return [(line.split("(")[1].split(")")[0], MARKS[line[0]]) for line in lines]
    if title[:1] not in MARKS:
        return []  # stale-data and cadence reminders name no colour
    name = next(n for n in NAMES if title.startswith(f"{title[0]} {n} "))
    return [(NAMES[name], MARKS[title[0]])]


def check(core: Core, confirm: int, step: str) -> None:
    """The invariant, for every KPI on the scorecard."""
    store, now = core.store, core.ctx.clock()
    last: dict[str, Status] = {}
    for reply in queued(core):
        for kpi_key, status in named(reply):
            last[kpi_key] = status
    settings_ = store.alerts.settings(CHAT)
    waiting = {q.transition.kpi for q in store.alerts.batcher(CHAT).queued}
    thresholds = store.scorecards.thresholds(CHAT)
    for kpi in store.kpis.all(CHAT):
        if kpi.test:
            continue  # test mode never alerts
        stored = store.alerts.state(CHAT, kpi.key)
        latest = store.kpis.latest(CHAT, kpi.key)
        if not latest:
            continue
        assert stored is not None, f"{step}: {kpi.key} has values but no alert state"
        state = stored.state
        raw = would_be_status(kpi, latest[-1].value, thresholds)
        if confirm == 1:  # hysteresis may hold a worse colour, nothing else
            held = settle(
                state.status,
                raw,
                kpi=kpi,
                value=latest[-1].value,
                performance=state.performance,
                thresholds=thresholds,
                hysteresis=settings_.policy.hysteresis,
            )
            assert held == state.status, f"{step}: {kpi.key} alert {state.status}, now {raw}"
        if active_mute(kpi.key, settings_.mutes, now) or kpi.key in waiting:
            continue
        told = last.get(kpi.key)
        if told is None:
            assert state.status in (Status.GREEN, Status.NODATA), (
                f"{step}: {kpi.key} is {state.status.value} and nobody was told"
            )
        else:
            assert told == state.status, (
                f"{step}: last alert about {kpi.key} says {told.value}, it is {state.status.value}"
            )


async def play(steps: list[tuple[object, ...]], group: int, confirm: int) -> None:
    clock = FixedClock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    core = build_core(None, clock=clock)
    try:
        chat = FakeChat(core)
        for command in KPIS.values():
            await chat.ok(command)
        await chat.ok(f"/alerts set group={group}s" if group else "/alerts set group=0")
        await chat.ok(f"/alerts set confirm={confirm}")
        for step in steps:
            await run(chat, core, clock, step)
            check(core, confirm, repr(step))
        await advance(core, clock, timedelta(days=1))  # every window and quiet hour is over
        await sweeper.sweep(core.ctx)
        await core.store.commit()
        await advance(core, clock, timedelta(days=1))  # what the sweep held goes out too
        assert core.store.alerts.batcher(CHAT).queued == ()
        check(core, confirm, "the end")
    finally:
        core.close()


async def advance(core: Core, clock: FixedClock, span: timedelta) -> None:
    """Move the clock, running the flush timer at each wake-up it asked for on the way."""
    end = clock() + span
    while (due := core.store.alerts.batcher(CHAT).next_due()) is not None and due <= end:
        clock.now = max(due, clock())
        with core.store.atomic():
            sweeper.flush_alerts(core.ctx, CHAT)
        await core.store.commit()
        check(core, 0, "flush timer")
    clock.now = end


async def run(chat: FakeChat, core: Core, clock: FixedClock, step: tuple[object, ...]) -> None:
    match step:
        case ("set", str(k), int(i)):
            await chat.say(f"/kpi set {k} {VALUES[k][i % len(VALUES[k])]}")
        case ("backdate", str(k), int(i), int(back)):
            day = (clock().date() - timedelta(days=back)).isoformat()
            await chat.say(f"/kpi set {k} {VALUES[k][i % len(VALUES[k])]} {day}")
        case ("mute", str(k), str(duration)):
            await chat.say(f"/alerts mute {k} {duration}")
        case ("unmute", str(k)):
            await chat.say(f"/alerts unmute {k}")
        case ("quiet", str(window)):
            await chat.say(f"/alerts quiet {window}")
        case ("edit", str(k), float(scale)):
            target = 100 * scale if k == "a" else 80 * scale
            await chat.say(f"/kpi edit {k} target={target:g}")
        case ("test", str(k), bool(on)):
            await chat.say(f"/kpi edit {k} test={'yes' if on else 'no'}")
        case ("remove", str(k)):
            await chat.say(f"/kpi remove {k}")
        case ("restore", str(k)):
            await chat.say(f"/kpi restore {k}")
        case ("wait", int(seconds)):
            await advance(core, clock, timedelta(seconds=seconds))
        case ("later", int(minutes)):  # the scheduler sweeps every few minutes meanwhile
            for _ in range(minutes // 5):
                await advance(core, clock, timedelta(days=1))  # what the sweep held goes out too
                await sweeper.sweep(core.ctx)
            await core.store.commit()
        case ("flush",):
            with core.store.atomic():
                sweeper.flush_alerts(core.ctx, CHAT)
            await core.store.commit()
        case ("sweep",):
            await sweeper.sweep(core.ctx)
            await core.store.commit()
        case _:
            raise AssertionError(step)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    steps=st.lists(action, max_size=30),
    group=st.sampled_from([0, 60, 90, 300]),
    confirm=st.sampled_from([1, 1, 2]),
)
def test_the_last_alert_about_a_kpi_always_names_its_colour(
    steps: list[tuple[object, ...]], group: int, confirm: int
) -> None:
    try:
        asyncio.run(play(steps, group, confirm))
    except AssertionError as failure:  # name the example: async runs hide it
        raise AssertionError(f"{steps=} {group=} {confirm=}: {failure}") from None

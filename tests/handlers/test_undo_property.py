"""Undo is exact: after any sequence of changes, undoing the caller's change restores the
state from just before it, whatever the change was."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from storage import Store
from tests.support import FakeChat, FixedClock

KPIS = ("cac", "visits", "k1")
DAYS = st.integers(min_value=15, max_value=21).map(lambda d: f"2026-11-{d:02d}")
VALUES = st.sampled_from(["90", "95", "2bn", "0", "-5", "120.5"])

COMMANDS = st.one_of(
    st.builds(lambda k, v, d: f"/kpi set {k} {v} {d}", st.sampled_from(KPIS), VALUES, DAYS),
    st.builds(lambda k, d: f"/kpi unset {k} {d}", st.sampled_from(KPIS), DAYS),
    st.builds(lambda k, t: f"/kpi edit {k} target={t}", st.sampled_from(KPIS), VALUES),
    st.builds(lambda k: f"/kpi remove {k}", st.sampled_from(KPIS)),
    st.builds(lambda k: f"/kpi remove {k} confirm", st.sampled_from(KPIS)),
    st.builds(lambda k: f"/kpi restore {k}", st.sampled_from(KPIS)),
    st.just('/kpi add k1 "K one" target=10 perspective=customers'),
    st.builds(lambda n: f"/log articles +{n} note", st.integers(1, 3)),
    st.builds(lambda n: f"/initiative unlog articles {n}", st.integers(1, 4)),
    st.just("/initiative edit articles done=yes"),
    st.builds(lambda v: f"/okr checkin nps {v} confidence=5", VALUES),
    st.just("/okr kr remove nps"),
    st.builds(lambda w: f"/objective edit o weight={w}", st.integers(1, 3)),
    st.just("/objective link o customers-general"),
    st.just('/perspective add service "Service"'),
    st.sampled_from(["/timezone Europe/Moscow", "/timezone UTC"]),
    st.sampled_from(["/scorecard thresholds green=90 yellow=60", "/alerts mute cac 1d"]),
    st.just("/undo"),
)
STEPS = st.lists(st.tuples(st.sampled_from(["anna", "ivan"]), COMMANDS), max_size=12)


def _dump(items: list[Any]) -> list[str]:
    return sorted(item.model_dump_json() for item in items)


def snapshot(store: Store, chat: str) -> dict[str, Any]:
    """Everything people can change, order-insensitive where storage order means nothing."""
    return {
        "kpis": _dump(store.kpis.all(chat, include_removed=True)),
        "values": {k: _dump(store.kpis.history(chat, k)) for k in KPIS},
        "latest": {k: _dump(store.kpis.latest(chat, k)) for k in KPIS},
        "counts": {k: store.kpis.count(chat, k) for k in KPIS},
        "objectives": _dump(store.scorecards.objectives(chat)),
        "perspectives": [p.model_dump_json() for p in store.scorecards.perspectives(chat)],
        "links": _dump(store.scorecards.links(chat)),
        "thresholds": store.scorecards.thresholds(chat).model_dump_json(),
        "okrs": _dump(store.okrs.okrs(chat)),
        "krs": _dump(store.okrs.key_results(chat)),
        "checkins": _dump(store.okrs.check_ins(chat, "nps")),
        "initiatives": _dump(store.initiatives.all(chat)),
        "logs": _dump(store.initiatives.logs(chat, "articles")),
        "settings": store.chats.settings(chat).model_dump_json(),
        "alerts": store.alerts.settings(chat).model_dump_json(),
    }


async def _scenario(steps: list[tuple[str, str]], last: str) -> None:
    clock = FixedClock()
    core = build_core(None, clock=clock)
    try:
        chat = FakeChat(core)
        for setup in (
            '/objective add o "O" perspective=finance',
            '/kpi add cac "CAC" baseline=120 target=80 objective=o',
            '/kpi add visits "Visits" target=100 perspective=customers',
            "/kpi set cac 100 2026-11-20",
            '/okr add d "Delight"',
            '/okr kr d nps "NPS" start=30 target=50',
            '/initiative add articles "Articles" cadence=4/month',
            "/log articles +1",
        ):
            await chat.ok(setup)
        for user, text in steps:
            clock.advance(minutes=1)
            await chat.say(text, user=user)
        store, key = core.store, chat.chat.key
        newest = next(store.audit.newest(key), None)
        before = snapshot(store, key)
        clock.advance(minutes=1)
        await chat.say(last, user="anna")
        entry = next(store.audit.newest(key), None)
        assume(entry is not None and entry != newest and entry.undo_of is None)
        assert entry is not None
        confirm = (await chat.say("/undo", user="anna"))[0]
        assert [b.command for b in confirm.buttons] == [f"/undo {entry.id}"]
        await chat.ok(confirm.buttons[0].command, user="anna")
        assert snapshot(store, key) == before
    finally:
        core.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(steps=STEPS, last=COMMANDS)
def test_undo_after_any_sequence_restores_the_state_before_the_callers_change(
    steps: list[tuple[str, str]], last: str
) -> None:
    asyncio.run(_scenario(steps, last))

"""A change's id names the month of the chat's own calendar, the month `/history` shows.

In Tokyo on the morning of 1 December, changes were `2611-3` beside "2026-12-01 05:00", and
the numbering restarted at `2612-1` at 09:00 local time (midnight UTC), mid-day.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from tests.support import FakeChat, FixedClock

CAC = '/kpi add cac "CAC" baseline=120 target=80 perspective=finance'


def _heads(history: str) -> list[str]:
    return [line.split(" · /")[0] for line in history.split("\n") if line[:1].isdigit()]


async def test_ids_follow_the_local_month_and_do_not_restart_mid_day() -> None:
    clock = FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # Tokyo: 30 Nov, 19:00
    core = build_core(None, clock=clock)
    try:
        chat = FakeChat(core)
        await chat.ok("/timezone Asia/Tokyo")
        clock.advance(hours=10)  # Tokyo: 1 Dec, 05:00
        await chat.ok(CAC)
        await chat.ok("/kpi set cac 95")
        clock.advance(hours=5)  # midnight UTC: still 1 Dec in Tokyo
        await chat.ok("/kpi set cac 96")
        assert _heads(await chat.ok("/history")) == [
            "2612-3 · 2026-12-01 10:00 · @anna",
            "2612-2 · 2026-12-01 05:00 · @anna",
            "2612-1 · 2026-12-01 05:00 · @anna",
            "2611-1 · 2026-11-30 19:00 · @anna",
        ]
        assert (await chat.ok("/undo")).endswith("[Undo: /undo 2612-3]")
    finally:
        core.close()


async def test_a_zone_moved_back_across_the_month_keeps_the_newest_month() -> None:
    """Tokyo's December, then New York's November: ids stay in December, so the newest
    change is still listed (and offered by /undo) first."""
    clock = FixedClock(datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # Tokyo: 1 Dec, 05:00
    core = build_core(None, clock=clock)
    try:
        chat = FakeChat(core)
        await chat.ok("/timezone Asia/Tokyo")  # made in UTC's November
        await chat.ok(CAC)
        await chat.ok("/timezone America/New_York")
        await chat.ok("/kpi set cac 95")  # 30 Nov, 15:00 in New York
        assert _heads(await chat.ok("/history")) == [
            "2612-3 · 2026-11-30 15:00 · @anna",
            "2612-2 · 2026-11-30 15:00 · @anna",
            "2612-1 · 2026-11-30 15:00 · @anna",
            "2611-1 · 2026-11-30 15:00 · @anna",
        ]
        assert (await chat.ok("/undo")).endswith("[Undo: /undo 2612-3]")
    finally:
        core.close()


ZONES = ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago")
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("zone"), st.sampled_from(ZONES)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=8)),
        st.tuples(st.just("set"), st.integers(min_value=1, max_value=99)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.integers(min_value=6, max_value=23), steps=STEPS)
async def test_any_zones_and_hours_keep_ids_unique_and_history_newest_first(
    start: int, steps: list[tuple[str, object]]
) -> None:
    """Near a month's end (UTC 30 Nov, 06:00-23:00, while it is December further east),
    whatever zones the chat moves through."""
    clock = FixedClock(datetime(2026, 11, 30, start, 0, tzinfo=UTC))
    core = build_core(None, clock=clock)
    try:
        chat = FakeChat(core)
        made: list[str] = []
        await chat.ok(CAC)
        made.append(CAC)
        for kind, arg in steps:
            if kind == "wait":
                clock.advance(hours=float(str(arg)))
                continue
            text = f"/timezone {arg}" if kind == "zone" else f"/kpi set cac {arg}"
            before = core.store.audit.count(chat.chat.key)
            await chat.ok(text)
            if core.store.audit.count(chat.chat.key) > before:
                made.append(text)
        entries = list(core.store.audit.newest(chat.chat.key))
        assert [e.command for e in entries] == made[::-1]
        assert len({e.id for e in entries}) == len(entries)
        assert all(core.store.audit.get(chat.chat.key, e.id) == e for e in entries)
    finally:
        core.close()

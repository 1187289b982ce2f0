"""The sweep's shortcuts never change what it sends: over any sequence of values, logs,
restarts and sweeps, the bot's sweep (chats remember their next look; the first sweep
after a start preloads what sweeps read) queues exactly what a full scan of every chat
queues on a second store given the same commands."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers.jobs import sweeper
from tests.support import FakeChat, FixedClock

CHATS = ("a", "b")
SETUP = (
    '/kpi add daily "Daily sign-ups" target=100 perspective=customers every=day owner=@anna',
    '/kpi add weekly "Weekly revenue" target=50 perspective=finance every=week owner=@ivan',
    "/alerts set group=0 repeat=12h",
    '/initiative add posts "Write posts" cadence=4/week owner=@ivan',
)

_NONE = st.just("")
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("set"),
            st.sampled_from(CHATS),
            st.sampled_from(("daily", "weekly")),
            st.sampled_from((10, 60, 95)),
        ),
        st.tuples(st.just("log"), st.sampled_from(CHATS), _NONE, st.just(0)),
        st.tuples(st.just("advance"), _NONE, _NONE, st.sampled_from((1, 3, 8, 13, 30))),
        st.tuples(st.just("restart"), _NONE, _NONE, st.just(0)),
        st.tuples(st.just("sweep"), _NONE, _NONE, st.just(0)),
    ),
    max_size=14,
)


def _sent(core: Core) -> list[tuple[str, str, object]]:
    """Every queued message: its chat, its key (an alert's random part left out), its body."""
    outbox = core.store.outbox
    return [
        (chat, re.sub(r":[0-9a-f]{12}$", "", entry.key), entry.body)
        for chat in sorted(outbox.pending_chats())
        for entry in outbox.pending(chat)
    ]


async def _run(data: Path, actions: list[tuple[str, str, str, int]]) -> None:
    clock = FixedClock()
    bot, full = build_core(data, clock=clock), build_core(None, clock=clock)
    memory = sweeper.SweepMemory()
    try:
        for core in (bot, full):
            for chat in CHATS:
                for text in SETUP:
                    await FakeChat(core, chat_id=chat).ok(text)
        for action, chat, kpi, n in (*actions, ("sweep", "", "", 0)):
            if action in ("set", "log"):
                text = f"/kpi set {kpi} {n}" if action == "set" else "/log posts +1"
                for core in (bot, full):
                    await FakeChat(core, chat_id=chat).ok(text)
                memory.touch(f"console:{chat}")  # as the bot's dispatch does
            elif action == "advance":
                clock.advance(hours=n)
            elif action == "restart":
                await bot.store.commit()
                bot.close()
                bot, memory = build_core(data, clock=clock), sweeper.SweepMemory()
            else:
                await sweeper.sweep(bot.ctx, memory=memory)
                await sweeper.sweep(full.ctx)
                await bot.store.commit()
                assert _sent(bot) == _sent(full)
    finally:
        bot.close()
        full.close()


@settings(max_examples=25, deadline=None)
@given(actions=_ACTIONS)
@example(  # a red reminder due 12 h later, a restart, staleness and cadence days later
    actions=[
        ("set", "a", "daily", 10),
        ("sweep", "", "", 0),
        ("advance", "", "", 13),
        ("sweep", "", "", 0),
        ("advance", "", "", 30),
        ("restart", "", "", 0),
        ("log", "b", "", 0),
        ("advance", "", "", 30),
        ("sweep", "", "", 0),
        ("advance", "", "", 13),
    ]
)
def test_the_bots_sweep_sends_what_a_full_scan_sends(
    actions: list[tuple[str, str, str, int]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="sweep-property-") as tmp:
        asyncio.run(_run(Path(tmp) / "data", actions))

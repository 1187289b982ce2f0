"""Property (trust9): a refused message changes nothing stored.

Each refusal this session added (a stray word after a quoted name, a `%` after a text
option, a correction below zero, a coming Friday, a mute with words after its length, an
unknown number style) and the number refusals around them, with random words and numbers
filled in: the reply is one error line and every stored thing people can change is as it
was, in a chat whose dots are decimal points and in one where they group thousands.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import build_core
from storage import Store
from tests.support import FakeChat, FixedClock

CHAT = "console:team"
KPIS = ("leads", "spend")
SETUP = (
    '/kpi add leads "Leads" target=2000 perspective=customers',
    '/kpi add spend "Spend" baseline=6000 target=4000 agg=sum perspective=finance',
    '/initiative add articles "Articles" cadence=4/month',
    "/kpi set leads 1200",
    "/log articles +2",
)
word = st.text("abcxyzæøå", min_size=1, max_size=8)
refusal = st.one_of(
    st.builds(lambda w: f'/kpi add k "Name" {w} target=10 perspective=customers', word),
    st.builds(lambda w: f'/objective add o "Reach" {w} perspective=customers', word),
    st.builds(lambda n: f"/kpi edit leads name={n} %", st.integers(0, 9999)),
    st.builds(lambda n: f"/kpi edit leads unit={n} 000", st.integers(1, 999)),
    st.builds(lambda n: f"/log articles -{n}", st.integers(3, 10**6)),
    st.builds(lambda n: f"#articles −{n} typo", st.integers(3, 500)),
    st.builds(lambda n: f"/kpi set leads {n} på fredag", st.integers(1, 10**6)),
    st.builds(lambda h, w: f"/alerts mute leads {h}h 30 min {w}", st.integers(1, 9), word),
    st.builds(lambda w: f"/numbers {w}", word),
    st.builds(
        lambda a, b: f"/kpi set leads {a},{b},0", st.integers(1, 9), st.integers(1, 9)
    ),  # `9,5,0`: a grouping no one writes
    st.builds(lambda n: f"/kpi set leads {n}e3", st.integers(1, 999)),
)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything these refusals could touch."""
    return {
        "kpis": sorted(k.model_dump_json() for k in store.kpis.all(CHAT, include_removed=True)),
        "objectives": sorted(o.model_dump_json() for o in store.scorecards.objectives(CHAT)),
        "values": [m.model_dump_json() for k in KPIS for m in store.kpis.history(CHAT, k)],
        "initiatives": [i.model_dump_json() for i in store.initiatives.all(CHAT)],
        "logs": [e.model_dump_json() for e in store.initiatives.logs(CHAT, "articles")],
        "settings": store.chats.settings(CHAT).model_dump_json(),
        "alerts": store.alerts.settings(CHAT).model_dump_json(),
    }


@settings(max_examples=40, deadline=None)
@given(refusal, st.booleans())
def test_a_refusal_changes_nothing_stored(text: str, dots: bool) -> None:
    asyncio.run(_refused(text, dots))


async def _refused(text: str, dots: bool) -> None:
    core = build_core(None, clock=FixedClock())
    try:
        chat = FakeChat(core)
        for setup in (*SETUP, *(("/numbers 1.234,5",) if dots else ())):
            await chat.ok(setup)
        before = snapshot(core.store)
        await chat.error(text)
        assert snapshot(core.store) == before, text
    finally:
        core.close()

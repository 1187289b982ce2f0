"""Review of the remembered derivations (`KpiRepo.memo`: KPI views, the roll-up updated
after a `/kpi set`, the `/kpi` list, the formula maps): two bots take the same commands,
one remembering and one computing everything afresh, and must answer alike. Beyond the
memo tests' own commands: objectives added, moved between perspectives, given another
roll-up rule or removed, KPIs moved between objectives, weights, perspective weights,
a chain of formulas, imports applied, and undo of any of them."""

from __future__ import annotations

import asyncio
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.handlers.test_kpi_memo import CONFIRMATION_ID, _twins
from tests.support import FakeChat

KPIS = ("cac", "visits", "leads", "chain")
PATTERNS = (
    "/kpi set {k} {v} {d}",
    "/kpi set {k} {v}",
    "/kpi unset {k} {d}",
    "/kpi edit {k} objective={o}",
    "/kpi edit {k} weight={w}",
    "/kpi edit {k} test=yes",
    "/kpi edit {k} test=no",
    "/kpi edit {k} agg=sum",
    "/kpi edit {k} agg=last",
    "/kpi edit {k} warn=50 crit=20",
    "/kpi edit {k} warn=90 crit=110",
    '/kpi edit leads formula="cac + visits"',
    '/kpi edit chain formula="leads * 2"',
    "/kpi remove {k}",
    "/kpi restore {k}",
    '/objective add o2 "Growth" perspective=customers',
    "/objective edit {o} aggregate={a}",
    "/objective edit {o} weight={w}",
    "/objective edit {o} perspective={p}",
    "!/objective remove o2",
    "/perspective weight {p} {w}",
    "/scorecard thresholds green=90 yellow=60",
    "import {k} {v} {d}",
    "!/undo",
    "+{h}h",  # time passes (days, with the day changes)
)
COMMANDS = st.builds(
    str.format,
    st.sampled_from(PATTERNS),
    k=st.sampled_from(KPIS),
    v=st.sampled_from(["90", "0", "-5", "120.5", "1000"]),
    d=st.integers(min_value=1, max_value=21).map(lambda d: f"2026-11-{d:02d}"),
    o=st.sampled_from(["o", "o2"]),
    a=st.sampled_from(["avg", "min", "max"]),
    p=st.sampled_from(["finance", "customers", "processes"]),
    w=st.integers(min_value=0, max_value=3),
    h=st.integers(min_value=1, max_value=80),
)
READS = ("/kpi", "/scorecard", "/kpi cac", "/kpi chain explain")
SETUP = (
    '/objective add o "Margin" perspective=finance',
    '/kpi add cac "CAC" baseline=120 target=80 unit=$ objective=o',
    '/kpi add visits "Site visits" target=1000 perspective=customers',
    '/kpi add leads "Leads" target=300 agg=sum perspective=customers',
    '/kpi add chain "Chain" target=50 objective=o formula="leads + 1"',
    "/kpi set cac 100 2026-11-20",
    "/kpi set visits 400 2026-11-19",
)


async def _say(chat: FakeChat, step: str) -> list[str]:
    """The step's replies as text (`!` and imports: confirmed with the reply's first button;
    a preview may name a random id, so only what confirming says is compared)."""
    if step.startswith(("import ", "!")):  # confirmed with the reply's first button
        text = step[1:] if step.startswith("!") else "/kpi import " + step.removeprefix("import ")
        preview = await chat.say(text)
        buttons = preview[0].buttons if preview else ()
        replies = await chat.say(buttons[0].command) if buttons else preview
        return [_same_ids(r.plain()) for r in replies] if buttons else [r.kind for r in preview]
    return [_same_ids(r.plain()) for r in await chat.say(step)]


def _same_ids(text: str) -> str:
    """Random ids (an import's, quoted by undo and history; a confirmation's) blanked."""
    return re.sub(r"\b[0-9a-f]{8}\b", "<id>", CONFIRMATION_ID.sub("/kpi confirm <id>", text))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(COMMANDS, max_size=12))
@example(
    steps=[
        "/kpi edit cac objective=o2",
        '/objective add o2 "Growth" perspective=customers',
        "/kpi set cac 90",
        "/objective edit o2 perspective=finance",
        "/kpi set cac 0",
    ]
)
@example(
    steps=[
        "/kpi set visits 1000",
        "/objective edit o aggregate=min",
        "/kpi set cac 1000",
        "!/undo",
        "/kpi set cac 90",
        "import leads 5 2026-11-20",
        "/kpi set leads 1",
    ]
)
def test_remembered_derivations_answer_like_fresh_ones_whatever_is_reorganised(
    steps: list[str],
) -> None:
    asyncio.run(_twins(steps, SETUP, READS, _say))

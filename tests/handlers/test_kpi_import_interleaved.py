"""Whatever the chat does while a big import's Apply is being built (its slices let other
commands run), the end is what the same commands and the import give one after the other
in the order they were written: no shard is overwritten with a copy laid out before a
change, and each KPI's index (count, months, latest two) agrees with its values."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers import kpi_import
from tests.support import FakeChat, FixedClock

CHAT = "console:team"
KPIS = ("cac", "visits")
START = date(2026, 1, 20)
IMPORT = "/kpi import\n" + "\n".join(
    [f"cac {90 + n % 7} {START + timedelta(days=n)}" for n in range(30)]
    + [f"visits {400 + n} {START + timedelta(days=2 * n)}" for n in range(15)]
)
DAYS = [START + timedelta(days=n) for n in range(-3, 34, 3)]  # before, inside and after it
COMMANDS = st.one_of(
    st.builds(
        "/kpi set {} {} {}".format,
        st.sampled_from(KPIS),
        st.sampled_from(["7", "500"]),
        st.sampled_from(DAYS),
    ),
    st.builds("/kpi unset {} {}".format, st.sampled_from(KPIS), st.sampled_from(DAYS)),
    st.just("/undo"),
)
#: (loop turns to let the Apply run first, command)
STEPS = st.lists(st.tuples(st.integers(min_value=0, max_value=25), COMMANDS), max_size=6)
WRITTEN = "(the import's atomic step)"


async def _setup(core: Core) -> tuple[FakeChat, str]:
    chat = FakeChat(core, "team")
    await chat.ok('/kpi add cac "CAC" target=80 perspective=finance')
    await chat.ok('/kpi add visits "Visits" target=1000 perspective=customers')
    await chat.ok("/kpi set cac 100 2026-01-25")
    await chat.ok(IMPORT)
    return chat, chat.transcript[-1][1][0].buttons[0].command


def _stored(core: Core) -> dict[str, Any]:
    """Each KPI's values by day, and its index checked against them."""
    repo, found = core.store.kpis, {}
    for key in KPIS:
        values = repo.history(CHAT, key)
        days = {m.day: m.value for m in values}
        assert len(days) == len(values) == repo.count(CHAT, key), key
        assert [m.day for m in repo.latest(CHAT, key)] == sorted(days)[-2:], key
        months = {d.isoformat()[:7] for d in days}
        assert set(repo._summary(CHAT, key).months) == months, key
        found[key] = days
    return found


async def _scenario(steps: Sequence[tuple[int, str]]) -> None:
    order: list[str] = []
    record = kpi_import.record_prepared

    def marked(*args: Any) -> int:
        order.append(WRITTEN)
        return record(*args)

    racing, twin = build_core(None, clock=FixedClock()), build_core(None, clock=FixedClock())
    try:
        chat, apply = await _setup(racing)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(kpi_import, "record_prepared", marked)
            applied = asyncio.ensure_future(chat.say(apply))
            for turns, text in steps:
                for _ in range(turns):
                    await asyncio.sleep(0)
                await chat.say(text)
                order.append(text)
            await applied
        if WRITTEN not in order:  # refused (an undo took its preview back)
            order.append("(refused)")
        alone, apply = await _setup(twin)
        for text in order:
            if text == WRITTEN:
                await alone.say(apply)
            elif not text.startswith("("):
                await alone.say(text)
        assert _stored(racing) == _stored(twin), order
    finally:
        racing.close()
        twin.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_commands_run_between_an_imports_slices_end_as_if_run_before_or_after_it(
    steps: list[tuple[int, str]],
) -> None:
    kpi_import.CHUNK, chunk = 5, kpi_import.CHUNK
    try:
        asyncio.run(_scenario(steps))
    finally:
        kpi_import.CHUNK = chunk

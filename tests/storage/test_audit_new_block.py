"""An audit block is opened without looking for it in the backend (`Tables.known_absent`:
a log's block numbered past every one it held cannot be stored yet): over any sequence of
sets, undos, restarts and months, a chat stores the same tables and `/history` says the
same, byte for byte, as a chat whose every new block is looked for; a planted bug (the
full block before the new one taken for absent too) fails that."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from storage.engine import Database
from tests import support
from tests.support import FakeChat, Session, say_confirmed

SETUP = (
    '/kpi add a "Plain" target=100 perspective=finance',
    '/kpi add b "Summed" target=300 agg=sum perspective=finance',
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("sets"), st.integers(min_value=1, max_value=12)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=12)),
        st.sampled_from([("undo", 0), ("restart", 0)]),
    ),
    max_size=20,
)


def _looked_for(self: Database, names: Iterable[str]) -> None:
    """The general path: every new block is looked for when first read."""
    del self, names


@contextmanager
def _general_path() -> Iterator[None]:
    with mock.patch.object(Database, "known_absent", _looked_for):
        yield


def _session(steps: list[tuple[str, int]]) -> Session:
    with support.ids_in_order(), TemporaryDirectory() as tmp:
        return asyncio.run(_said(Path(tmp), steps))


async def _said(path: Path, steps: list[tuple[str, int]]) -> Session:
    clock = support.FixedClock()
    core = build_core(path, clock=clock)
    try:
        said: list[str] = []
        for text in SETUP:
            said.extend(await say_confirmed(FakeChat(core), text))
        for n, (what, count) in enumerate(steps):
            clock.advance(seconds=7)
            if what == "restart":
                core.close()
                core = build_core(path, clock=clock)
            elif what == "wait":
                clock.advance(days=count)
            elif what == "sets":
                for i in range(count):
                    text = f"/kpi set {'ab'[i % 2]} {n * 13 + i}"
                    said.extend(await say_confirmed(FakeChat(core), text))
            else:
                said.extend(await say_confirmed(FakeChat(core), f"/{what}"))
            said.extend(await say_confirmed(FakeChat(core), "/history"))  # after every step
        return said, support.stored_tables(core)
    finally:
        core.close()


def _same(steps: list[tuple[str, int]]) -> None:
    fast = _session(steps)
    with _general_path():
        general = _session(steps)
    support.same_session(fast, general)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_audit_entries_and_history_match_the_looked_up_blocks(
    steps: list[tuple[str, int]],
) -> None:
    _same(steps)


def test_a_new_audit_block_is_not_looked_for() -> None:
    """The entry after a month's first full block opens the second: the backend is not
    asked for it."""
    asked: list[str] = []
    real = Database._body

    def body(self: Database, name: str) -> Any:
        asked.append(name)
        return real(self, name)

    with mock.patch.object(Database, "_body", body):
        said, tables = _session([("sets", 16)])
    assert any(name.startswith("audit:") and name.endswith(":2") for name in tables)
    assert not [name for name in asked if name.startswith("audit:")]
    assert said[-1].startswith("/history -> answer:")


def _careless(self: Database, names: Iterable[str]) -> None:
    """A planted bug: the full block before each new one is taken for absent as well."""
    for name in names:
        head, _, number = name.rpartition(":")
        self._remember(f"{head}:{int(number) - 1}", None)
        self._remember(name, None)


def test_the_property_catches_a_block_taken_for_absent_that_is_stored() -> None:
    unshrunk = settings(max_examples=30, deadline=None, phases=[Phase.generate], derandomize=True)
    with mock.patch.object(Database, "known_absent", _careless), pytest.raises(AssertionError):
        unshrunk(given(STEPS)(_same))()

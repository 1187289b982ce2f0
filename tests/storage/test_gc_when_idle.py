"""Where the collector bound's full collection runs (`storage.gc_policy`): never inside a
command while the loop can wait, when the loop is idle, and inline at the hard bound.

Each test makes a collection due by hand (the account past a quarter of the live objects,
the memory confirming it) and drives the loop by awaiting, never by time: "idle" is the
loop with nothing ready and no command in flight, which the tests reach by waiting on the
collection itself.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from storage import gc_policy
from tests.support import FakeChat

LIVE = 1_000_000
DUE = 300_000  # past GROWTH (a quarter), under HARD_GROWTH (a half)
HARD = 600_000


class _Collections:
    """Every `gc.collect()` made while a test runs, and an event set at the first."""

    def __init__(self) -> None:
        self.count = 0
        self.in_flight_then: list[int] = []
        self.done = asyncio.Event()

    def collect(self, generation: int = 2) -> int:
        self.count += 1
        self.in_flight_then.append(gc_policy._in_flight)
        self.done.set()
        return 0


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Collections]:
    seen = _Collections()
    monkeypatch.setattr(gc, "collect", seen.collect)
    monkeypatch.setattr(gc_policy, "CHECK_EVERY", 1)
    monkeypatch.setattr(gc_policy, "_memory_grew", lambda by: True)
    monkeypatch.setattr(gc_policy, "_restart", _restart)
    monkeypatch.setattr(gc_policy, "_in_flight", 0)
    monkeypatch.setattr(gc_policy, "_due", False)
    monkeypatch.setattr(gc_policy, "_armed", None)
    _restart()
    yield seen
    gc_policy._live = 0  # the next look of this process starts the account afresh
    gc_policy._grown = 0


def _restart() -> None:
    """The account restarted at a fixed size of live objects."""
    gc_policy._live = LIVE
    gc_policy._grown = 0


def _grow(by: int) -> None:
    gc_policy._grown = by


async def _collected(seen: _Collections) -> None:
    """Wait (on the loop, no clock) until the collection ran; fail if it never can."""
    await asyncio.wait_for(seen.done.wait(), timeout=30)


async def test_a_due_collection_runs_after_the_reply_once_the_loop_is_idle(
    chat: FakeChat, collections: _Collections
) -> None:
    _grow(DUE)
    idle_before = gc_policy.idle_collections
    replies = await chat.say("/kpi")  # the look inside this command finds the bound passed
    assert replies
    assert collections.count == 0  # the command answered without it
    await _collected(collections)
    assert collections.count == 1
    assert collections.in_flight_then == [0]
    assert gc_policy.idle_collections == idle_before + 1
    assert gc_policy._grown < DUE  # the account restarted


async def test_no_collection_runs_while_another_command_is_in_flight(
    collections: _Collections,
) -> None:
    gc_policy.command_started()
    gc_policy.command_started()
    _grow(DUE)
    gc_policy.after_command()  # the first ends: due, but the second is still running
    for _ in range(20):
        await asyncio.sleep(0)  # the loop turns while the second command waits
    assert collections.count == 0
    gc_policy.after_command()  # the last one ends
    assert collections.count == 0  # not inside it either
    await _collected(collections)
    assert collections.in_flight_then == [0]


async def test_the_collection_waits_for_what_is_ready_on_the_loop_to_run_first(
    collections: _Collections,
) -> None:
    ran: list[int] = []

    def step(n: int) -> None:  # a chain of loop steps, each readying the next
        ran.append(n)
        if n < 50:
            asyncio.get_running_loop().call_soon(step, n + 1)

    gc_policy.command_started()
    _grow(DUE)
    asyncio.get_running_loop().call_soon(step, 0)
    gc_policy.after_command()
    await _collected(collections)
    assert ran == list(range(51))  # every ready step ran before it


async def test_a_loop_never_idle_collects_inside_a_command_once_past_the_hard_bound(
    collections: _Collections, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gc_policy, "loop_idle", lambda loop: False)
    gc_policy.command_started()
    gc_policy.command_started()  # one command always in flight: never idle
    _grow(DUE)
    gc_policy.after_command()
    for _ in range(20):
        await asyncio.sleep(0)
    assert collections.count == 0
    inline_before = gc_policy.inline_collections
    gc_policy.command_started()
    _grow(HARD)
    gc_policy.after_command()  # the hard bound: at once, inside the command it ends
    assert collections.count == 1
    assert collections.in_flight_then == [2]
    assert gc_policy.inline_collections == inline_before + 1
    assert not gc_policy._due


async def test_an_idle_signal_that_stays_busy_defers_the_collection_to_the_first_idle_step(
    collections: _Collections, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The idle signal is asked again after each busy answer, never given up on."""
    answers = iter([False] * 30)
    monkeypatch.setattr(gc_policy, "loop_idle", lambda loop: next(answers, True))
    gc_policy.command_started()
    _grow(DUE)
    gc_policy.after_command()
    await _collected(collections)
    assert next(answers, None) is None  # all 30 busy answers were used first
    assert collections.count == 1


def test_without_a_running_loop_a_due_collection_runs_at_once(collections: _Collections) -> None:
    """A script or a migration has no loop that could wait: nobody is kept waiting."""
    _grow(DUE)
    gc_policy.after_command()
    assert collections.count == 1
    assert not gc_policy._due


async def test_a_collection_queued_on_a_loop_that_closed_is_queued_again_on_the_next(
    collections: _Collections,
) -> None:
    closed = asyncio.new_event_loop()
    closed.close()
    gc_policy._armed = closed  # its queued look never ran
    gc_policy.command_started()
    _grow(DUE)
    gc_policy.after_command()
    await _collected(collections)
    assert collections.count == 1


# --- planted bug: the tests fail with the old placement ---------------------------------


async def test_the_first_test_catches_a_collection_inside_the_command(
    chat: FakeChat, collections: _Collections, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A planted bug: the look collects at once, as before this policy deferred it."""
    monkeypatch.setattr(gc_policy, "HARD_GROWTH", gc_policy.GROWTH)  # due is hard at once
    with pytest.raises(AssertionError):
        await test_a_due_collection_runs_after_the_reply_once_the_loop_is_idle(chat, collections)

"""`kpi_set._quick`, the common `/kpi set` on stored documents: over any sequence of sets,
mutes, edits, zones, clock moves, unsets and undos, a chat with it gives the same replies
and stores the same tables, byte for byte, as a chat where every set takes `_record`'s
general path; planted bugs (the replaced value said wrong, the alert state left behind,
a colour-changing set's hand-off to `_record` judged at another time) fail that."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from handlers import alert_judge, alert_pipeline, calculated, kpi_set
from storage.alert_state import AlertRepo, Spot, row_name
from tests.support import (
    FakeChat,
    FixedClock,
    Session,
    ids_in_order,
    say_confirmed,
    stored_tables,
)

SETUP = (
    '/objective add o "O" perspective=finance',
    '/kpi add a "Plain" target=100 objective=o',
    '/kpi add b "Down" baseline=120 target=80 unit=$ objective=o',
    '/kpi add c "Summed" target=300 agg=sum objective=o',
    '/kpi add d "Read" target=100 objective=o',
    '/kpi add f "Double" formula="d * 2" target=200 objective=o',
    '/kpi add e "Piloted" target=100 test=yes objective=o',
    '/okr add g "Grow"',
    '/okr kr g ka "Plain up" start=0 target=100 kpi=a',
    "/kpi set a 50",
    "/kpi set b 100",
    "/kpi set d 90",
)
KEYS = st.sampled_from(["a", "a", "a", "b", "b", "c", "d", "e"])
VALUES = st.sampled_from(["10", "45", "60", "85", "95", "100", "120", "100", "$90", "1"])
WHEN = st.sampled_from(["", "", "", " yesterday", " 2026-11-19", " 2026-11-21 a note"])
STEPS = st.lists(
    st.one_of(
        st.builds(lambda k, v, w: f"/kpi set {k} {v}{w}", KEYS, VALUES, WHEN),
        st.builds(lambda k, v, w: f"/kpi set {k} {v}{w}", KEYS, VALUES, WHEN),
        st.sampled_from(["+1m", "+1m", "+3h", "+1d"]),
        st.builds(lambda k: f"/alerts mute {k} 1h", KEYS),
        st.sampled_from(["/timezone Europe/Moscow", "/timezone America/New_York"]),
        st.builds(lambda k, t: f"/kpi edit {k} target={t}", KEYS, st.sampled_from(["50", "90"])),
        st.just("/scorecard thresholds green=90 yellow=60"),
        st.builds(lambda k: f"/kpi unset {k} 2026-11-21", KEYS),
        st.just("/undo"),
    ),
    max_size=25,
)


def _general(*args: Any) -> None:
    """`_quick` declining every set: each takes `_record`."""
    del args


@contextmanager
def _general_path() -> Iterator[None]:
    with mock.patch.object(kpi_set, "_quick", _general):
        yield


async def _chat(steps: list[str]) -> Session:
    """Every reply of the session (setup included) and every stored table after it (the
    random ids of queued alerts and parked values drawn in order, so both sessions draw
    the same)."""
    with ids_in_order():
        return await _session(steps)


async def _session(steps: list[str]) -> Session:
    clock = FixedClock()
    core = build_core(None, clock=clock)
    try:
        chat = FakeChat(core)
        said: list[str] = []
        for text in (*SETUP, *steps):
            if text.startswith("+"):
                amount, unit = int(text[1:-1]), {"m": "minutes", "h": "hours", "d": "days"}
                clock.advance(**{unit[text[-1]]: amount})
                continue
            clock.advance(seconds=7)
            said.extend(await say_confirmed(chat, text))
        return said, stored_tables(core)
    finally:
        core.close()


def _same(steps: list[str]) -> None:
    quick = asyncio.run(_chat(steps))
    with _general_path():
        general = asyncio.run(_chat(steps))
    assert quick[0] == general[0]
    assert quick[1].keys() == general[1].keys()
    for name, body in quick[1].items():
        assert body == general[1][name], name


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(STEPS)
def test_a_quick_set_replies_and_stores_what_the_general_path_does(steps: list[str]) -> None:
    _same(steps)


def test_a_far_value_question_is_asked_alike_on_both_paths() -> None:
    """The 100× question parks the value under a random id shown in its buttons: both
    sessions draw the same ids, so the question alone never tells the paths apart."""
    _same(["/kpi set a 120", "/kpi set a 1"])


def test_the_common_set_takes_the_quick_path() -> None:
    """A value for today on a plain KPI whose colour it keeps: the bench's `/kpi set`."""
    taken: list[bool] = []
    real: Callable[..., Any] = kpi_set._quick

    def counting(*args: Any) -> Any:
        found = real(*args)
        taken.append(found is not None)
        return found

    with mock.patch.object(kpi_set, "_quick", counting):
        said, _ = asyncio.run(_chat(["/kpi set a 55", "/kpi set a 55", "/kpi set a 58"]))
    assert taken[-3:] == [True, True, True]
    assert said[-3:] == [
        "/kpi set a 55 -> answer: Saved Plain = 55 (replaced 50) (🟡 yellow, progress 55%). ()",
        "/kpi set a 55 -> answer: Saved Plain = 55 (as before) (🟡 yellow, progress 55%). ()",
        "/kpi set a 58 -> answer: Saved Plain = 58 (replaced 55) (🟡 yellow, progress 58%). ()",
    ]


_UNSHRUNK = settings(max_examples=40, deadline=None, phases=[Phase.generate], derandomize=True)


def test_the_property_catches_a_quick_set_that_says_the_wrong_replaced_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the quick path says the value it replaced is the one just typed."""
    real = kpi_set._said

    def wrong(*args: Any) -> str:
        if args[4] is not None:
            args = (*args[:4], args[1], *args[5:])
        return real(*args)

    real_quick = kpi_set._quick

    def quick(*args: Any) -> Any:
        with mock.patch.object(kpi_set, "_said", wrong):
            return real_quick(*args)

    monkeypatch.setattr(kpi_set, "_quick", quick)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(STEPS)(_same))()


def test_the_property_catches_a_quick_set_that_leaves_the_alert_state_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the quick path stores the value but not the alert state it leaves."""
    real_quick = kpi_set._quick

    def quick(*args: Any) -> Any:
        ctx = args[1]
        with mock.patch.object(ctx.store.alerts, "put_quiet", lambda *a, **k: None):
            return real_quick(*args)

    monkeypatch.setattr(kpi_set, "_quick", quick)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(STEPS)(_same))()


def test_reading_instants_are_stored_alike_in_any_zone() -> None:
    """The quick path's alert state takes the reading's instant as typed in the chat's zone;
    the general path takes it back from the stored value: the same text in every zone."""
    _same(["/timezone Asia/Kolkata", "/kpi set a 55", "+1d", "/kpi set a 56", "/kpi set a 57"])


def test_the_property_catches_a_quick_set_that_leaves_its_key_result_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the quick path does not bring the key result the KPI drives along."""
    real_quick = kpi_set._quick

    def quick(*args: Any) -> Any:
        with mock.patch.object(calculated, "sync_key_results", lambda *a: None):
            return real_quick(*args)

    monkeypatch.setattr(kpi_set, "_quick", quick)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(STEPS)(_same))()


def test_a_colour_changing_set_asks_quiet_step_once() -> None:
    """A set that moves the colour: `_quick` asks `quiet_share` (`quiet_step`'s decision
    on the value), is declined, and hands what it read and decided to `_record`, whose
    alert step does not ask again."""
    asked: list[tuple[str, float]] = []
    step, judged = alert_judge.quiet_step, alert_judge.quiet_share

    def counting(real: Callable[..., Any]) -> Callable[..., Any]:
        def asking(*args: Any) -> Any:
            value = args[2] if isinstance(args[2], float) else args[2].value  # a reading's
            asked.append((args[1].key, value))
            return real(*args)

        return asking

    with (
        mock.patch.object(kpi_set, "quiet_share", counting(judged)),
        mock.patch.object(alert_pipeline, "quiet_step", counting(step)),
    ):
        said, _ = asyncio.run(_chat(["/kpi set a 55", "/kpi set a 98"]))
    assert asked.count(("a", 55)) == 1  # the yellow kept: the quick path's step
    assert asked.count(("a", 98)) == 1  # the move to green: asked once, not twice
    assert said[-1].startswith("/kpi set a 98 -> answer: Saved Plain = 98 (replaced 55)")


def test_the_property_catches_a_hand_off_that_judges_at_another_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: `_quick` hands `_record` a `now` a day off the one it judged at."""
    real_quick = kpi_set._quick

    def quick(*args: Any) -> Any:
        found = real_quick(*args)
        if isinstance(found, alert_pipeline.Declined):
            return replace(found, now=found.now + timedelta(days=1))
        return found

    monkeypatch.setattr(kpi_set, "_quick", quick)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(STEPS)(_same))()


def test_the_property_catches_a_red_row_written_without_its_test_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: `put_quiet` stores a red KPI's row with its state alone (no `test`),
    as a state's place is found (`Spot`) and written (`put_quiet`) apart from the book."""
    real = AlertRepo.put_quiet

    def put(self: AlertRepo, chat: str, kpi: str, spot: Spot, state: dict[str, Any]) -> None:
        if spot.book is None or not spot.book.get("rows"):
            real(self, chat, kpi, spot, state)
        else:
            self._db.put_single(row_name(chat, kpi), {"state": state})

    monkeypatch.setattr(AlertRepo, "put_quiet", put)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(STEPS)(_same))()

"""A `/kpi set` that changes a colour steps its alert state and queues its alert on the
stored documents (`alert_judge.change_step`, `alert_pipeline._queue_on_docs`,
`alerts_batch.add_doc`): over any sequence of colour changes on several KPIs (calculated
and test ones among them), clock moves, group windows, confirm counts, quiet hours, mutes,
flushes, unsets, undos and restarts, a chat with them gives the same replies, queues the
same messages and stores the same tables, byte for byte, as a chat where every change is
stepped and queued on models (`step`, `Batcher.add`, `flush_due`); and `add_doc` is `add`
on documents over any sequence. Planted bugs (a merged change keeping its own `old`, an
instant spelled `+00:00`, a change that forgets quiet hours) fail them."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import orjson
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from handlers import alert_judge, alert_pipeline
from handlers.jobs import sweeper
from scoring import alerts_batch
from scoring.alert_rules import Transition
from scoring.alerts_batch import Batcher, add_doc
from scoring.models import Status
from storage.base import to_doc
from tests.support import (
    FakeChat,
    FixedClock,
    Session,
    ids_in_order,
    same_session,
    say_confirmed,
    stored_tables,
)

SETUP = (
    '/kpi add a "Plain" target=100 perspective=finance',
    '/kpi add b "Down" baseline=120 target=80 unit=$ perspective=customers',
    '/kpi add c "Summed" target=300 agg=sum perspective=finance',
    '/kpi add e "Piloted" target=100 test=yes perspective=finance',
    '/kpi add spend "Spend" baseline=6000 target=4000 agg=sum test=yes perspective=finance',
    '/kpi add newc "New customers" target=60 agg=sum test=yes perspective=customers',
    '/kpi add cac "CAC" formula="spend / newc" baseline=150 target=50 perspective=finance',
    "/kpi set a 50",
    "/kpi set b 100",
)
KEYS = st.sampled_from(["a", "a", "b", "b", "c", "e"])
VALUES = st.sampled_from(["10", "45", "60", "85", "95", "100", "130", "$90"])
WHEN = st.sampled_from(["", "", "", " yesterday"])
_SET = st.builds(lambda k, v, w: f"/kpi set {k} {v}{w}", KEYS, VALUES, WHEN)
STEPS = st.lists(
    st.one_of(
        _SET,
        _SET,
        _SET,
        st.builds(lambda v: f"/kpi set spend {v}", st.sampled_from(["3000", "9000"])),
        st.builds(lambda v: f"/kpi set newc {v}", st.sampled_from(["20", "90"])),
        st.sampled_from(["+20s", "+1m", "+2m", "+20m", "+3h", "+1d"]),
        st.just("flush"),
        st.just("restart"),
        st.builds(lambda k: f"/alerts mute {k} 1h", KEYS),
        st.sampled_from(["/alerts unmute all", "/alerts quiet 22:00-08:00", "/alerts quiet off"]),
        st.sampled_from(["/alerts set group=0", "/alerts set group=5m", "/alerts set confirm=2"]),
        st.sampled_from(["/timezone Asia/Tokyo", "/timezone America/New_York"]),
        st.builds(lambda k: f"/kpi unset {k} 2026-11-21", KEYS),
        st.just("/undo"),
    ),
    max_size=25,
)


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


async def _chat(steps: list[str]) -> Session:
    """Every reply and queued message of the session (setup included) and every stored table
    after it (random ids drawn in order, so both sessions draw the same)."""
    with ids_in_order(), tempfile.TemporaryDirectory(prefix="colour-docs-") as tmp:
        return await _session(Path(tmp) / "data", steps)


async def _session(data: Path, steps: list[str]) -> Session:
    clock = FixedClock(datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    core = build_core(data, clock=clock)
    try:
        said: list[str] = []
        for text in (*SETUP, *steps):
            if text.startswith("+"):
                clock.advance(**{_UNITS[text[-1]]: int(text[1:-1])})
                continue
            if text == "restart":
                await core.store.commit()
                core.close()
                core = build_core(data, clock=clock)
                continue
            clock.advance(seconds=3)
            if text == "flush":
                with core.store.atomic():
                    sweeper.flush_alerts(core.ctx, "console:team")
                continue
            said.extend(await say_confirmed(FakeChat(core), text))
        await core.store.commit()
        said.extend(
            f"{e.key}: {orjson.dumps(e.body).decode()}"
            for e in core.store.outbox.pending("console:team")
        )
        return said, stored_tables(core)
    finally:
        core.close()


def _same(steps: list[str]) -> None:
    on_docs = asyncio.run(_chat(steps))
    with (  # on models
        mock.patch.object(alert_pipeline, "change_step", lambda *args: None),
        mock.patch.object(alert_pipeline, "_queue_on_docs", lambda *args: False),
    ):
        same_session(on_docs, asyncio.run(_chat(steps)))


#: Two KPIs change colour inside one group window, one changes back (merged away), the
#: window ends and the timer flushes: one message, the merged one left out.
_GROUPED = ["/kpi set a 10", "+20s", "/kpi set b 130", "/kpi set a 95", "/kpi set a 10", "+2m",
            "flush"]  # fmt: skip


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
@example(_GROUPED)
@example(["/alerts quiet 22:00-08:00", "+12h", "/kpi set a 95", "/kpi set b 130", "restart",
          "/kpi set a 10", "+1d", "flush"])  # fmt: skip
@example(["/kpi set spend 9000", "/kpi set a 10", "+1m", "/kpi set newc 20", "/kpi set a 95",
          "+20m", "flush"])  # fmt: skip
def test_a_colour_change_queued_on_documents_is_what_the_model_path_queues(
    steps: list[str],
) -> None:
    _same(steps)


def test_a_colour_change_takes_the_document_path() -> None:
    """The bench's colour change: a told colour moves on, a group window open, nothing due
    yet."""
    taken: list[bool] = []
    real = alert_pipeline._queue_on_docs

    def counting(*args: Any) -> bool:
        found = real(*args)
        taken.append(found)
        return found

    stepped: list[bool] = []
    real_step = alert_judge.change_step

    def stepping(*args: Any) -> Any:
        found = real_step(*args)
        stepped.append(found is not None)
        return found

    with (
        mock.patch.object(alert_pipeline, "_queue_on_docs", counting),
        mock.patch.object(alert_pipeline, "change_step", stepping),
    ):
        asyncio.run(_chat(["/kpi set a 10", "/kpi set b 130", "/kpi set a 95"]))
    assert (taken[-3:], stepped[-3:]) == ([True] * 3, [True] * 3)


_UNSHRUNK = settings(max_examples=40, deadline=None, phases=[Phase.generate], derandomize=True)


def test_the_property_catches_a_merge_that_keeps_the_newer_old_colour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a change merged into one still waiting says its own `old` colour
    (red → yellow → red would then say yellow → red, not nothing)."""
    real = alerts_batch._merge_doc

    def wrong(first: Any, then: Any) -> Any:
        return real(then, then) if then["kind"] != "reminder" else real(first, then)

    monkeypatch.setattr(alerts_batch, "_merge_doc", wrong)
    with pytest.raises(AssertionError):
        _same(_GROUPED)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(STEPS)(_same))()


# add_doc against Batcher.add, pure ------------------------------------------------------

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5))])
_STATUS = st.sampled_from([Status.NODATA, Status.GREEN, Status.YELLOW, Status.RED])
_AT = st.builds(
    lambda s, z: (NOW + timedelta(seconds=s)).astimezone(z), st.integers(-600, 3600), _ZONES
)
_TRANSITIONS = st.builds(
    Transition,
    kpi=st.sampled_from(["a", "b", "c"]),
    name=st.just("N"),
    objective=st.just("o"),
    target=st.just(100.0),
    kind=st.sampled_from(["fired", "escalated", "improved", "resolved", "reminder"]),
    old=_STATUS,
    new=_STATUS,
    at=st.just(NOW),
    since=st.none() | _AT,
    value=st.floats(0, 200),
    performance=st.floats(0, 1),
    suppressed=st.sampled_from([None, None, None, "test", "muted"]),
    held_until=st.none() | st.none() | _AT,
)
_ADDS = st.lists(
    st.tuples(
        _TRANSITIONS,
        st.integers(0, 300),  # seconds on from the previous add
        st.sampled_from([timedelta(0), timedelta(seconds=60), timedelta(minutes=5)]),
        st.none() | st.integers(-60, 900),  # not_before, seconds after now
    ),
    max_size=12,
)


def _adds_agree(adds: list[tuple[Transition, int, timedelta, int | None]]) -> None:
    batcher, docs = Batcher(), list[Any]()
    now = NOW
    for transition, step, window, wait in adds:
        now += timedelta(seconds=step)
        not_before = None if wait is None else now + timedelta(seconds=wait)
        batcher = batcher.add(transition, now=now, window=window, not_before=not_before)
        docs = add_doc(docs, to_doc(transition), now=now, window=window, not_before=not_before)
        assert orjson.dumps(docs) == orjson.dumps(to_doc(batcher)["queued"])
        docs = orjson.loads(orjson.dumps(docs))  # as stored and read back


@settings(max_examples=100, deadline=None)
@given(_ADDS)
def test_add_doc_is_batcher_add_on_documents(
    adds: list[tuple[Transition, int, timedelta, int | None]],
) -> None:
    _adds_agree(adds)


def test_the_add_property_catches_an_instant_spelled_another_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a new group's instant written `+00:00`, where pydantic writes `Z`
    (the same instant, but not the same stored book)."""
    spelled = SimpleNamespace(dump_python=lambda at, mode: at.isoformat())
    monkeypatch.setattr(alerts_batch, "_INSTANT", spelled)
    unshrunk = settings(max_examples=100, deadline=None, phases=[Phase.generate], derandomize=True)
    with pytest.raises(AssertionError):
        unshrunk(given(_ADDS)(_adds_agree))()


def test_the_property_catches_a_change_that_forgets_quiet_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a colour change on documents in quiet hours is not held."""
    monkeypatch.setattr(alert_judge, "quiet_release_time", lambda *args: None)
    with pytest.raises(AssertionError):
        _same(["/alerts quiet 08:00-20:00", "/kpi set a 95", "+2m", "flush"])

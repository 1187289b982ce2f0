"""The sweep's shortcuts never change what it sends: over any sequence of values, logs,
edits, removes and restores, unsets, imports, undo, restarts and sweeps, the bot's sweep
(chats remember their next look; the first sweep after a start preloads what sweeps
read; KPI and initiative facts, and red KPIs' definitions, come from each chat's stored
sweep summary) queues
exactly what a full scan of every chat, reading those facts from the source tables,
queues on a second store given the same commands; and every stored summary equals one
built afresh. A write path that left a summary behind is caught. The second store also
writes each change of a chat's alert book at once (no `AlertRepo.batch`) and its sweep
judges red reminders on models only (never `_remind_on_docs`): both end with the same
waiting alerts and sent marks, byte for byte as stored (a part absent in one is absent
in the other: `group=0` sends a reminder at once), the same red states byte for byte as
they stand (a row may hold one in a store, the book in the other), and the same log."""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers import alert_pipeline
from handlers.jobs import sweeper
from scoring.alerts_batch import Batcher
from storage import alert_state, sweep_summary
from storage.base import first_doc, to_doc
from tests.support import FakeChat, FixedClock

CHATS = ("a", "b")
SETUP = (
    '/kpi add daily "Daily sign-ups" target=100 perspective=customers every=day owner=@anna',
    '/kpi add weekly "Weekly revenue" target=50 perspective=finance every=week owner=@ivan',
    "/alerts set group=0 repeat=12h",
    '/initiative add posts "Write posts" cadence=4/week owner=@ivan',
)

_NONE = st.just("")
_KPIS = st.sampled_from(("daily", "weekly"))
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("set"),
            st.sampled_from(CHATS),
            _KPIS,
            st.sampled_from((10, 60, 95)),
        ),
        st.tuples(
            st.sampled_from(("edit", "remove", "restore", "unset", "import", "undo")),
            st.sampled_from(CHATS),
            _KPIS,
            st.sampled_from((1, 4, 12)),
        ),
        st.tuples(st.just("log"), st.sampled_from(CHATS), _NONE, st.just(0)),
        st.tuples(st.just("advance"), _NONE, _NONE, st.sampled_from((1, 3, 8, 13, 30, 100))),
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


def _command(action: str, kpi: str, n: int, now: datetime) -> str:
    """The chat command an action stands for (`n`: a value, or days back, or an owner)."""
    day = (now.date() - timedelta(days=n)).isoformat()
    return {
        "set": f"/kpi set {kpi} {n}",
        "log": "/log posts +1",
        "edit": f"/kpi edit {kpi} owner=@owner{n}",
        "remove": f"/kpi remove {kpi}",
        "restore": f"/kpi restore {kpi}",
        "unset": f"/kpi unset {kpi} {now.date().isoformat()}",
        "import": f"/kpi import\n{kpi} {n * 7} {day}",
        "undo": "/undo",
    }[action]


async def _say(core: Core, chat: str, text: str) -> None:
    """Say `text` in the chat; an import's preview and an undo's question are confirmed."""
    replies = await FakeChat(core, chat_id=chat).say(text)
    if text.startswith(("/kpi import", "/undo")) and replies and replies[0].buttons:
        await FakeChat(core, chat_id=chat).say(replies[0].buttons[0].command)


def _from_sources(core: Core) -> None:
    """Make `core`'s sweep read KPI and initiative facts, and red KPIs' definitions, from
    the source tables (the full computation the summaries stand in for), never from a
    stored summary."""
    repo = core.store.sweeps

    def fresh(chat: str, now: datetime) -> sweep_summary.SweepSummary:
        return sweep_summary.parse(repo.build(chat, now))

    repo.get = fresh  # type: ignore[method-assign]
    repo.stored = lambda chat: None  # type: ignore[method-assign]
    core.store.alerts.batch = _unheld  # type: ignore[method-assign]


def _unheld(*, rows: bool = False) -> contextlib.nullcontext[None]:
    """`AlertRepo.batch` holding nothing: each change written as it is made."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def _on_models() -> Iterator[None]:
    """Red reminders judged on models only (`remind_red`'s document path never taken)."""
    on_docs = alert_pipeline._remind_on_docs
    alert_pipeline._remind_on_docs = lambda *args: None
    try:
        yield
    finally:
        alert_pipeline._remind_on_docs = on_docs


def _layout_holds(core: Core) -> None:
    """Each KPI's alert state is in one place: a red one in its chat's book (where the
    sweep reads the red ones), any other in its bucket."""
    db = core.store.db
    for chat in (f"console:{c}" for c in CHATS):
        stored = first_doc(db, f"{alert_state.BOOK}{chat}") or {}
        # as reads see it: the book with its changes applied (a colour change writes one)
        applied, _ = alert_state.check_changes(stored, db.docs(alert_state.change_name(chat)))
        assert isinstance(applied, Mapping)
        book = applied.get("states") or {}
        assert all(d["state"]["status"] == "red" for d in book.values()), f"book of {chat}"
        kept = [
            d for n in db.table_names(f"{alert_state.BUCKET}{chat}:") for d in db.docs(n).values()
        ]
        assert all(d["state"]["status"] != "red" for d in kept), f"red in a bucket of {chat}"
        keys = [d["key"] for d in kept]
        assert len(set(keys)) == len(keys) and not set(keys) & set(book), f"twice in {chat}"


def _alerts_agree(bot: Core, full: Core) -> None:
    """Both stores hold the same alert books (states, waiting alerts, sent marks, log)."""
    for chat in (f"console:{c}" for c in CHATS):
        name = f"{alert_state.BOOK}{chat}"
        books = [dict(first_doc(core.store.db, name) or {}) for core in (bot, full)]
        for part in ("queued", "sent"):  # as stored, byte for byte (or absent)
            one_part, other_part = (orjson.dumps(book.get(part, "absent")) for book in books)
            assert one_part == other_part, f"{part} of {chat}'s book"
        one, other = bot.store.alerts, full.store.alerts
        # as they stand, byte for byte: in the book or its rows, as each store wrote them
        red = [orjson.dumps(repo.red_docs(chat)) for repo in (one, other)]
        assert red[0] == red[1], f"red states of {chat}"
        assert one.states(chat) == other.states(chat), f"states of {chat}"
        assert one.batcher(chat) == other.batcher(chat), f"waiting alerts of {chat}"
        assert one.sent_marks(chat) == other.sent_marks(chat), f"sent marks of {chat}"
        assert one.recent_log(chat, 1000) == other.recent_log(chat, 1000), f"log of {chat}"


def _summaries_hold(core: Core, now: datetime) -> None:
    for chat in CHATS:
        assert core.store.sweeps.check(f"console:{chat}", now), f"stale summary of {chat}"


async def _run(data: Path, actions: list[tuple[str, str, str, int]]) -> None:
    clock = FixedClock()
    bot, full = build_core(data, clock=clock), build_core(None, clock=clock)
    _from_sources(full)
    memory = sweeper.SweepMemory()
    try:
        for core in (bot, full):
            for chat in CHATS:
                for text in SETUP:
                    await FakeChat(core, chat_id=chat).ok(text)
        for action, chat, kpi, n in (*actions, ("sweep", "", "", 0)):
            if chat:
                text = _command(action, kpi, n, clock.now)
                for core in (bot, full):
                    await _say(core, chat, text)
                memory.touch(f"console:{chat}")  # as the bot's dispatch does
            elif action == "advance":
                clock.advance(hours=n)
            elif action == "restart":
                await bot.store.commit()
                bot.close()
                bot, memory = build_core(data, clock=clock), sweeper.SweepMemory()
            else:
                await sweeper.sweep(bot.ctx, memory=memory)
                with _on_models():
                    await sweeper.sweep(full.ctx)
                await bot.store.commit()
                assert _sent(bot) == _sent(full)
                _alerts_agree(bot, full)
                _layout_holds(bot)
                _layout_holds(full)
                _summaries_hold(bot, clock.now)
    finally:
        bot.close()
        full.close()


@settings(max_examples=25, deadline=None)
@given(actions=_ACTIONS)
@example(  # a colour change's row over a book that still lists the KPI red (review15)
    actions=[
        ("set", "a", "weekly", 10),
        ("sweep", "", "", 0),
        ("set", "a", "daily", 10),
        ("set", "a", "daily", 60),
    ]
)
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
@example(  # staleness through the summary: a value, an import, a restart, an edit, an undo
    actions=[
        ("set", "a", "daily", 60),
        ("advance", "", "", 50),
        ("sweep", "", "", 0),
        ("import", "a", "daily", 0),
        ("restart", "", "", 0),
        ("advance", "", "", 50),
        ("edit", "b", "weekly", 4),
        ("sweep", "", "", 0),
        ("undo", "a", "daily", 0),
        ("advance", "", "", 1),
    ]
)
def test_the_bots_sweep_sends_what_a_full_scan_sends(
    actions: list[tuple[str, str, str, int]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="sweep-property-") as tmp:
        asyncio.run(_run(Path(tmp) / "data", actions))


#: A weekly value, a sweep (the summary is stored), a newer value eight days later, and a
#: sweep the next afternoon: the first value is stale by then, the newer one is not.
_NEWER_VALUE = [
    ("set", "a", "weekly", 60),
    ("sweep", "", "", 0),
    ("advance", "", "", 192),
    ("set", "a", "weekly", 60),
    ("advance", "", "", 30),
    ("sweep", "", "", 0),
]


def test_a_summary_left_behind_by_a_write_path_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: a change to a KPI's index (a new latest value) does not drop the
    chat's summary, so the sweep would call a fresh KPI stale."""
    asyncio.run(_run(tmp_path / "right", _NEWER_VALUE))
    kinds = tuple(k for k in sweep_summary.SOURCES if k != "mix:")
    monkeypatch.setattr(sweep_summary, "SOURCES", kinds)
    with pytest.raises(AssertionError):
        asyncio.run(_run(tmp_path / "planted", _NEWER_VALUE))


#: Two red KPIs, reminded together by one sweep 13 hours later, and a sweep after that.
_REMINDED = [
    ("set", "a", "daily", 10),
    ("set", "a", "weekly", 10),
    ("sweep", "", "", 0),
    ("advance", "", "", 13),
    ("sweep", "", "", 0),
    ("advance", "", "", 13),
    ("sweep", "", "", 0),
]


def test_a_batch_that_reads_past_its_own_changes_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: inside `AlertRepo.batch()` reads see the stored book, not the
    changes held so far, so a second change in one step builds on a stale book."""
    asyncio.run(_run(tmp_path / "right", _REMINDED))

    def stored(self: alert_state.AlertRepo, chat: str) -> object:
        return first_doc(self._db, f"{alert_state.BOOK}{chat}") or {}

    monkeypatch.setattr(alert_state.AlertRepo, "_book", stored)
    with pytest.raises(AssertionError):
        asyncio.run(_run(tmp_path / "planted", _REMINDED))


def test_a_state_left_behind_in_its_bucket_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: a state turning red is put in the book but not taken out of its
    bucket, so the KPI has two states and the stale one comes back when it leaves red."""
    turns_red = [("set", "a", "daily", 95), ("sweep", "", "", 0), ("set", "a", "daily", 10)]
    asyncio.run(_run(tmp_path / "right", turns_red))
    monkeypatch.setattr(alert_state.AlertRepo, "_drop_from_bucket", lambda *args: None)
    with pytest.raises(AssertionError):
        asyncio.run(_run(tmp_path / "planted", turns_red))


def test_a_reminder_on_documents_that_forgets_when_people_were_told_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: the sweep's document path stores the reminder without its
    `last_reminder`, so its state differs from the model path's."""
    asyncio.run(_run(tmp_path / "right", _REMINDED))
    on_docs = alert_pipeline.reminder_step

    def forgetful(*args: object) -> object:
        answer = on_docs(*args)  # type: ignore[arg-type]
        return None if answer is None else ({**answer[0], "last_reminder": None}, answer[1])

    monkeypatch.setattr(alert_pipeline, "reminder_step", forgetful)
    with pytest.raises(AssertionError, match="states of"):
        asyncio.run(_run(tmp_path / "planted", _REMINDED))


def test_a_waiting_list_left_empty_in_the_book_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug (review8's find): with `group=0` the reminder queued as a document
    and sent at once leaves `"queued": []` in the book, where the model path, which never
    queued it, leaves no such part."""
    asyncio.run(_run(tmp_path / "right", _REMINDED))

    def leaves_empty(self: alert_state.AlertRepo, chat: str, batcher: Batcher) -> None:
        queued = to_doc(batcher)["queued"] if batcher.queued else []
        if (self._book(chat).get("queued") or []) != queued:
            self._update(chat, queued=queued)

    monkeypatch.setattr(alert_state.AlertRepo, "save_batcher", leaves_empty)
    with pytest.raises(AssertionError, match="queued of"):
        asyncio.run(_run(tmp_path / "planted", _REMINDED))


#: A red KPI, a sweep, the KPI removed and its chat's summary built again by the next
#: sweep, and a sweep 13 hours later, when a live KPI's reminder would be due.
_REMOVED = [
    ("set", "a", "daily", 10),
    ("sweep", "", "", 0),
    ("remove", "a", "daily", 0),
    ("sweep", "", "", 0),
    ("advance", "", "", 13),
    ("sweep", "", "", 0),
]


def test_a_definition_the_summary_keeps_wrong_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: the summary keeps a KPI's definition without when it was removed,
    so the bot's sweep reminds people of a removed KPI (a full scan reads the table)."""
    asyncio.run(_run(tmp_path / "right", _REMOVED))
    compact = sweep_summary.compact

    def forgetful(doc: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in compact(doc).items() if k != "removed_at"}

    monkeypatch.setattr(sweep_summary, "compact", forgetful)
    with pytest.raises(AssertionError, match="console:a"):
        asyncio.run(_run(tmp_path / "planted", _REMOVED))

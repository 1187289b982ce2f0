"""A red KPI's state changed alone is written as a row over its chat's alert book
(`storage.alert_state`, `ared:<chat>:<kpi>`), and what a colour change changed of the
book as a change over it (`abch:<chat>`). Over any sequence of values (red again and
again, colour changes), group windows, sweeps and their reminders, flushes, mutes, undo,
`/alerts`, `/alerts log` and restarts, the bot says and keeps what a bot whose every
change goes into the book (rows never taken: the model) says and keeps: the same replies,
the same red states as the repository reads them (byte for byte as documents, and
parsed), waiting alerts, sent marks and log, and the same messages queued by the sweeps
and flushes. And its layout holds after every step: changes only where the book says
rows may exist, numbered from 1, at most CHANGE_ROWS; a red state row only there too,
for a KPI red in the book with its changes applied, holding a red state; a step that
wrote the book left none of the rows it found. Planted bugs (a book write that folds the
book's copies of the states, not the rows; a change's waiting alerts gone not
applied) are caught."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers.jobs import sweeper
from scoring.models import Status
from storage import alert_state
from storage.alert_state import AlertRepo
from storage.base import first_doc
from tests.support import FakeChat, FixedClock

CHAT = "console:a"
SETUP = (
    '/kpi add daily "Daily sign-ups" target=100 perspective=customers every=day owner=@anna',
    '/kpi add weekly "Weekly revenue" target=50 perspective=finance every=week owner=@ivan',
    "/alerts set group=0 repeat=12h",
)
_KPIS = st.sampled_from(("daily", "weekly"))
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), _KPIS, st.sampled_from((5, 10, 20, 30, 60, 95, 120))),
        st.tuples(st.sampled_from(("mute", "unmute")), _KPIS, st.just(0)),
        st.tuples(st.sampled_from(("undo", "alerts", "log")), st.just(""), st.just(0)),
        st.tuples(st.just("advance"), st.just(""), st.sampled_from((1, 3, 13, 30))),
        st.tuples(st.just("minutes"), st.just(""), st.sampled_from((5, 20))),
        st.tuples(st.just("group"), st.just(""), st.sampled_from((0, 15))),
        st.tuples(st.sampled_from(("restart", "sweep", "flush")), st.just(""), st.just(0)),
    ),
    max_size=20,
)
#: Red again and again (a row each after the first), then a colour change of the other
#: KPI: a change row over the book.
_ROWS_THEN_A_CHANGE = [
    ("set", "weekly", 10),
    ("set", "daily", 10),
    ("set", "daily", 20),
    ("set", "daily", 30),
    ("restart", "", 0),
    ("set", "daily", 5),
    ("set", "weekly", 95),
    ("alerts", "", 0),
]
#: Red again and again (rows over a change row), then the sweep's reminder of the other
#: KPI alone: the book is written whole, so the rows fold into it.
_ROWS_THEN_A_REMINDER = [
    ("set", "weekly", 10),
    ("advance", "", 3),
    ("set", "daily", 10),
    ("set", "daily", 20),
    ("set", "daily", 30),
    ("restart", "", 0),
    ("advance", "", 10),
    ("sweep", "", 0),
    ("alerts", "", 0),
]
#: Colour changes inside a group window: change rows (waiting alerts merged away among
#: them), then a flush and a sweep that write the book whole.
_CHANGES_IN_A_WINDOW = [
    ("group", "", 15),
    ("set", "daily", 10),
    ("set", "weekly", 10),
    ("set", "daily", 95),
    ("set", "weekly", 60),
    ("set", "daily", 10),
    ("restart", "", 0),
    ("set", "weekly", 120),
    ("set", "daily", 20),
    ("alerts", "", 0),
    ("minutes", "", 20),
    ("flush", "", 0),
    ("set", "daily", 95),
    ("advance", "", 13),
    ("sweep", "", 0),
]


def _command(action: str, kpi: str, n: int) -> str:
    return {
        "set": f"/kpi set {kpi} {n}",
        "mute": f"/alerts mute {kpi} 2h",
        "unmute": f"/alerts unmute {kpi}",
        "undo": "/undo",
        "alerts": "/alerts",
        "log": "/alerts log",
        "group": f"/alerts set group={n}m",
    }[action]


def _rows_never(core: Core) -> Core:
    """The model: every change written in the book (a row is never taken)."""
    core.store.alerts._as_row = lambda *args: False  # type: ignore[method-assign]
    core.store.alerts._put_change = lambda *args: False  # type: ignore[method-assign]
    return core


async def _say(core: Core, text: str) -> list[str]:
    """Say `text` (an undo's question confirmed): the replies' texts, tokens masked."""
    chat = FakeChat(core, chat_id="a")
    replies = await chat.say(text)
    if text == "/undo" and replies and replies[0].buttons:
        replies += await chat.say(replies[0].buttons[0].command)
    return [re.sub(r"[0-9a-f]{8,}", "#", reply.plain()) for reply in replies]


def _sent(core: Core) -> list[tuple[str, object]]:
    outbox = core.store.outbox
    return [(re.sub(r":[0-9a-f]{12}$", "", e.key), e.body) for e in outbox.pending(CHAT)]


def _read(repo: AlertRepo) -> tuple[Any, ...]:
    """What the repository reads of the chat's alerts."""
    return (
        orjson.dumps(repo.red_docs(CHAT)),
        repo.states(CHAT),
        repo.states(CHAT, status=Status.RED),
        repo.batcher(CHAT),
        repo.sent_marks(CHAT),
        repo.recent_log(CHAT, 1000),
    )


def _tables(core: Core) -> tuple[bytes, dict[str, bytes]]:
    """The chat's book and rows, red state and change rows, as stored (their bodies)."""
    db = core.store.db
    book = orjson.dumps(first_doc(db, f"{alert_state.BOOK}{CHAT}"))
    rows = sorted(db.table_names(alert_state.row_name(CHAT)) | {alert_state.change_name(CHAT)})
    return book, {name: orjson.dumps(db.docs(name)) for name in rows}


def _layout_holds(core: Core, before: tuple[bytes, dict[str, bytes]]) -> None:
    book_before, rows_before = before
    book_body, rows = _tables(core)
    changes = orjson.loads(rows[alert_state.change_name(CHAT)])
    assert len(changes) <= alert_state.CHANGE_ROWS
    book, problems = alert_state.check_changes(orjson.loads(book_body) or {}, changes)
    assert problems == []
    assert isinstance(book, dict)
    for name, body in rows.items():
        if book_body != book_before and body != b"{}":
            assert rows_before.get(name) != body, f"{name} left behind by a book write"
        if name.startswith(alert_state.CHANGE):
            continue
        kpi = alert_state.row_of(name)[1]
        assert book.get("rows") is True, f"{name} without the book saying rows may exist"
        assert kpi in book.get("states", {}), f"{name} for a KPI not red in the book"
        assert orjson.loads(body)["1"]["state"]["status"] == "red", f"{name} not red"


async def _run(data: Path, actions: list[tuple[str, str, int]]) -> None:
    clock = FixedClock()
    bot = build_core(data / "bot", clock=clock)
    model = _rows_never(build_core(data / "model", clock=clock))
    try:
        for core in (bot, model):
            for text in SETUP:
                await FakeChat(core, chat_id="a").ok(text)
        for action, kpi, n in actions:
            before = _tables(bot)
            if action == "advance":
                clock.advance(hours=n)
            elif action == "restart":
                for core in (bot, model):
                    await core.store.commit()
                    core.close()
                bot = build_core(data / "bot", clock=clock)
                model = _rows_never(build_core(data / "model", clock=clock))
            elif action == "minutes":
                clock.advance(minutes=n)
            elif action == "sweep":
                for core in (bot, model):
                    await sweeper.sweep(core.ctx)
                assert _sent(bot) == _sent(model)
            elif action == "flush":
                for core in (bot, model):
                    with core.store.atomic():
                        sweeper.flush_alerts(core.ctx, CHAT)
                    await core.store.commit()
                assert _sent(bot) == _sent(model)
            else:
                text = _command(action, kpi, n)
                assert await _say(bot, text) == await _say(model, text), text
            assert _read(bot.store.alerts) == _read(model.store.alerts), action
            _layout_holds(bot, before)
            assert model.store.db.table_names(alert_state.RED) == set(), "a row in the model"
            assert model.store.db.table_names(alert_state.CHANGE) == set(), "a change row"
    finally:
        bot.close()
        model.close()


@settings(max_examples=30, deadline=None)
@given(actions=_ACTIONS)
@example(actions=_ROWS_THEN_A_CHANGE)
@example(actions=_CHANGES_IN_A_WINDOW)
@example(actions=_ROWS_THEN_A_REMINDER)
@example(  # rows, then a reminder written by the sweep (it folds them), undo, restart
    actions=[
        ("set", "daily", 10),
        ("set", "daily", 20),
        ("set", "daily", 30),
        ("advance", "", 13),
        ("sweep", "", 0),
        ("set", "daily", 5),
        ("set", "daily", 10),
        ("undo", "", 0),
        ("restart", "", 0),
        ("mute", "daily", 0),
        ("set", "daily", 20),
        ("log", "", 0),
    ]
)
def test_red_states_read_through_rows_are_the_models(actions: list[tuple[str, str, int]]) -> None:
    with tempfile.TemporaryDirectory(prefix="red-rows-") as tmp:
        asyncio.run(_run(Path(tmp), actions))


def test_a_book_write_that_folds_the_books_copies_not_the_rows_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: a write of the book keeps its own copies of the red states, not
    the newer ones in the rows it drops."""
    asyncio.run(_run(tmp_path / "right", _ROWS_THEN_A_REMINDER))

    def stale(self: AlertRepo, chat: str, book: Any) -> dict[str, Any]:
        return {part: value for part, value in book.items() if part != "rows"}

    monkeypatch.setattr(AlertRepo, "_folded", stale)
    with pytest.raises(AssertionError):
        asyncio.run(_run(tmp_path / "planted", _ROWS_THEN_A_REMINDER))


def test_a_change_row_whose_waiting_alerts_gone_are_not_applied_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: reads apply a change row's new waiting alerts, not its removals
    (an alert merged away, or replaced by its merge, is still read as waiting)."""
    asyncio.run(_run(tmp_path / "right", _CHANGES_IN_A_WINDOW))
    changed = alert_state.changed

    def kept_all(book: Any, change: Any) -> dict[str, Any]:
        return changed(book, {k: v for k, v in change.items() if k != "unqueued"})

    monkeypatch.setattr(alert_state, "changed", kept_all)
    with pytest.raises(AssertionError):
        asyncio.run(_run(tmp_path / "planted", _CHANGES_IN_A_WINDOW))

"""A `/kpi set` that changes a colour writes what changed (its state, its log entry, its
waiting alert) as a small change over the chat's alert book (`storage.alert_state`,
`abch:<chat>`), not the whole book: with many alerts waiting in a group window the
book is tens of KB, and each colour change rewrote it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from bot.cli import main
from storage import alert_state, open_store
from storage.alert_state import change_name, row_name
from storage.engine import Database
from storage.port import Batch
from storage.sqlite import SqliteBackend
from tests.support import FakeChat, FixedClock

KPIS = 30
CHAT = "console:a"
#: The alert tables' kinds (the book, red state rows, change rows, buckets, sealed log).
ALERTS = {"abook", "ared", "abch", "al", "alog", "alogix"}


def _spied(core: Core) -> list[dict[str, bytes | None]]:
    """The tables each transaction of `core` writes, from now on."""
    backend = core.store.db.backend
    assert isinstance(backend, SqliteBackend)
    written: list[dict[str, bytes | None]] = []
    commit = backend._commit

    def spy(batch: Batch) -> None:
        written.append(dict(batch.tables))
        commit(batch)

    backend._commit = spy  # type: ignore[method-assign]
    return written


async def _busy_chat(data: Path) -> tuple[Core, FakeChat]:
    """A chat with KPIS KPIs, each turned red inside one group window (all waiting)."""
    core = build_core(data, clock=FixedClock())
    chat = FakeChat(core, chat_id="a")
    await chat.ok("/alerts set group=15m")
    for i in range(KPIS):
        await chat.ok(f'/kpi add k{i} "KPI number {i}" target=100 perspective=customers')
        await chat.ok(f"/kpi set k{i} 95")
        await chat.ok(f"/kpi set k{i} 10")
    await core.store.commit()
    return core, chat


def test_a_colour_change_writes_a_small_change_not_the_book(tmp_path: Path) -> None:
    async def run() -> None:
        core, chat = await _busy_chat(tmp_path)
        try:
            book = core.store.db.backend.load("abook:console:a")
            assert book is not None and len(book) > 10_000  # what a book write cost
            written = _spied(core)
            for value in (95, 10, 95):  # green, red, green: a colour change each
                await chat.ok(f"/kpi set k3 {value}")
                await core.store.commit()
            for tables in written:
                alerts = {n: len(b or b"") for n, b in tables.items() if n.split(":")[0] in ALERTS}
                assert "abook:console:a" not in alerts, alerts
                assert sum(alerts.values()) < 5_000, alerts  # a bucket, a few changes
        finally:
            core.close()

    asyncio.run(run())


def test_doctor_checks_the_change_rows_against_their_book(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def run() -> None:
        core = build_core(tmp_path, clock=FixedClock())
        chat = FakeChat(core, chat_id="a")
        await chat.ok("/alerts set group=15m")
        for key, value in (("cac", 10), ("roas", 10), ("cac", 95), ("roas", 20), ("cac", 10)):
            if not core.store.kpis.get(CHAT, key):
                await chat.ok(f'/kpi add {key} "{key.upper()}" target=100 perspective=finance')
            await chat.ok(f"/kpi set {key} {value}")
        await core.store.commit()
        core.close()

    asyncio.run(run())
    db = open_store(tmp_path).db
    assert list(db.docs(change_name(CHAT))) == ["1", "2", "3"]
    assert set(db.table_names(row_name(CHAT))) == {row_name(CHAT, "roas")}
    db.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 0  # roas is red in the book
    capsys.readouterr()

    def damaged(change: Callable[[Database], None]) -> list[str]:
        db = open_store(tmp_path).db
        book = dict(db.docs(f"abook:{CHAT}")["1"])
        changes = dict(db.docs(change_name(CHAT)))
        change(db)
        db.flush()
        db.close()
        assert main(["doctor", "--data", str(tmp_path)]) == 1
        lines = [line for line in capsys.readouterr().out.splitlines() if "PROBLEM" in line]
        db = open_store(tmp_path).db  # as it was
        db.put_table(f"abook:{CHAT}", {1: book})
        db.put_table(change_name(CHAT), {int(n): doc for n, doc in changes.items()})
        db.flush()
        db.close()
        return lines

    where = f"PROBLEM: the alert book of chat {CHAT}:"
    book = f"abook:{CHAT}"
    table = change_name(CHAT)
    assert damaged(lambda db: db.edit(table, {1: None})) == [
        f"{where} changes are numbered [2, 3], not 1 to 2",
        f"{where} the red state row of 'roas' is there, but the KPI is not red in the book",
    ]
    db = open_store(tmp_path).db
    unsaid = {k: v for k, v in db.docs(book)["1"].items() if k != "rows"}
    db.close()
    assert f"{where} changes are there, but the book does not say rows may exist" in (
        damaged(lambda db: db.put_table(book, {1: unsaid}))
    )
    assert f"{where} change 1: unknown parts ['sent']" in damaged(
        lambda db: db.edit(table, {1: {"sent": {}}})
    )
    bad = {"states": {"roas": {"state": 1}}}  # the first change: roas turned red
    assert f"{where} with its changes: state of 'roas' does not parse (ValidationError)" in (
        damaged(lambda db: db.edit(table, {1: {**db.docs(table)["1"], **bad}}))
    )
    assert main(["doctor", "--data", str(tmp_path)]) == 0


#: An entry as its model's document: equal ones spell their fields in one order.
_ENTRY = st.builds(
    lambda kpi, n: {"kpi": kpi, "n": n}, st.sampled_from("abcdef"), st.integers(0, 3)
)
_BOOKS = st.fixed_dictionaries(
    {},
    optional={
        "states": st.dictionaries(st.sampled_from("abcdef"), _ENTRY, max_size=5),
        "log": st.lists(_ENTRY, max_size=6),
        "queued": st.lists(_ENTRY, max_size=6),
        "sent": st.dictionaries(st.sampled_from("xy"), st.just("2026-11-21"), max_size=1),
    },
)


@st.composite
def _edits(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A book and the book a step made of it, as `AlertRepo` builds one (parts replaced by
    new dicts and lists of the old entries and new ones), or any other book."""
    base: dict[str, Any] = draw(_BOOKS)
    if draw(st.booleans()):
        return base, draw(_BOOKS)
    doc = dict(base)
    if "states" in base and draw(st.booleans()):
        gone = draw(st.sets(st.sampled_from(sorted(base["states"]) or ["a"])))
        kept = {k: v for k, v in base["states"].items() if k not in gone}
        doc["states"] = {**kept, **draw(st.dictionaries(st.sampled_from("abcdef"), _ENTRY))}
    if draw(st.booleans()):
        doc["log"] = [*base.get("log", ()), *draw(st.lists(_ENTRY, max_size=3))]
    if draw(st.booleans()):
        queued = base.get("queued", [])
        out = draw(st.sets(st.integers(0, max(len(queued) - 1, 0))))
        left = [q for at, q in enumerate(queued) if at not in out]
        doc["queued"] = [*left, *draw(st.lists(_ENTRY, max_size=2))]
    return base, doc


#: Draws the planted bug below fails on (a KPI's new state; a new KPI after a changed one),
#: run first on every run: hypothesis drew none in 200 examples now and then (a flaky test).
_NEW_STATE = ({"states": {"a": {"kpi": "a", "n": 0}}}, {"states": {"a": {"kpi": "a", "n": 1}}})
_NEW_KPI_AFTER = (
    {"states": {"a": {"kpi": "a", "n": 0}, "b": {"kpi": "b", "n": 0}}},
    {"states": {"a": {"kpi": "a", "n": 0}, "b": {"kpi": "b", "n": 1}, "c": {"kpi": "c", "n": 0}}},
)


@settings(max_examples=200, deadline=None, report_multiple_bugs=False)
@given(edit=_edits())
@example(edit=_NEW_STATE)
@example(edit=_NEW_KPI_AFTER)
def test_a_change_row_applied_to_its_book_is_the_book_it_was_made_from(
    edit: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """`changed(base, _change(base, doc))` is `doc`, its states in `doc`'s order, wherever
    a row is made (None: the book is written whole)."""
    base, doc = edit
    row = alert_state._change(base, doc)
    if row is None:
        return
    assert not alert_state._bad_change(row)
    applied = alert_state.changed(base, row)
    assert applied == doc and list(applied.get("states", ())) == list(doc.get("states", ()))
    assert orjson.dumps(applied) == orjson.dumps(doc)


def test_a_change_row_whose_new_states_go_first_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The planted bug: a row's states are applied before the book's (new KPIs first, and
    a KPI's new state under its old one), not over them."""
    changed = alert_state.changed

    def first(book: Any, change: Any) -> dict[str, Any]:
        doc = changed(book, {k: v for k, v in change.items() if k != "states"})
        if "states" in change:
            doc["states"] = {**change["states"], **(doc.get("states") or {})}
        return doc

    monkeypatch.setattr(alert_state, "changed", first)
    with pytest.raises(AssertionError):
        test_a_change_row_applied_to_its_book_is_the_book_it_was_made_from()

"""The sweep's hot writes store exactly the documents the model round trips stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scoring.alert_rules import AlertState, Transition
from scoring.models import Status
from storage import Store, open_store
from storage.alert_state import BOOK, LOG_SIZE, RED, StoredState
from storage.base import to_doc
from storage.outbox import OutboxEntry

AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _state(kpi: str, status: Status, value: float) -> AlertState:
    return AlertState(kpi=kpi, status=status, value=value, performance=0.5, reading_at=AT)


def test_an_outbox_put_stores_the_entry_document_the_model_would() -> None:
    store = open_store(None)
    body = {"text": "hello", "to": {"platform": "telegram", "chat_id": "1"}}
    entry_id = store.outbox.put(
        chat="telegram:1", platform="telegram", kind="reminder", key="k", body=body,
        summary="s" * 300, now=AT,
    )  # fmt: skip
    assert entry_id is not None
    [doc] = store.db.docs("ob:telegram:1").values()
    expected = OutboxEntry(
        id=entry_id, key="k", chat="telegram:1", platform="telegram", kind="reminder",
        summary="s" * 200, body=body, created=AT, next_at=AT,
    )  # fmt: skip
    assert doc == to_doc(expected)
    assert list(doc) == list(to_doc(expected))  # same field order, same stored bytes
    assert store.outbox.pending("telegram:1") == [expected]


def test_an_outbox_batch_numbers_entries_after_the_kept_ones() -> None:
    store = open_store(None)

    def put(key: str) -> str | None:
        return store.outbox.put(
            chat="c", platform="console", kind="reminder", key=key, body={}, summary="", now=AT
        )

    first = put("a")
    with store.outbox.batch():
        second = put("b")
        assert put("b") is None  # held, still seen
    assert list(store.db.docs("ob:c")) == ["1", "2"]
    assert [e.id for e in store.outbox.pending("c")] == [first, second]


def _book(store: Store) -> dict[str, Any]:
    """Chat `c`'s alert book as stored."""
    [doc] = store.db.docs(f"{BOOK}c").values()
    return dict(doc)


def _bucket(store: Store, kpi: str) -> dict[str, Any]:
    """The documents of the state bucket holding `kpi`."""
    [name] = [
        n for n in store.db.table_names("al:c:")
        if any(d["key"] == kpi for d in store.db.docs(n).values())
    ]  # fmt: skip
    return dict(store.db.docs(name))


def test_a_state_write_keeps_ids_and_order_of_its_bucket() -> None:
    probe = open_store(None)
    for i in range(40):
        probe.alerts.put_state("c", _state(f"k{i}", Status.GREEN, 0), test=False)
    same = [str(d["key"]) for d in _bucket(probe, "k0").values()]
    assert len(same) >= 3
    store = open_store(None)
    for key in same[:3]:
        store.alerts.put_state("c", _state(key, Status.GREEN, 1), test=False)
    store.alerts.put_state("c", _state(same[1], Status.YELLOW, 2), test=True)
    docs = _bucket(store, same[1])
    assert list(docs) == ["1", "2", "3"]
    assert [d["key"] for d in docs.values()] == same[:3]
    yellow = {"key": same[1], "test": True, "state": to_doc(_state(same[1], Status.YELLOW, 2))}
    assert docs["2"] == yellow
    changes = store.db.changes
    store.alerts.put_state("c", _state(same[1], Status.YELLOW, 2), test=True)
    assert store.db.changes == changes  # unchanged: nothing written
    store.alerts.drop_state("c", same[0])
    store.alerts.put_state("c", _state(same[0], Status.GREEN, 3), test=False)
    assert list(_bucket(store, same[0])) == ["2", "3", "4"]


def test_a_red_state_lives_in_the_book_and_leaves_it_when_no_longer_red() -> None:
    store = open_store(None)
    for key in ("a", "b", "c"):
        store.alerts.put_state("c", _state(key, Status.GREEN, 1), test=False)
    store.alerts.put_state("c", _state("b", Status.RED, 2), test=True)
    assert _book(store)["states"] == {
        "b": {"test": True, "state": to_doc(_state("b", Status.RED, 2))}
    }
    buckets = [d for n in store.db.table_names("al:c:") for d in store.db.docs(n).values()]
    assert [d["key"] for d in buckets if d["key"] == "b"] == [], "moved out of its bucket"
    assert store.alerts.states("c")[0].state.kpi == "b", "red ones first"
    assert [s.state.kpi for s in store.alerts.states("c", status=Status.RED)] == ["b"]
    assert store.alerts.state("c", "b") == StoredState(_state("b", Status.RED, 2), True)
    changes = store.db.changes
    store.alerts.put_state("c", _state("b", Status.RED, 2), test=True)
    assert store.db.changes == changes  # unchanged: nothing written
    store.alerts.put_state("c", _state("b", Status.YELLOW, 3), test=False)
    assert store.db.table_names(BOOK) == set(), "an empty book is no table"
    assert _bucket(store, "b")  # back in its bucket
    assert {s.state.kpi for s in store.alerts.states("c")} == {"a", "b", "c"}
    store.alerts.put_state("c", _state("a", Status.RED, 4), test=False)
    store.alerts.drop_state("c", "a")
    assert store.alerts.state("c", "a") is None
    assert {s.state.kpi for s in store.alerts.states("c")} == {"b", "c"}


def _red(store: Store, kpi: str, value: float) -> None:
    store.alerts.put_state("c", _state(kpi, Status.RED, value), test=False)


def _values(store: Store) -> dict[str, float]:
    """The red states' values as they stand (rows over the book)."""
    return {kpi: doc["state"]["value"] for kpi, doc in store.alerts.red_docs("c")}


def test_a_red_state_changed_alone_is_a_row_over_the_book_folded_in_at_its_next_write() -> None:
    store = open_store(None)
    _red(store, "a", 1)
    _red(store, "b", 1)
    assert "rows" not in _book(store) and store.db.table_names(RED) == set()
    _red(store, "a", 2)
    assert _book(store)["rows"] is True, "the book says rows may now exist"
    assert store.db.table_names(RED) == set()
    changes = store.db.changes
    _red(store, "a", 3)
    assert store.db.changes == changes + 1 and store.db.table_names(RED) == {f"{RED}c:a"}
    assert _book(store)["states"]["a"]["state"]["value"] == 2, "the book's copy, overridden"
    assert _values(store) == {"a": 3, "b": 1}
    assert store.alerts.state("c", "a") == StoredState(_state("a", Status.RED, 3), False)
    assert store.alerts.state_doc("c", "a") == (to_doc(_state("a", Status.RED, 3)), False)
    assert [s.state.value for s in store.alerts.states("c", status=Status.RED)] == [3, 1]
    _red(store, "a", 3)
    assert store.db.changes == changes + 1, "unchanged: nothing written"
    book = _book(store)
    with store.alerts.batch():  # red states changed alone: their rows when the block ends
        _red(store, "b", 4)
        assert _values(store) == {"a": 3, "b": 4}
        assert store.db.changes == changes + 1
    assert store.db.table_names(RED) == {f"{RED}c:a", f"{RED}c:b"} and _book(store) == book
    with pytest.raises(RuntimeError), store.alerts.batch():
        _red(store, "a", 5)
        raise RuntimeError("boom")
    assert _values(store) == {"a": 3, "b": 4}, "a failed block writes no row"
    store.alerts.save_sent_marks("c", {"stale:a": "d"})  # any other write folds them in
    assert store.db.table_names(RED) == set() and "rows" not in _book(store)
    assert {k: d["state"]["value"] for k, d in _book(store)["states"].items()} == {"a": 3, "b": 4}
    _red(store, "a", 6)
    _red(store, "b", 7)
    changes = store.db.changes
    with store.alerts.batch():  # a row, and a log entry: the book once, the rows folded in
        _red(store, "a", 8)
        store.alerts.log_docs("c", [{"kpi": "a"}])
    assert store.db.changes == changes + 2, "the book, and the row it drops"
    assert store.db.table_names(RED) == set() and "rows" not in _book(store)
    assert _values(store) == {"a": 8, "b": 7}
    store.alerts.put_state("c", _state("b", Status.GREEN, 9), test=False)
    store.alerts.drop_state("c", "a")
    assert _values(store) == {} and store.db.table_names(RED) == set()


def _reminded(store: Store, n: int) -> None:
    """What a sweep's red reminder changes: a state, the log, the waiting alerts, a mark."""
    state = _state(f"k{n}", Status.RED, n)
    store.alerts.put_state("c", state, test=False)
    moved = Transition(
        kpi=f"k{n}", name="K", objective="o", target=1, kind="reminder", old=Status.RED,
        new=Status.RED, since=AT, value=n, performance=0.5, at=AT,
    )  # fmt: skip
    store.alerts.log("c", [moved])
    batcher = store.alerts.batcher("c").add(moved, now=AT, window=timedelta(minutes=1))
    store.alerts.save_batcher("c", batcher)
    store.alerts.save_sent_marks("c", {**store.alerts.sent_marks("c"), f"stale:k{n}": "d"})


def test_a_batch_writes_the_book_once_and_reads_in_it_see_its_changes() -> None:
    store = open_store(None)
    _reminded(store, 0)
    changes = store.db.changes
    with store.alerts.batch():
        for n in (1, 2):
            _reminded(store, n)
        assert store.db.changes == changes, "held until the block ends"
        assert [s.state.kpi for s in store.alerts.states("c", status=Status.RED)] == [
            "k0", "k1", "k2"
        ]  # fmt: skip
        assert store.alerts.state("c", "k2") == StoredState(_state("k2", Status.RED, 2), False)
        assert len(store.alerts.batcher("c").queued) == 3
    assert store.db.changes == changes + 1
    unbatched = open_store(None)
    for n in range(3):
        _reminded(unbatched, n)
    assert _book(store) == _book(unbatched)
    assert store.alerts.sent_marks("c") == {"stale:k0": "d", "stale:k1": "d", "stale:k2": "d"}
    assert [t.kpi for t in store.alerts.recent_log("c")] == ["k0", "k1", "k2"]


def test_a_batch_that_fails_changes_no_book() -> None:
    store = open_store(None)
    _reminded(store, 0)
    before = _book(store)
    with pytest.raises(RuntimeError), store.alerts.batch():
        _reminded(store, 1)
        raise RuntimeError("boom")
    assert _book(store) == before
    assert [s.state.kpi for s in store.alerts.states("c")] == ["k0"]


def test_the_newest_log_leaves_the_book_a_block_at_a_time_and_the_log_reads_whole() -> None:
    store = open_store(None)
    for n in range(LOG_SIZE + 45):
        _reminded(store, n)
    assert len(_book(store)["log"]) == (LOG_SIZE + 45) % 20
    assert [t.kpi for t in store.alerts.recent_log("c", 30)] == [
        f"k{n}" for n in range(LOG_SIZE + 15, LOG_SIZE + 45)
    ]
    kept = store.alerts.recent_log("c", 10 * LOG_SIZE)
    assert LOG_SIZE <= len(kept) < LOG_SIZE + 20
    assert kept[-1].kpi == f"k{LOG_SIZE + 44}"


def test_chats_with_waiting_alerts_are_found_with_one_query_not_one_per_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    for n in range(5):
        store.alerts.put_state(f"chat{n}", _state("k", Status.GREEN, 1), test=False)
    _reminded(store, 7)  # chat `c` has a waiting alert
    store.close()
    store = open_store(tmp_path)
    asked: list[str] = []
    load = store.db.backend.load

    def spied(name: str) -> bytes | None:
        asked.append(name)
        return load(name)

    monkeypatch.setattr(store.db.backend, "load", spied)
    assert store.alerts.chats_with_queued_alerts() == ["c"]
    assert asked == []
    store.close()

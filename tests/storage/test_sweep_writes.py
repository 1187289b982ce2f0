"""The sweep's hot writes store exactly the documents the model round trips stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scoring.alert_rules import AlertState
from scoring.models import Status
from storage import Store, open_store
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
    store.alerts.put_state("c", _state(same[1], Status.RED, 2), test=True)
    docs = _bucket(store, same[1])
    assert list(docs) == ["1", "2", "3"]
    assert [d["key"] for d in docs.values()] == same[:3]
    red = {"key": same[1], "test": True, "state": to_doc(_state(same[1], Status.RED, 2))}
    assert docs["2"] == red
    changes = store.db.changes
    store.alerts.put_state("c", _state(same[1], Status.RED, 2), test=True)
    assert store.db.changes == changes  # unchanged: nothing written
    store.alerts.drop_state("c", same[0])
    store.alerts.put_state("c", _state(same[0], Status.GREEN, 3), test=False)
    assert list(_bucket(store, same[0])) == ["2", "3", "4"]

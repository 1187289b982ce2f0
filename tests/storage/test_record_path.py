"""`KpiRepo.record`, the `/kpi set` write: its shard and index documents are handed to the
database uncopied, and the index is rewritten from the old one; whatever the sequence of
records, unsets, rolled-back steps and restarts, every cached table still equals its stored
body, and the index, `latest`, `count` and the audit equal a plain computation."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from scoring.models import Measurement
from storage import Store
from storage.base import to_doc
from storage.engine import Database
from storage.kpis import KpiRepo, measurement_doc
from storage.port import MemoryBackend

CHAT = "t:1"
FIRST = date(2026, 9, 25)  # the days span three month shards
AT = datetime(2026, 11, 23, 9, tzinfo=UTC)

Action = tuple[str, int, int]
_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["record", "record", "record", "unset", "rollback", "reopen"]),
        st.integers(0, 50),
        st.integers(-5, 5),
    ),
    min_size=1,
    max_size=30,
)


class _Boom(Exception):
    """Makes an atomic step fail after its writes."""


def _record(store: Store, kept: dict[date, Measurement], day: date, value: int, n: int) -> None:
    m = Measurement(kpi="v", value=value, day=day, at=AT + timedelta(minutes=n), by="@a")
    audited = store.audited(CHAT, actor_id="t:9", actor="@a", command="/kpi set", at=AT)
    with store.atomic(), audited:
        replaced = store.kpis.record(CHAT, m)
    assert replaced == kept.get(day)
    entry = next(store.audit.newest(CHAT))
    [change] = entry.changes
    old = kept.get(day)
    assert change.before == (None if old is None else old.model_dump(mode="json"))
    assert change.after == m.model_dump(mode="json")
    kept[day] = m


def _tables(db: Database) -> list[str]:
    return sorted(db.table_names(f"m:{CHAT}:v:") | db.table_names(f"mix:{CHAT}:"))


def _check(store: Store, kept: dict[date, Measurement]) -> None:
    db = store.db
    for name in _tables(db):
        entry = db._entry(name)
        assert entry is not None
        assert dict(db.docs(name)) == orjson.loads(entry.body), name  # nothing touched since
    ordered = sorted(kept.values(), key=lambda m: (m.day, m.at))
    assert store.kpis.latest(CHAT, "v") == ordered[-2:]
    # what `/kpi set`'s general path reads its newest day from: the index's documents
    days = [date.fromisoformat(d["day"]) for d in store.kpis.latest_docs(CHAT, "v")]
    assert days == [m.day for m in ordered[-2:]]
    assert store.kpis.count(CHAT, "v") == len(kept)
    index = next(iter(db.docs(f"mix:{CHAT}:v").values()), None)
    if kept:
        assert index == {
            "months": sorted({d.isoformat()[:7] for d in kept}),
            "count": len(kept),
            "latest": [m.model_dump(mode="json") for m in ordered[-2:]],
        }
    assert [m.value for m in store.kpis.history(CHAT, "v")] == [m.value for m in ordered]


def _run(actions: list[Action]) -> None:
    backend = MemoryBackend()
    store = Store(Database(backend))
    kept: dict[date, Measurement] = {}
    for n, (kind, offset, value) in enumerate(actions):
        day = FIRST + timedelta(days=offset)
        if kind == "record":  # each recorded at its own instant: a change the audit keeps
            _record(store, kept, day, value, n)
        elif kind == "unset":
            with store.atomic():
                gone = store.kpis.unset(CHAT, "v", day)
            assert gone == kept.pop(day, None)
        elif kind == "rollback":
            with contextlib.suppress(_Boom), store.atomic():
                store.kpis.record(CHAT, Measurement(kpi="v", value=99, day=day, at=AT))
                raise _Boom
        else:
            store.db.flush()
            store = Store(Database(backend))
        _check(store, kept)
    store.db.flush()
    _check(Store(Database(backend)), kept)


@settings(max_examples=60, deadline=None)
@given(_ACTIONS)
def test_recorded_values_keep_the_cache_the_index_and_the_audit_exact(
    actions: list[Action],
) -> None:
    _run(actions)


_UNSHRUNK = settings(max_examples=60, deadline=None, phases=[Phase.generate], derandomize=True)


def test_the_property_catches_a_handed_over_document_touched_after_the_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: a caller changes a document it handed over (the cache then holds what
    the stored body does not)."""
    real = Database.edit

    def touching(self: Database, name: str, *args: Any, **kwargs: Any) -> None:
        real(self, name, *args, **kwargs)
        for doc in args[1] if len(args) > 1 else kwargs.get("added", ()):
            if kwargs.get("handed_over") and "value" in doc:
                doc["value"] = -1.0

    monkeypatch.setattr(Database, "edit", touching)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(_ACTIONS)(_run))()


def test_the_property_catches_an_index_that_keeps_the_oldest_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the index keeps the two oldest of its candidates, not the newest."""
    real = Database.put_single  # how `record` writes the index

    def oldest(self: Database, name: str, doc: dict[str, Any]) -> None:
        if name.startswith("mix:"):
            doc = {**doc, "latest": sorted(doc["latest"], key=lambda d: d["day"])[:1]}
        real(self, name, doc)

    monkeypatch.setattr(Database, "put_single", oldest)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(_ACTIONS)(_run))()


def test_the_property_catches_a_replaced_value_taken_from_the_wrong_latest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the replaced value is the index's newest document, whichever day it
    has (`record_doc` answers from the index instead of the shard's document of the day)."""
    real = KpiRepo.record_doc

    def newest(self: KpiRepo, chat: str, m: Measurement) -> Any:
        before = list(self.latest_docs(chat, m.kpi))
        old = real(self, chat, m)
        return before[-1] if before and old is not None else old

    monkeypatch.setattr(KpiRepo, "record_doc", newest)
    with pytest.raises(AssertionError):
        _UNSHRUNK(given(_ACTIONS)(_run))()


_MEASUREMENTS = st.builds(
    Measurement,
    kpi=st.text(max_size=8),
    value=st.floats(allow_nan=False) | st.integers(-(10**18), 10**18),
    day=st.dates(),
    at=st.datetimes(timezones=st.timezones() | st.just(UTC)),
    by=st.text(max_size=5),
    by_id=st.text(max_size=5),
    note=st.text(max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(_MEASUREMENTS)
def test_a_value_document_built_by_hand_is_the_models_own(m: Measurement) -> None:
    """`measurement_doc` stores exactly what the model's serialiser would, byte for byte."""
    assert orjson.dumps(measurement_doc(m)) == orjson.dumps(to_doc(m))

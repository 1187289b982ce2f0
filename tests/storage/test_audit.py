"""The audit log at the repository level: cheap to write, exact to revert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.models import Measurement
from storage import Store, UndoConflict, open_store
from storage.engine import Database
from tests.storage.test_engine import SpyBackend

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _value(day: date, value: float, by: str = "@anna") -> Measurement:
    return Measurement(kpi="v", value=value, day=day, at=AT, by=by)


def _set(store: Store, at: datetime, m: Measurement, who: str = "anna") -> None:
    with (
        store.atomic(),
        store.audited("c", actor_id=f"console:{who}", actor=f"@{who}", command="/kpi set", at=at),
    ):
        store.kpis.record("c", m)


def test_recording_a_change_rewrites_one_small_audit_block_whatever_the_history() -> None:
    spy = SpyBackend()
    store = Store(Database(spy))
    for i in range(1500):  # 50 KPIs with a daily value: one month of one chat
        _set(store, AT + timedelta(minutes=i), _value(date(2020, 1, 1) + timedelta(days=i), i))
    store.db.flush()
    _set(store, AT + timedelta(days=2), _value(date(2026, 11, 3), 1))
    store.db.flush()
    batch = spy.batches[-1]
    # entry 1,501 lands in an open block: the blocks' index is written only when one opens
    assert {name.split(":")[0] for name in batch} == {"m", "mix", "audit"}
    audit = sum(len(body or b"") for name, body in batch.items() if name.startswith("audit"))
    assert audit < 48_000  # one block of at most 64 entries, not the month's 1,501
    assert store.audit.count("c") == 1501
    assert next(store.audit.newest("c")).id == "2611-1501"


def test_an_item_changed_since_makes_revert_refuse_and_change_nothing() -> None:
    store = open_store(None)
    _set(store, AT, _value(date(2026, 11, 1), 5))
    first = next(store.audit.newest("c"))
    _set(store, AT + timedelta(hours=1), _value(date(2026, 11, 1), 7, by="@ivan"), "ivan")
    with store.atomic(), pytest.raises(UndoConflict):
        store.revert("c", first)
    assert [m.value for m in store.kpis.history("c", "v")] == [7]
    assert not store.audit.get("c", first.id).undone  # type: ignore[union-attr]


def test_unset_keeps_the_index_in_step_with_the_values() -> None:
    store = open_store(None)
    for day, value in ((1, 10), (2, 20), (3, 30)):
        store.kpis.record("c", _value(date(2026, 10, day), value))
    store.kpis.record("c", _value(date(2026, 11, 1), 40))
    assert store.kpis.unset("c", "v", date(2026, 11, 1)) is not None
    assert [m.value for m in store.kpis.latest("c", "v")] == [20, 30]
    assert store.kpis.count("c", "v") == 3
    assert store.kpis.unset("c", "v", date(2026, 11, 1)) is None
    for day in (1, 2, 3):
        store.kpis.unset("c", "v", date(2026, 10, day))
    assert store.kpis.latest("c", "v") == [] and store.kpis.count("c", "v") == 0
    assert store.kpis.history("c", "v") == []


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)))
def test_an_entry_id_names_its_instants_month_in_any_year(at: datetime) -> None:
    """The month is spelled from the instant's numbers, as `isoformat()[:7]` spells it
    (years before 1000 too): `2611-1` for November 2026."""
    store = open_store(None)
    iso = at.isoformat()
    assert store.audit.new_id("c", at) == f"{iso[2:4]}{iso[5:7]}-1"

"""The direct write paths (`Database.edit`, `Changes.note_many`, `KpiRepo.record_docs`)
store and audit exactly what TinyDB's operations and one-by-one notes did."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.models import Measurement
from storage import changes as changes_module
from storage.base import to_doc
from storage.changes import Changes
from storage.engine import Database
from storage.kpis import KpiRepo
from storage.pending import PendingRepo

AT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

# An edit: ids of existing documents to replace (True) or remove (False), then how many to add.
edits = st.tuples(
    st.dictionaries(st.integers(1, 12), st.booleans(), max_size=6), st.integers(0, 4)
)


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 8), steps=st.lists(edits, max_size=5))
def test_edit_numbers_and_orders_documents_as_tinydb_would(
    start: int, steps: list[tuple[dict[int, bool], int]]
) -> None:
    ours, theirs = Database.open(None), Database.open(None)
    for db in (ours, theirs):
        db.table("t").insert_multiple({"n": n} for n in range(start))
    for number, (changed, added) in enumerate(steps):
        present = {doc.doc_id for doc in theirs.table("t").all()}
        changed = {i: keep for i, keep in changed.items() if i in present}
        new = [{"step": number, "k": k} for k in range(added)]
        ours.edit("t", {i: ({"r": number} if keep else None) for i, keep in changed.items()}, new)
        table = theirs.table("t")
        for i, keep in changed.items():
            if keep:
                table.update(_replace({"r": number}), doc_ids=[i])
        table.remove(doc_ids=[i for i, keep in changed.items() if not keep])
        table.insert_multiple(new)
        assert ours.docs("t") == theirs.docs("t")
        assert list(ours.docs("t")) == list(theirs.docs("t"))  # ids in the same order


def _replace(doc: dict[str, Any]) -> Any:
    def transform(current: dict[str, Any]) -> None:
        current.clear()
        current.update(doc)

    return transform


def test_documents_handed_to_edit_are_kept_and_others_copied() -> None:
    db = Database.open(None)
    mine, handed = {"a": [1]}, {"b": [2]}
    db.edit("copied", added=[mine])
    db.edit("kept", added=[handed], handed_over=True)
    mine["a"].append(9)
    assert db.docs("copied") == {"1": {"a": [1]}}
    assert db.docs("kept")["1"] is handed


@settings(max_examples=60, deadline=None)
@given(
    first=st.lists(st.integers(0, 30), max_size=8),
    many=st.lists(st.integers(0, 30), max_size=30),
    cap=st.integers(1, 12),
)
def test_note_many_audits_as_many_single_notes_would(
    first: list[int], many: list[int], cap: int
) -> None:
    def steps(bulk: bool) -> tuple[list[Any], int]:
        log = Changes()
        step = log.start("c")
        for n in first:
            log.note("c", "value", f"k@{n}", None, {"v": -n})
        keys = [f"k@{n}" for n in many]
        if bulk:
            log.note_many("c", "value", keys, lambda i: ({"old": i}, {"v": i}))
        else:
            for i, key in enumerate(keys):
                log.note("c", "value", key, {"old": i}, {"v": i})
        log.stop()
        return step.change_docs(), step.overflow

    saved = changes_module.MAX_CHANGES
    changes_module.MAX_CHANGES = cap
    try:
        assert steps(bulk=True) == steps(bulk=False)
    finally:
        changes_module.MAX_CHANGES = saved


def test_record_docs_stores_and_indexes_what_record_many_does() -> None:
    def values(offset: int) -> list[Measurement]:
        return [
            Measurement(
                kpi="cac", value=n + offset, day=date(2026, 8, 1) + timedelta(days=n), at=AT
            )
            for n in range(0, 90, 3)
        ]

    by_models, by_docs = KpiRepo(Database.open(None)), KpiRepo(Database.open(None))
    for repo in (by_models, by_docs):
        repo.record(
            "c", Measurement(kpi="cac", value=5, day=date(2026, 11, 30), at=AT + timedelta(1))
        )
    assert by_models.record_many("c", "cac", values(0)) == 30
    assert by_docs.record_docs("c", "cac", [to_doc(m) for m in values(0)]) == 30
    assert by_models.record_many("c", "cac", values(1)) == 0  # the same days: replaced
    assert by_docs.record_docs("c", "cac", [to_doc(m) for m in values(1)]) == 0
    assert by_docs.history("c", "cac") == by_models.history("c", "cac")
    assert by_docs.latest("c", "cac") == by_models.latest("c", "cac")
    assert by_docs.count("c", "cac") == by_models.count("c", "cac") == 31


def test_a_prepared_table_is_installed_only_over_the_version_it_was_built_on() -> None:
    db = Database.open(None)
    db.edit("t", added=[{"n": 1}])
    fresh, stale = db.prepare("t", added=[{"n": 2}]), db.prepare("t", {1: None})
    absent = db.prepare("new", added=[{}])
    assert db.docs("t") == {"1": {"n": 1}}  # preparing writes nothing
    assert db.install(fresh) and db.docs("t") == {"1": {"n": 1}, "2": {"n": 2}}
    assert not db.install(stale)  # built on the version before: refused, nothing written
    assert db.docs("t") == {"1": {"n": 1}, "2": {"n": 2}}
    assert db.install(absent) and db.docs("new") == {"1": {}}


def test_a_parking_prepared_ahead_keeps_what_was_parked_meanwhile() -> None:
    pending = PendingRepo(Database.open(None))
    old = pending.put("c", "kpi-import", {"a": 1}, AT)
    later = AT + timedelta(days=2)  # the first one has expired by now
    ahead = pending.prepare("c", "kpi-import", {"b": 2}, later)
    meanwhile = pending.put("c", "kpi-set", {"c": 3}, later)
    parked = pending.put_prepared(ahead)  # the table changed: parked afresh beside it
    assert pending.peek("c", "kpi-import", parked, later) == {"b": 2}
    assert pending.peek("c", "kpi-set", meanwhile, later) == {"c": 3}
    assert pending.peek("c", "kpi-import", old, AT) is None  # dropped as stale

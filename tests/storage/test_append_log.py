"""Sharded logs: an append writes the block it lands in, and reads stay exact over any history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from scoring.models import ProgressLog
from storage import Store
from storage.base import AppendLog, TimedLog, instant_text, to_doc
from storage.changes import Change, Changes
from storage.engine import Database
from tests.storage.test_engine import SpyBackend

AT = datetime(2026, 11, 21, tzinfo=UTC)
BLOCK = 4


class _Entry(BaseModel):
    at: datetime
    n: int


def _doc(n: int, hours: int) -> dict[str, Any]:
    return {"at": (AT + timedelta(hours=hours)).isoformat(), "n": n}


def _log(db: Database) -> AppendLog:
    return AppendLog(db, "t", "c", block=BLOCK, stamp="at")


def test_an_append_writes_only_its_block_and_the_index_only_when_a_block_opens() -> None:
    spy = SpyBackend()
    db = Database(spy)
    written = []
    for n in range(2 * BLOCK + 1):
        _log(db).append([_doc(n, n)])
        db.flush()
        written.append(sorted(spy.batches[-1]))
    assert written[0] == ["t:c:1", "tix:c"]
    assert written[1:BLOCK] == [["t:c:1"]] * (BLOCK - 1)
    assert written[BLOCK] == ["t:c:2", "tix:c"]
    assert written[BLOCK + 1] == ["t:c:2"]
    assert _log(db).count() == 2 * BLOCK + 1


# Actions: ("add", [hour offsets]) appends a batch; ("remove", n) removes entry n if present.
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"), st.lists(st.integers(-24 * 40, 24 * 40), min_size=1, max_size=6)
        ),
        st.tuples(st.just("remove"), st.integers(0, 40)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(actions=_ACTIONS, since_hours=st.integers(-24 * 45, 24 * 45))
def test_count_and_reads_from_a_date_stay_exact_over_any_appends_and_removals(
    actions: list[tuple[str, Any]], since_hours: int
) -> None:
    """The newest block's size and day in the index may lag; what the log says must not."""
    db = Database(SpyBackend())
    kept: list[dict[str, Any]] = []
    n = 0
    for kind, arg in actions:
        if kind == "add":
            docs = []
            for hours in arg:
                docs.append(_doc(n, hours))
                n += 1
            _log(db).append(docs)
            kept.extend(docs)
        else:
            removed = _log(db).remove_where({"n": arg})
            assert removed == sum(1 for d in kept if d["n"] == arg)
            kept = [d for d in kept if d["n"] != arg]
    log = _log(db)
    since = AT + timedelta(hours=since_hours)
    assert log.count() == len(kept)
    assert [d["n"] for d in log.docs()] == [d["n"] for d in kept]
    found = {e.n for e in log.entries(_Entry, since) if e.at >= since}
    assert found == {d["n"] for d in kept if datetime.fromisoformat(d["at"]) >= since}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["log", "unlog", "undo"]), st.integers(0, 30))))
def test_an_entry_number_is_never_given_twice_whatever_was_removed(
    actions: list[tuple[str, int]],
) -> None:
    """A log writes only its block, so the last number given must survive any removal."""
    store = Store(Database(SpyBackend()))
    given_out: list[int] = []
    for step, (action, pick) in enumerate(actions):
        logs = store.initiatives.logs("c", "a")
        if action == "log" or not logs:
            at = AT + timedelta(minutes=step)
            entry = store.initiatives.log("c", ProgressLog(initiative="a", amount=1, at=at))
            assert entry.number is not None
            given_out.append(entry.number)
        elif action == "unlog":
            store.initiatives.unlog("c", "a", logs[pick % len(logs)].at)
        else:  # what /undo of a /log does: the entry goes through the audit's restore
            gone = logs[pick % len(logs)]
            store.changes.revert("c", [_logged(gone)])
        store.db.flush()
    assert given_out == sorted(set(given_out))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=3 * BLOCK + 2).map(sorted))
def test_timed_entries_never_share_an_instant_across_blocks(minutes: list[int]) -> None:
    """Entries in clock order, many at one instant (a message's tags), over blocks: each is
    stored at its own instant, so undo and unlog find exactly it (a block opened mid-burst
    held none of the burst's first instants, and its third entry took the first one's)."""
    db = Database(SpyBackend())
    timed = TimedLog(_log(db), Changes(), "c", "log", "a")
    stored = [
        timed.append(_Entry(at=AT + timedelta(minutes=m), n=n)) for n, m in enumerate(minutes)
    ]
    instants = [d["at"] for d in _log(db).docs()]
    assert len(set(instants)) == len(instants) == len(minutes)
    assert sorted(instant_text(e.at) for e in stored) == sorted(instants)
    assert all(e.at >= AT + timedelta(minutes=m) for e, m in zip(stored, minutes, strict=True))


def _logged(entry: ProgressLog) -> Change:
    """The audited change of logging `entry` (its undo removes it)."""
    return Change(kind="log", key=f"a@{instant_text(entry.at)}", after=to_doc(entry))


def test_append_numbers_documents_as_tinydb_inserts_them_and_a_bad_one_changes_nothing() -> None:
    ours, tinydb = Database(SpyBackend()), Database(SpyBackend())
    for db in (ours, tinydb):
        db.table("t").insert_multiple([{"n": 1}, {"n": 2}, {"n": 3}])
        db.table("t").remove(doc_ids=[2])
    ours.append("t", [{"n": 4, "tags": ["a"]}, {"n": 5}])
    tinydb.table("t").insert_multiple([{"n": 4, "tags": ["a"]}, {"n": 5}])
    assert ours.docs("t") == tinydb.docs("t")
    assert list(ours.docs("t")) == ["1", "3", "4", "5"]
    with pytest.raises(TypeError):
        ours.append("t", [{"n": 6}, {"n": 7, "at": AT}])
    assert ours.docs("t") == tinydb.docs("t")


# Actions on one initiative's log: ("log", day offset, amount in halves), ("unlog", pick),
# ("undo", pick) (the audit's restore of a /log removes it), ("reopen", 0) (a restart:
# a fresh database over the same stored tables, so every block summary is rebuilt).
_PROGRESS = st.lists(
    st.one_of(
        st.tuples(st.just("log"), st.integers(-60, 60), st.integers(-4, 10)),
        st.tuples(st.sampled_from(["unlog", "undo", "reopen"]), st.integers(0, 99), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=120, deadline=None)
@given(
    actions=_PROGRESS,
    block=st.sampled_from([1, 2, 3, 64]),
    since_days=st.integers(-65, 65),
    days=st.one_of(st.integers(1, 40), st.none()),
)
def test_progress_total_equals_the_sum_of_the_entries_in_the_period_over_any_history(
    actions: list[tuple[str, int, int]],
    block: int,
    since_days: int,
    days: int | None,
) -> None:
    """The per-block summaries (whole blocks add their total) against reading every entry,
    after any logs (out of time order too), removals, undos and restarts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("storage.initiatives.LOG_BLOCK", block)
        _check_progress_totals(actions, since_days, days)


def _check_progress_totals(
    actions: list[tuple[str, int, int]], since_days: int, days: int | None
) -> None:
    backend = SpyBackend()
    store = Store(Database(backend))
    since = AT + timedelta(days=since_days)
    until = None if days is None else since + timedelta(days=days)
    for step, (action, arg, halves) in enumerate(actions):
        logs = store.initiatives.logs("c", "a")
        if action == "log":
            at = AT + timedelta(days=arg, microseconds=step)  # entries never share an instant
            store.initiatives.log("c", ProgressLog(initiative="a", amount=halves / 2, at=at))
        elif action == "reopen":
            store.db.flush()
            store = Store(Database(backend))
        elif logs and action == "unlog":
            store.initiatives.unlog("c", "a", logs[arg % len(logs)].at)
        elif logs:
            store.changes.revert("c", [_logged(logs[arg % len(logs)])])
        # halves are exact in binary, so any order of adding gives the same total
        expected = sum(
            e.amount
            for e in store.initiatives.logs("c", "a")
            if e.at >= since and (until is None or e.at < until)
        )
        assert store.initiatives.progress_total("c", "a", since, until) == expected

"""A derived value carried over appends (`follows_appends`) equals deriving it afresh."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from storage import base, engine, initiatives
from storage.base import instant_text
from storage.engine import Database, follows_appends
from tests.storage.test_engine import SpyBackend

NAME = "t:c:1"
AT = datetime(2026, 11, 21, tzinfo=UTC)


def _total(docs: Mapping[str, Mapping[str, Any]]) -> tuple[int, float, tuple[str, ...]]:
    """How many documents, their amounts' sum in id order, and their ids."""
    total = 0.0
    for doc in docs.values():
        total += float(doc["n"])
    return len(docs), total, tuple(docs)


def _total_appended(
    value: tuple[int, float, tuple[str, ...]], added: Mapping[str, Mapping[str, Any]]
) -> tuple[int, float, tuple[str, ...]]:
    count, total, ids = value
    for doc in added.values():
        total += float(doc["n"])
    return count + len(added), total, ids + tuple(added)


def _ids(docs: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """Not declared: must be derived afresh after every write."""
    return tuple(docs)


follows_appends(_total, _total_appended)


class _Boom(Exception):
    pass


# ("add", amounts): append; ("edit", i): change the i-th document; ("remove", i): delete it;
# ("update", i): a TinyDB update; ("fail", amounts): append inside an atomic block that
# raises; ("reopen", 0): flush and open the backend again; ("read", 0): derive now.
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["add", "fail"]),
            st.lists(st.integers(-8, 8).map(lambda n: n / 2), min_size=1, max_size=4),
        ),
        st.tuples(st.sampled_from(["edit", "remove", "update"]), st.integers(0, 30)),
        st.tuples(st.sampled_from(["reopen", "read"]), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(actions=_ACTIONS)
def test_a_value_carried_over_appends_equals_deriving_it_afresh(
    actions: list[tuple[str, Any]],
) -> None:
    _check(actions)


def _check(actions: list[tuple[str, Any]]) -> None:
    backend = SpyBackend()
    db = Database(backend)
    for kind, arg in actions:
        ids = sorted(db.docs(NAME), key=int)
        if kind == "add":
            db.edit(NAME, added=[{"n": n} for n in arg])
        elif kind == "fail":
            with pytest.raises(_Boom), db.atomic():
                db.edit(NAME, added=[{"n": n} for n in arg])
                raise _Boom
        elif kind == "reopen":
            db.flush()
            db = Database(backend)
        elif kind == "read" or not ids:
            pass
        elif kind == "edit":
            db.edit(NAME, {int(ids[arg % len(ids)]): {"n": arg}})
        elif kind == "remove":
            db.edit(NAME, {int(ids[arg % len(ids)]): None})
        else:
            db.table(NAME).update({"n": -arg}, doc_ids=[int(ids[arg % len(ids)])])
        assert db.derived(NAME, _total) == _total(db.docs(NAME))
        assert db.derived(NAME, _ids) == _ids(db.docs(NAME))


def test_the_property_catches_an_extension_that_drops_the_appended_amounts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def dropped(
        value: tuple[int, float, tuple[str, ...]], added: Mapping[str, Mapping[str, Any]]
    ) -> tuple[int, float, tuple[str, ...]]:
        return value[0] + len(added), value[1], value[2] + tuple(added)

    monkeypatch.setitem(engine._EXTENDS, _total, dropped)
    with pytest.raises(AssertionError):
        _check([("add", [1.0]), ("read", 0), ("add", [2.0])])


class _CarriesEverything(dict[Any, Any]):
    """A planted engine bug: every derived value is carried over an append unchanged."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(key, lambda value, added: value)


def test_the_property_catches_an_engine_that_carries_values_never_declared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "_EXTENDS", _CarriesEverything(engine._EXTENDS))
    with pytest.raises(AssertionError):
        _check([("add", [1.0]), ("read", 0), ("add", [2.0])])


_ENTRIES = st.lists(
    st.tuples(st.integers(-48, 48), st.integers(-8, 8).map(lambda n: n / 2)),  # times meet
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(before=_ENTRIES, added=_ENTRIES)
def test_a_log_blocks_span_carried_over_an_append_equals_its_span_afresh(
    before: list[tuple[int, float]], added: list[tuple[int, float]]
) -> None:
    """Entries in any time order, the block empty before or after or not."""
    docs = {
        str(i): {"at": instant_text(AT + timedelta(hours=hours)), "amount": amount}
        for i, (hours, amount) in enumerate([*before, *added], start=1)
    }
    ids = list(docs)
    old = {i: docs[i] for i in ids[: len(before)]}
    new = {i: docs[i] for i in ids[len(before) :]}
    assert initiatives._span_appended(initiatives._span(old), new) == initiatives._span(docs)


_STAMPS = st.lists(
    st.tuples(
        st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
        st.integers(-14 * 60, 14 * 60),
        st.sampled_from(["stored", "offset", "basic"]),
    ).map(
        lambda t: (
            instant_text(t[0])
            if t[2] == "stored"
            else t[0].strftime("%Y%m%dT%H%M%SZ")  # ISO's basic format: no date at [:10]
            if t[2] == "basic"
            else t[0].astimezone(timezone(timedelta(minutes=t[1]))).isoformat()
        )
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(stamps=_STAMPS)
def test_a_sealed_blocks_latest_day_is_the_latest_utc_day_of_its_entries(
    stamps: list[str],
) -> None:
    """Stored UTC instants (`…Z`, with or without a fraction), offset and basic-format ones."""
    assert max(base._latest_days(stamps)) == max(base.utc_day(s) for s in stamps)


@settings(max_examples=200, deadline=None)
@given(
    entries=_ENTRIES,
    since=st.integers(-50, 50),
    until=st.one_of(st.none(), st.integers(-50, 50)),
)
def test_a_cut_blocks_sum_is_the_sum_of_its_entries_in_the_period(
    entries: list[tuple[int, float]], since: int, until: int | None
) -> None:
    """Bisected on the sorted times: an entry at `since` counts, one at `until` does not."""
    docs = {
        str(i): {"at": instant_text(AT + timedelta(hours=hours)), "amount": amount}
        for i, (hours, amount) in enumerate(entries, start=1)
    }
    span = initiatives._span(docs)
    start = AT + timedelta(hours=since)
    end = None if until is None else AT + timedelta(hours=until)
    expected = sum(a for h, a in entries if h >= since and (until is None or h < until))
    assert (0.0 if span is None else span.between(start, end)) == expected


# Tenths, as people type them (`#posts +0.3`): not exact in binary, so the order of adding
# shows in the last digit, and a period's sum of 4 can come out 3.9999999999999996.
_TENTHS = st.lists(
    st.tuples(st.integers(-48, 48), st.integers(-30, 30).map(lambda n: n / 10)),
    max_size=12,
)


def _carried_and_afresh(
    entries: list[tuple[int, float]], cut: int
) -> tuple[initiatives._Span | None, initiatives._Span | None]:
    """A block of `entries` (hours after AT, amount) summarised over an append of those
    from `cut` on, and summarised afresh."""
    docs = {
        str(i): {"at": instant_text(AT + timedelta(hours=hours)), "amount": amount}
        for i, (hours, amount) in enumerate(entries, start=1)
    }
    ids = list(docs)
    before = initiatives._span({i: docs[i] for i in ids[:cut]})
    carried = initiatives._span_appended(before, {i: docs[i] for i in ids[cut:]})
    return carried, initiatives._span(docs)


@settings(max_examples=200, deadline=None)
@given(entries=_TENTHS, since=st.integers(-50, 50), cut=st.integers(0, 12))
@example(  # an undone /initiative unlog puts an older entry back at the end of the block
    entries=[(-1, 1.0), (3, 0.1), (1, 0.2), (2, 0.3)], since=0, cut=4
)
def test_a_cut_blocks_sum_adds_its_entries_in_log_order_whatever_the_amounts(
    entries: list[tuple[int, float]], since: int, cut: int
) -> None:
    """As reading each entry adds them (the sweep's facts, a block before this summary): in
    time order, 0.1 + 0.2 + 0.3 logged as 0.1 then 0.2, 0.3 earlier, is not the same float,
    and a hashtag's cadence line said "4 of 4 this week, 7 days left" where it was met.
    Appended in two parts, the carried-over summary says the same."""
    span, afresh = _carried_and_afresh(entries, cut)
    assert span == afresh
    start = AT + timedelta(hours=since)
    expected = sum(a for h, a in entries if h >= since)
    assert (0.0 if span is None else span.between(start, None)) == expected


@settings(max_examples=100, deadline=None)
@given(entries=_TENTHS, cut=st.integers(0, 12))
@example(entries=[(0, 0.1), (1, 0.2), (2, 0.3), (3, 0.1), (4, 0.2), (5, 0.7), (6, 0.3)], cut=6)
def test_a_carried_over_blocks_total_is_the_total_afresh_whatever_sum_does(
    entries: list[tuple[int, float]], cut: int
) -> None:
    """From Python 3.12 (pyproject allows >=3.11) `sum` of floats compensates its rounding,
    so a total `sum` derived afresh (after a restart) and one carried over appends by adding
    each amount would differ in the last digit: 1.9 against 1.9000000000000001 here, a
    cadence met or not depending on when the bot last started. `math.fsum` stands in. Both
    are `sum` of the amounts in log order, as b4f5814 totalled a block on any Python."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(initiatives, "sum", math.fsum, raising=False)
        carried, afresh = _carried_and_afresh(entries, cut)
        assert carried == afresh
        assert carried is None or carried.total == math.fsum(a for _, a in entries)


# an entry's number as stored: a number, null, or no field (stored before numbers were kept)
_NUMBERS = st.lists(
    st.tuples(st.integers(-48, 48), st.one_of(st.integers(1, 300), st.none(), st.just("-"))),
    max_size=12,
)


def _log_docs(entries: list[tuple[int, int | str | None]]) -> dict[str, dict[str, Any]]:
    """Log documents by id: an instant (hours from AT, meeting each other) and a number."""
    docs: dict[str, dict[str, Any]] = {}
    for i, (hours, number) in enumerate(entries, start=1):
        doc: dict[str, Any] = {"at": instant_text(AT + timedelta(hours=hours)), "amount": 1}
        if number != "-":
            doc["number"] = number
        docs[str(i)] = doc
    return docs


@settings(max_examples=300, deadline=None)
@given(before=_NUMBERS, added=_NUMBERS)
def test_a_log_blocks_instants_and_numbers_carried_over_an_append_equal_them_afresh(
    before: list[tuple[int, int | str | None]], added: list[tuple[int, int | str | None]]
) -> None:
    """What a hashtag reads of the newest block (the instants its entry must not meet, the
    highest number and whether an entry has none), carried over any append, equals the same
    read of the whole block: the block empty before or after or not, times meeting."""
    _carried_equals_afresh(before, added)


def _carried_equals_afresh(
    before: list[tuple[int, int | str | None]], added: list[tuple[int, int | str | None]]
) -> None:
    docs = _log_docs([*before, *added])
    ids = list(docs)
    old = {i: docs[i] for i in ids[: len(before)]}
    new = {i: docs[i] for i in ids[len(before) :]}
    assert base._instants_appended(base._instants(old), new) == base._instants(docs)
    assert initiatives._numbered_appended(initiatives._numbered(old), new) == (
        initiatives._numbered(docs)
    )


@pytest.mark.parametrize(
    ("module", "name", "added"),
    [
        (base, "_instants_appended", [(5, 2)]),
        (initiatives, "_numbered_appended", [(5, 2)]),  # a higher number
        (initiatives, "_numbered_appended", [(5, "-")]),  # an entry without one
    ],
)
def test_the_property_catches_an_extension_that_forgets_the_appended_entries(
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    name: str,
    added: list[tuple[int, int | str | None]],
) -> None:
    monkeypatch.setattr(module, name, lambda value, more: value)
    with pytest.raises(AssertionError):
        _carried_equals_afresh([(0, 1)], added)

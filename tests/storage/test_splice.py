"""`Database.splice`: one member of a stored document replaced in the body, not the whole
table re-serialised. Whatever the documents (members repeated elsewhere, quotes and
backslashes in keys and strings), a splice that writes leaves a body equal to dumping the
documents, the cache equal to what a restart reads, and one that declines writes nothing;
a planted bug (the first match replaced, found more than once or not) fails that."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from storage.engine import Database, member_json
from storage.port import MemoryBackend

NAME = "abook:t:1"
_KEYS = st.sampled_from(["k0", "k1", 'k"2', "k\\3", "states", "1"])
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "red", '"k0":', 'a\\"b', "ю"]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.dictionaries(_KEYS, inner, max_size=3) | st.lists(inner, max_size=2),
    max_leaves=6,
)
_STATES = st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=4)


@st.composite
def _cases(draw: st.DrawFn) -> tuple[dict[str, Any], str, Any]:
    """(the stored book, the state key to replace, its new value); the book's other parts
    may repeat a state's member, before or after the states."""
    states = draw(_STATES)
    key = draw(st.sampled_from(sorted(states)))
    copied = {key: states[key]} if draw(st.booleans()) else {}
    parts = [("states", states), ("log", [copied, draw(_VALUES)]), ("queued", draw(_VALUES))]
    order = draw(st.permutations(parts))
    return dict(order), key, draw(_VALUES | st.just(states[key]))


def _check(case: tuple[dict[str, Any], str, Any]) -> None:
    book, key, value = case
    backend = MemoryBackend()
    db = Database(backend)
    db.edit(NAME, {1: book})
    db.flush()
    before = db.docs(NAME)["1"]
    docs = {"1": {**before, "states": {**before["states"], key: value}}}
    body = backend.load(NAME)
    old, new = member_json(NAME, key, before["states"][key]), member_json(NAME, key, value)
    if db.splice(NAME, docs, old, new):
        assert db.docs(NAME) == docs
        db.flush()
        assert backend.load(NAME) == orjson.dumps(docs)
        assert Database(backend).docs(NAME) == docs  # what a restart reads
    else:
        assert body is not None and body.count(old) > 1
        assert db.docs(NAME)["1"] == book
        db.flush()
        assert backend.load(NAME) == body


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_a_spliced_body_is_the_documents_dumped_and_a_declined_one_writes_nothing(
    case: tuple[dict[str, Any], str, Any],
) -> None:
    _check(case)


def test_a_state_found_once_is_spliced() -> None:
    """The common case does take the splice (a red KPI's set on a chat's book)."""
    book = {"states": {"k0": {"v": 1}, "k1": {"v": 1}}, "log": [], "queued": []}
    db = Database(MemoryBackend())
    db.edit(NAME, {1: book})
    docs = {"1": {**book, "states": {"k0": {"v": 2}, "k1": {"v": 1}}}}
    old, new = member_json(NAME, "k0", {"v": 1}), member_json(NAME, "k0", {"v": 2})
    assert db.splice(NAME, docs, old, new)
    assert db.docs(NAME) == docs


def test_the_property_catches_a_splice_of_the_first_of_several_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the first match is replaced even when the member is found twice."""

    def first(self: Database, name: str, docs: Any, old: bytes, new: bytes) -> bool:
        entry = self._entry(name)
        assert entry is not None
        body = entry.body.replace(old, new, 1)
        self._change(name, body)
        self._remember(name, type(entry)(docs, body))
        return True

    monkeypatch.setattr(Database, "splice", first)
    unshrunk = settings(max_examples=300, deadline=None, phases=[Phase.generate], derandomize=True)
    with pytest.raises(AssertionError):
        unshrunk(given(_cases())(_check))()

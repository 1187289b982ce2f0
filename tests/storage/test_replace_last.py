"""An `edit` that removes a table's last document and adds one swaps the body's last member
instead of dumping the whole table (`Database._replace_last`): after any sequence of writes,
rollbacks and reopens, the documents by id and the body must be exactly those of the
general way (`_edited` then `_put`)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from storage import engine
from storage.engine import Database
from storage.port import MemoryBackend
from tests.storage.test_append_body import _SCALARS, TABLE, _Boom

#: Documents whose own keys may look like ids (`"3"`), nested ones too.
_DOCS = st.dictionaries(
    st.one_of(st.text(max_size=4), st.integers(1, 9).map(str)),
    st.recursive(
        _SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.integers(1, 9).map(str), inner, max_size=2)
        ),
        max_leaves=5,
    ),
    max_size=4,
)
_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(_DOCS, min_size=1, max_size=3), st.booleans()),
        st.tuples(st.just("replace"), st.lists(_DOCS, min_size=1, max_size=1), st.booleans()),
        st.tuples(st.just("same"), st.just([]), st.booleans()),
        st.tuples(
            st.just("replace_first"), st.lists(_DOCS, min_size=1, max_size=1), st.just(False)
        ),
        st.tuples(st.just("remove"), st.just([]), st.booleans()),
        st.tuples(st.just("rollback"), st.lists(_DOCS, min_size=1, max_size=1), st.booleans()),
        st.tuples(st.just("refused"), st.just([]), st.booleans()),
        st.tuples(st.just("reopen"), st.just([]), st.booleans()),
    ),
    max_size=14,
)


class _General(Database):
    """The same engine with every edit placed the general way."""

    def _replace_last(self, *args: Any, **kwargs: Any) -> bool:
        return False


def _apply(
    db: Database, backend: MemoryBackend, kind: str, docs: list[dict[str, Any]], flag: bool
) -> Database:
    ids = sorted(int(i) for i in db.docs(TABLE))
    if kind == "add":
        db.edit(TABLE, added=docs, handed_over=flag)
    elif kind == "replace" and ids:  # today's value replaced: the last out, the new one in
        db.edit(TABLE, {ids[-1]: None}, [docs[0]], handed_over=flag)
    elif kind == "same" and ids:  # the last one sent again, unchanged
        db.edit(TABLE, {ids[-1]: None}, [dict(db.docs(TABLE)[str(ids[-1])])], handed_over=flag)
    elif kind == "replace_first" and ids:  # sparse ids: an older day's value moved last
        db.edit(TABLE, {ids[0]: None}, [docs[0]])
    elif kind == "remove" and ids:
        db.edit(TABLE, {ids[0] if flag else ids[-1]: None})
    elif kind == "rollback" and ids:
        with contextlib.suppress(_Boom), db.atomic():
            db.edit(TABLE, {ids[-1]: None}, [docs[0]])
            raise _Boom
    elif kind == "refused" and ids:
        with pytest.raises(TypeError, match="cannot store"):
            db.edit(TABLE, {ids[-1]: None}, [{"at": {1, 2}}])
    elif kind == "reopen":
        db.flush()
        return type(db)(backend)
    return db


def body_of(db: Database, table: str) -> bytes | None:
    """The table's stored body as the cache holds it (None: no table)."""
    entry = db._entry(table)
    return None if entry is None else entry.body


def _check(actions: list[tuple[str, list[dict[str, Any]], bool]]) -> None:
    fast_backend, general_backend = MemoryBackend(), MemoryBackend()
    fast: Database = Database(fast_backend)
    general: Database = _General(general_backend)
    for kind, docs, flag in actions:
        fast = _apply(fast, fast_backend, kind, docs, flag)
        general = _apply(general, general_backend, kind, [dict(d) for d in docs], flag)
        assert fast.docs(TABLE) == general.docs(TABLE), kind
        assert list(fast.docs(TABLE)) == list(general.docs(TABLE)), kind  # ids in place
        assert body_of(fast, TABLE) == body_of(general, TABLE), kind
        fast_body = body_of(fast, TABLE)
        assert fast_body is None or fast_body == engine._dump(TABLE, fast.docs(TABLE))
    fast.flush()
    assert Database(fast_backend).docs(TABLE) == fast.docs(TABLE)


#: Ids 1 and 2, the first removed, then the last replaced: the general way numbers the new
#: document 1 (after the highest id left, none), not 2.
_GAP_BEFORE_THE_LAST = [
    ("add", [{"a": 1}, {"b": 2}], False),
    ("remove", [], True),
    ("replace", [{"c": 3}], False),
]


@settings(max_examples=60, deadline=None)
@given(_ACTIONS)
@example(_GAP_BEFORE_THE_LAST)
def test_a_replaced_last_document_gives_the_general_ways_table_and_body(
    actions: list[tuple[str, list[dict[str, Any]], bool]],
) -> None:
    _check(actions)


def test_the_property_catches_a_swap_that_keeps_the_removed_id_with_ids_missing_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the new document keeps the removed one's id even when the id before it
    is gone (the general way numbers it after the highest id left)."""
    monkeypatch.setattr(engine, "_takes_its_id", lambda docs, doc_id: True)
    with pytest.raises(AssertionError):
        _check(_GAP_BEFORE_THE_LAST)


def test_the_property_catches_a_swap_that_trusts_a_wrong_tail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the length of the last member an append or swap spliced in is kept one
    byte long, so the next swap cuts into the document before it."""

    class _LongTail(engine._Entry):
        __slots__ = ()

        def __init__(self, docs: Any, body: bytes, last_id: int = -1, tail: int = 0) -> None:
            super().__init__(docs, body, last_id, tail + 1 if tail else 0)

    monkeypatch.setattr(engine, "_Entry", _LongTail)
    with pytest.raises(AssertionError):
        _check(
            [
                ("add", [{"a": 1}], False),  # the table's first write: dumped whole
                ("add", [{"b": 2}], False),  # spliced in: its length kept
                ("replace", [{"c": 3}], False),
            ]
        )

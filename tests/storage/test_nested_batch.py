"""A `batch()` with a nested block (a `batch()` or an `atomic()`) that failed inside it
never stores that block's held changes: the step is all-or-nothing."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import Store, open_store
from storage.holding import HeldChangesSpoiled

_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Boom(Exception):
    """A failure planted at the end of a nested block."""


@dataclass(frozen=True)
class Nested:
    """A nested block: `batch()` or `atomic()`, its steps, whether it raises at its end,
    and whether its parent catches what comes out of it."""

    kind: str
    steps: tuple[Step, ...]
    fails: bool
    caught: bool


Step = str | Nested

_keys_st = st.text("abcdef", min_size=1, max_size=2)
_steps: st.SearchStrategy[tuple[Step, ...]] = st.deferred(
    lambda: st.lists(st.one_of(_keys_st, _nested), max_size=4).map(tuple)
)
_nested: st.SearchStrategy[Nested] = st.builds(
    Nested, st.sampled_from(["batch", "atomic"]), _steps, st.booleans(), st.booleans()
)


def _mark(store: Store, key: str) -> None:
    marks = store.alerts.sent_marks("c")
    store.alerts.save_sent_marks("c", {**marks, key: "sent"})
    store.outbox.put(
        chat="c", platform="console", kind="reminder", key=key, body={}, summary="", now=_AT
    )


def _run(store: Store, steps: tuple[Step, ...]) -> None:
    for step in steps:
        if isinstance(step, str):
            _mark(store, step)
            continue
        block: AbstractContextManager[None]
        block = store.alerts.batch() if step.kind == "batch" else store.atomic()
        try:
            with block, store.outbox.batch():
                _run(store, step.steps)
                if step.fails:
                    raise Boom
        except Boom:
            if not step.caught:
                raise


def _keys(steps: tuple[Step, ...]) -> set[str]:
    return {k for s in steps for k in ([s] if isinstance(s, str) else _keys(s.steps))}


def _any_fails(steps: tuple[Step, ...]) -> bool:
    return any(isinstance(s, Nested) and (s.fails or _any_fails(s.steps)) for s in steps)


@settings(max_examples=150, deadline=None)
@given(_steps)
def test_a_failed_nested_block_never_stores_its_changes(steps: tuple[Step, ...]) -> None:
    store = open_store(None)
    try:
        with store.atomic(), store.outbox.batch(), store.alerts.batch():
            _run(store, steps)
    except (Boom, HeldChangesSpoiled):
        pass
    stored = set(store.alerts.sent_marks("c"))
    queued = {e.key for e in store.outbox.pending("c")}
    expected = set() if _any_fails(steps) else _keys(steps)
    assert stored == expected
    assert queued == expected


@pytest.mark.parametrize("kind", ["batch", "atomic"])
def test_a_caught_failure_of_a_block_inside_a_batch_refuses_the_batch_loudly(kind: str) -> None:
    store = open_store(None)
    with pytest.raises(HeldChangesSpoiled), store.atomic(), store.alerts.batch():
        _mark(store, "kept")
        try:
            with store.alerts.batch() if kind == "batch" else store.atomic():
                _mark(store, "failed")
                raise Boom
        except Boom:
            pass
    assert store.alerts.sent_marks("c") == {}


def test_a_nested_batch_that_succeeds_joins_the_outer_one() -> None:
    store = open_store(None)
    with store.atomic(), store.alerts.batch():
        _mark(store, "a")
        with store.alerts.batch():
            _mark(store, "b")
    assert store.alerts.sent_marks("c") == {"a": "sent", "b": "sent"}

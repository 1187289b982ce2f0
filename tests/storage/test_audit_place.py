"""The audited step works out where its entry goes when it starts (`AuditRepo.next_entry`)
and appends it there at its end unless the step wrote one of the tables that said so
(`Database.untouched`): after any sequence of steps, writing values, undoing, marking or
adding audit entries of their own, across months, zones and full blocks, rolled back or
not, every stored table must be what looking the place up again at the end stores."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scoring.models import Measurement
from storage import AuditEntry, Store, UndoConflict, open_store
from storage.engine import Database

CHAT = "c"
START = datetime(2026, 10, 31, 20, tzinfo=UTC)

_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["set", "undo", "mark", "add", "empty", "rollback"]),
        st.integers(0, 4),  # a day, or how far back the entry undone or marked is
        st.integers(0, 180),  # minutes on since the last step (crosses the month's end)
        st.sampled_from([0, -300, 330]),  # the step's zone, minutes off UTC
    ),
    min_size=1,
    max_size=40,
)


class _Boom(Exception):
    """Raised inside a step to roll it back."""


def _step(store: Store, action: str, n: int, at: datetime) -> None:
    audited = store.audited(CHAT, actor_id="console:1", actor="@a", command=f"/{action}", at=at)
    with contextlib.suppress(_Boom, UndoConflict), store.atomic(), audited:
        entries = list(store.audit.newest(CHAT))
        if action in ("set", "rollback", "add"):  # a value: the step has an entry
            day = date(2026, 10, 20) + timedelta(days=n)
            store.kpis.record(CHAT, Measurement(kpi="v", value=n, day=day, at=at, by="@a"))
        if action == "rollback":
            raise _Boom
        elif action == "undo" and len(entries) > n:
            store.revert(CHAT, entries[n])
        elif action == "mark" and len(entries) > n:  # an audit block changed in the step
            store.audit.mark_undone(CHAT, entries[n].id)
        elif action == "add":  # entries of its own: the newest block may fill up
            month = at.isoformat()[2:7].replace("-", "")
            for i in range(n + 1):
                own = AuditEntry(id=f"{month}-9{i}", at=at, actor_id="x", actor="@x", command="/x")
                store.audit.add(CHAT, own)


def _run(steps: list[tuple[str, int, int, int]], store: Store) -> Store:
    at = START
    for action, n, minutes, offset in steps:
        at = (at + timedelta(minutes=minutes)).astimezone(timezone(timedelta(minutes=offset)))
        _step(store, action, n, at)
    return store


def _relooked() -> Store:
    """A store whose audited steps always look their entry's place up again at the end."""
    store = open_store(None)
    store.db.untouched = lambda names: False  # type: ignore[method-assign]
    return store


def _check(steps: list[tuple[str, int, int, int]]) -> None:
    kept, relooked = _run(steps, open_store(None)), _run(steps, _relooked())
    names = kept.db.table_names()
    assert names == relooked.db.table_names()
    for name in names:
        assert kept.db._body(name) == relooked.db._body(name), name


#: Fifteen entries, then a step whose own entry fills the block before the step's lands.
_FILLS_ITS_BLOCK = [("set", n % 5, 1, 0) for n in range(15)] + [("add", 0, 1, 0), ("set", 1, 1, 0)]


@settings(max_examples=80, deadline=None)
@given(_STEPS)
@example(_FILLS_ITS_BLOCK)
def test_an_entry_lands_where_looking_its_place_up_at_the_end_puts_it(
    steps: list[tuple[str, int, int, int]],
) -> None:
    _check(steps)


def test_the_place_is_kept_only_inside_an_atomic_block() -> None:
    store = open_store(None)
    assert not store.db.untouched(["audit:c:2026-11:1"])
    with store.atomic():
        assert store.db.untouched(["audit:c:2026-11:1"])
        store.db.table("audit:c:2026-11:1").insert({"id": "2611-1"})
        assert not store.db.untouched(["auditm:c", "audit:c:2026-11:1"])
        assert store.db.untouched(["auditm:c"])


def test_the_property_catches_a_place_kept_after_the_step_wrote_its_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the place found at the start is trusted whatever the step wrote (an
    entry of its own filled the block: the step's entry went in as the 17th)."""
    monkeypatch.setattr(Database, "untouched", lambda self, names: True)
    with pytest.raises(AssertionError):
        _check(_FILLS_ITS_BLOCK)

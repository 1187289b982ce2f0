"""`AuditRepo.record` (the router's path, no models) stores what `add(AuditEntry)` stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import AuditEntry, open_store
from storage.changes import Change

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_JSON: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
# what a repository might note that JSON does not hold: the model's way must still be taken
_ODD = st.sampled_from([datetime(2026, 11, 1, 9, tzinfo=UTC), date(2026, 11, 1), (1, 2)])
_DOC = st.none() | st.dictionaries(st.text(max_size=4), _JSON | _ODD, max_size=4)
_CHANGE = st.fixed_dictionaries(
    {"kind": st.sampled_from(["value", "kpi", "alset"]), "key": st.text(max_size=6)}
).flatmap(lambda c: st.tuples(_DOC, _DOC).map(lambda ba: {**c, "before": ba[0], "after": ba[1]}))
_AT = st.builds(
    lambda minutes, offset: (
        datetime(2026, 11, 1, tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset)))
        + timedelta(minutes=minutes)
    ),
    st.integers(0, 90 * 24 * 60),
    st.sampled_from([0, 180, -300, 330]),
)


@settings(max_examples=120, deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            _AT,
            st.text(max_size=10),
            st.lists(_CHANGE, max_size=3),
            st.integers(0, 3),
            st.none() | st.just("2611-1"),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_direct_audit_document_is_the_models_document(
    entries: list[tuple[datetime, str, list[dict[str, Any]], int, str | None]],
) -> None:
    direct, modelled = open_store(None), open_store(None)
    for at, command, changes, skipped, undo_of in entries:
        entry_id = direct.audit.new_id("c", at)
        assert modelled.audit.new_id("c", at) == entry_id
        direct.audit.record(
            "c",
            entry_id=entry_id,
            at=at,
            actor_id="console:anna",
            actor="@anna",
            command=command,
            changes=changes,
            skipped=skipped,
            undo_of=undo_of,
        )
        entry = AuditEntry(
            id=entry_id,
            at=at,
            actor_id="console:anna",
            actor="@anna",
            command=command,
            changes=tuple(Change(**c) for c in changes),
            skipped=skipped,
            undo_of=undo_of,
        )
        modelled.audit.add("c", entry)
    names = direct.db.table_names()
    assert names == modelled.db.table_names()
    for name in names:
        assert direct.db.docs(name) == modelled.db.docs(name), name
    assert list(direct.audit.newest("c")) == list(modelled.audit.newest("c"))

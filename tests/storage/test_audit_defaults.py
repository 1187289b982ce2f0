"""An audit entry is stored without the fields at their defaults (nothing skipped, no undo,
not undone: 44 bytes of a `/kpi set`'s ~500, in a block rewritten at every entry). It
reads back as the same entry, and so do entries an older version stored with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import AuditEntry, Store, open_store
from storage.base import to_doc

AT = datetime(2026, 11, 1, 9, tzinfo=UTC)
_ENTRY = st.tuples(st.integers(0, 3), st.none() | st.just("2611-1"), st.booleans())
_CHANGE: dict[str, Any] = {"kind": "value", "key": "a@2026-11-01", "before": None, "after": {}}


def _record(store: Store, at: datetime, skipped: int, undo_of: str | None) -> str:
    """Record an entry the router's way; its id."""
    entry_id = store.audit.new_id("c", at)
    store.audit.record(
        "c",
        entry_id=entry_id,
        at=at,
        actor_id="console:anna",
        actor="@anna",
        command="/kpi set a 1",
        changes=[dict(_CHANGE)],
        skipped=skipped,
        undo_of=undo_of,
    )
    return entry_id


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(_ENTRY, min_size=1, max_size=20))
def test_entries_read_the_same_stored_with_or_without_their_default_fields(
    entries: list[tuple[int, str | None, bool]],
) -> None:
    new, old = open_store(None), open_store(None)
    for i, (skipped, undo_of, undone) in enumerate(entries):
        at = AT + timedelta(minutes=i)
        entry_id = _record(new, at, skipped, undo_of)
        entry = AuditEntry.model_validate(
            {
                "id": entry_id,
                "at": at,
                "actor_id": "console:anna",
                "actor": "@anna",
                "command": "/kpi set a 1",
                "changes": [{"kind": "value", "key": "a@2026-11-01", "after": {}}],
                "skipped": skipped,
                "undo_of": undo_of,
            }
        )
        old.audit._append("c", entry_id, to_doc(entry))  # an older version's document
        if undone:
            new.audit.mark_undone("c", entry_id)
            old.audit.mark_undone("c", entry_id)
    assert list(new.audit.newest("c")) == list(old.audit.newest("c"))
    for entry in old.audit.newest("c"):
        assert new.audit.get("c", entry.id) == entry
    assert new.audit.count("c") == old.audit.count("c") == len(entries)


def test_an_entry_is_stored_without_the_fields_at_their_defaults() -> None:
    store = open_store(None)
    entry_id = _record(store, AT, 0, None)
    (stored,) = store.db.docs("audit:c:2026-11:1").values()
    assert set(stored) == {"id", "at", "actor_id", "actor", "command", "changes"}
    store.audit.mark_undone("c", entry_id)
    (stored,) = store.db.docs("audit:c:2026-11:1").values()
    assert stored["undone"] is True

"""Who added or stopped a scheduled pull is in `/history` (the audited item keeps the key,
schedule and author, not the URL, which may carry a sheet's secret key); `/undo` says how
to redo it rather than putting back a pull whose state has moved on."""

from __future__ import annotations

from tests.support import FakeChat

URL = "https://docs.google.com/spreadsheets/d/e/SECRET-KEY/pub?output=csv"
TYPED = f"/source add sheet csv {URL} every=day"[:80]  # replies quote its first 80


async def test_history_names_who_added_and_removed_a_source(chat: FakeChat) -> None:
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    await chat.ok(f"/source add sheet csv {URL} every=day", user="ivan")
    await chat.ok("/source run sheet")  # a request to pull: no change of the source itself
    assert await chat.ok("/undo", user="ivan") == (
        f"Can't undo your last change, 2611-2 ({TYPED}): a scheduled pull is not "
        "undone; /source remove sheet stops it, /source add starts it again."
    )
    await chat.ok("/source remove sheet")
    assert (await chat.ok("/history 2")).split("\n") == [
        "Changes: 3 changes",
        "2611-3 · 2026-11-21 10:00 · @anna · /source remove sheet",
        "  source sheet: removed",
        f"2611-2 · 2026-11-21 10:00 · @ivan · {TYPED}",
        "  source sheet: added",
        "Showing the latest 2 of 3. More: /history 3 · everything: /history all",
        "[More: /history 3]",
    ]
    entry = chat.core.store.audit.get(chat.chat.key, "2611-2")
    assert entry is not None and "SECRET-KEY" not in str([c.after for c in entry.changes])

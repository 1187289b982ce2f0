"""A note longer than a note may be is refused with its length, not cut silently.

`/kpi set`, `/okr checkin` and `/log` kept the first 500 characters of a longer note and said
"Saved", while the ingest API refused the same note: a value's note was half-written.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat

NOTE = "after the campaign " * 40  # 760 characters


@pytest.mark.parametrize(
    "typed",
    [
        f"/kpi set cac 95 {NOTE}",
        f"/okr checkin arr 40 {NOTE}",
        f"/log blog +1 {NOTE}",
        f"#blog {NOTE}",
    ],
)
async def test_each_way_of_writing_a_note_refuses_a_long_one(chat: FakeChat, typed: str) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow arr "ARR" start=0 target=100')
    await chat.ok('/initiative add blog "Blog"')
    before = await chat.ok("/history")
    assert await chat.error(typed) == (
        "The note is 759 characters long; a note keeps at most 500. Nothing was saved."
    )
    assert await chat.ok("/history") == before


async def test_a_note_of_500_characters_is_kept_whole(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    note = ("x" * 99 + " ") * 5
    await chat.ok(f"/kpi set cac 95 {note}")
    assert chat.core.store.kpis.history(chat.chat.key, "cac")[0].note == note.strip()

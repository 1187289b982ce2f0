"""A date typed after a check-in's value is refused, not kept as its note (probe14).

`/okr checkin subs 2500 2026-11-19` answered "Checked in Subscribers: 2 500", dated the
check-in now and kept "2026-11-19" as its note; `… 2k yesterday` kept "yesterday": the
history then read `2026-11-21 10:00  2 000 … yesterday`, and nothing said the day was not
taken. `/kpi set` reads the same words as the value's day; a check-in has none to take.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("2500 2026-11-19", "2026-11-19"),
        ("2k yesterday", "yesterday"),
        ("2 000 last friday after the webinar", "last friday"),
        ("2500 confidence=7 19 nov", "19 nov"),
    ],
)
async def test_a_date_after_a_check_ins_value_is_refused(
    chat: FakeChat, typed: str, said: str
) -> None:
    await chat.ok('/okr add grow "Grow the newsletter"')
    await chat.ok('/okr kr grow subs "Subscribers" start=1000 target=5000')
    assert await chat.error(f"/okr checkin subs {typed}") == (
        f"'{said}' is a date, and a check-in takes none: it records where the key result "
        "stands when you send it. Send it without the date."
    )
    assert "no check-ins yet" in await chat.ok("/okr kr history subs")


@pytest.mark.parametrize("note", ["as of friday", "today looks good", "march campaign"])
async def test_a_note_that_only_mentions_a_day_is_kept(chat: FakeChat, note: str) -> None:
    """Today is the check-in's day, and `march` alone is no day: notes, as before."""
    await chat.ok('/okr add grow "Grow the newsletter"')
    await chat.ok('/okr kr grow subs "Subscribers" start=1000 target=5000')
    await chat.ok(f"/okr checkin subs 2500 {note}")
    assert note in await chat.ok("/okr kr history subs")

"""`/digest every mon 9am` (and `9:30pm`, `12am`) is read as people say it.

It was refused with "'9am' is not a time: use HH:MM".
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "when"),
    [
        ("9am", "09:00"),
        ("9:30pm", "21:30"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
        ("9 AM", "09:00"),
    ],
)
async def test_a_time_with_am_or_pm(chat: FakeChat, typed: str, when: str) -> None:
    assert (await chat.ok(f"/digest every mon {typed}")).startswith(
        f"Digest scheduled every mon {when} (UTC)"
    )


async def test_an_impossible_am_pm_time_is_refused(chat: FakeChat) -> None:
    assert await chat.error("/digest every mon 13pm") == (
        "'13pm' is not a time of day: use 00:00–23:59 (or 1am–12pm)."
    )

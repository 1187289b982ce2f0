"""`/alerts quiet abc-25` said "'abc-25' has an impossible time": one end is no time at all,
so the text is not a quiet window; only a window of two times, one that no clock shows
(`22-25`), has an impossible time (probe15)."""

from __future__ import annotations

import pytest

from tests.support import FakeChat

EXAMPLE = "use HH:MM-HH:MM, e.g. quiet 22:00-08:00"


@pytest.mark.parametrize("typed", ["abc-25", "25-abc", "soon-8", "22-later"])
async def test_a_window_with_an_end_that_is_no_time_is_not_a_window(
    chat: FakeChat, typed: str
) -> None:
    assert await chat.error(f"/alerts quiet {typed}") == (
        f"'{typed}' is not a quiet window: {EXAMPLE}"
    )


@pytest.mark.parametrize("typed", ["22-25", "25-8", "13pm-8am"])
async def test_a_window_of_two_times_one_impossible_says_so(chat: FakeChat, typed: str) -> None:
    assert await chat.error(f"/alerts quiet {typed}") == (
        f"'{typed}' has an impossible time: {EXAMPLE}"
    )

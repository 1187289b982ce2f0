"""A time of day is read one way wherever it is typed (probe14).

`/digest every mon 8:30am` was taken, but `/alerts quiet 10pm-8am` was refused ("is not a
quiet window: use HH:MM-HH:MM"), and `/alerts quiet 22.30-07.00` was taken where
`/digest every mon 9.30` was refused: two readers of one thing, each knowing half of what
people type.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat

QUIET = (
    "Quiet hours {} (UTC): yellow, improved, resolved and reminders wait until the end; "
    "a KPI turning red still comes through."
)


@pytest.mark.parametrize(
    ("typed", "window"),
    [
        ("10pm-8am", "22:00-08:00"),
        ("10:30 pm - 7 am", "22:30-07:00"),
        ("10PM–8AM", "22:00-08:00"),
        ("12am-6am", "00:00-06:00"),
        ("22:00-08:00", "22:00-08:00"),
        ("22.30-7", "22:30-07:00"),
    ],
)
async def test_quiet_hours_take_am_and_pm(chat: FakeChat, typed: str, window: str) -> None:
    assert await chat.ok(f"/alerts quiet {typed}") == QUIET.format(window)


async def test_an_impossible_am_pm_quiet_window_is_refused(chat: FakeChat) -> None:
    assert await chat.error("/alerts quiet 13pm-8am") == (
        "'13pm-8am' has an impossible time: use HH:MM-HH:MM, e.g. quiet 22:00-08:00"
    )


async def test_a_digest_time_with_a_dot_reads_as_quiet_hours_do(chat: FakeChat) -> None:
    assert (await chat.ok("/digest every mon 9.30")).startswith(
        "Digest scheduled every mon 09:30 (UTC)"
    )

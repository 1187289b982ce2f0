"""`/digest every` reads a weekday in the words a date reads it in (probe14).

`/kpi set leads 5 fredag` and `… letzten Freitag` are read as days, but `/digest every
mandag 9` and `/digest every Montag 9` were refused ("'mandag' is not a weekday"), and so
was the plain English `/digest every mondays 9am`: two lists of weekday names, the
digest's knowing English and Russian only. And `/digest every mon 09:00 CET` was told
"'09:00' is not a weekday", when the time was right and the zone is the chat's.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "when"),
    [
        ("mandag 9", "every mon 09:00"),
        ("Montag 9", "every mon 09:00"),
        ("montags 9", "every mon 09:00"),
        ("mondays 9am", "every mon 09:00"),
        ("fredag-mandag 9", "every fri-mon 09:00"),
        ("Dienstag,Donnerstag 8:30", "every tue,thu 08:30"),
        ("понедельник 9", "every mon 09:00"),
        ("пн 9", "every mon 09:00"),
    ],
)
async def test_weekdays_in_danish_german_russian_and_plural(
    chat: FakeChat, typed: str, when: str
) -> None:
    assert (await chat.ok(f"/digest every {typed}")).startswith(f"Digest scheduled {when} (UTC)")


async def test_a_zone_after_the_time_points_to_timezone(chat: FakeChat) -> None:
    assert await chat.error("/digest every mon 09:00 CET") == (
        "'CET' after the time: the digest follows the chat's timezone (UTC); "
        "change it with /timezone, e.g. /timezone Europe/Berlin."
    )

"""`/initiative add launch "Launch" due=friday` said "'friday' is not a date: use YYYY-MM-DD",
and so did `due="1 march"` and `due="in 2 weeks"`, though `/kpi set` reads all of them. A
due date is a day to come: a weekday is the next one (today's on that day), a day and month
without a year the next such day, and the reply names the day read, so the team sees which
Friday (probe16)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support import FakeChat, FixedClock


@pytest.fixture
async def wednesday(chat: FakeChat, clock: FixedClock) -> FakeChat:
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)  # Wednesday 2 December
    return chat


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("friday", "2026-12-04"),
        ("Fri", "2026-12-04"),
        ('"в пятницу"', "2026-12-04"),
        ("wednesday", "2026-12-02"),
        ("monday", "2026-12-07"),
        ('"next friday"', "2026-12-04"),
        ('"1 march"', "2027-03-01"),
        ('"march 1"', "2027-03-01"),
        ('"5 dec"', "2026-12-05"),
        ('"30 nov"', "2027-11-30"),
        ("30.11", "2027-11-30"),
        ("24.12", "2026-12-24"),
        ('"5 марта"', "2027-03-05"),
        ("tomorrow", "2026-12-03"),
        ('"in 2 weeks"', "2026-12-16"),
        ("2027-01-15", "2027-01-15"),
        ("15.01.2027", "2027-01-15"),
    ],
)
async def test_a_due_date_in_words_is_the_next_such_day(
    wednesday: FakeChat, typed: str, day: str
) -> None:
    assert await wednesday.ok(f'/initiative add launch "Launch" due={typed}') == (
        f"Saved initiative Launch (launch), due {day}. "
        "Log progress: /log launch +1 or #launch +1 in chat."
    )
    assert f"due {day}" in await wednesday.ok("/initiatives")


async def test_an_edit_says_the_day_read_too(wednesday: FakeChat) -> None:
    await wednesday.ok('/initiative add launch "Launch"')
    assert await wednesday.ok('/initiative edit launch due="1 march"') == (
        "Updated initiative Launch (launch), due 2027-03-01."
    )
    assert await wednesday.ok("/initiative edit launch due=none") == (
        "Updated initiative Launch (launch)."
    )


@pytest.mark.parametrize("typed", ['"next month"', "march", '"end of month"'])
async def test_words_that_name_no_day_are_refused_with_what_to_type(
    wednesday: FakeChat, typed: str
) -> None:
    said = typed.strip('"')
    assert await wednesday.error(f'/initiative add launch "Launch" due={typed}') == (
        f"'{said}' names no day: type one, e.g. due=2027-03-31, due=\"31 march\" or due=friday."
    )

"""`/log articles +1 2026-11-30 published late` logged the article today, with the date in
its note: on 2 December, November's fourth article counted for December, and November's
target read as missed. `/kpi set` takes a date after the value; `/log` and hashtags now
read one the same way (digits or words, `yesterday`, `30.11`), never a day ahead (probe15)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support import FakeChat, FixedClock

ARTICLES = '/initiative add articles "Publish articles" cadence=4/month'


@pytest.fixture
async def articles(chat: FakeChat, clock: FixedClock) -> FakeChat:
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    await chat.ok(ARTICLES)
    return chat


def noted(listing: str) -> list[str]:
    """`/initiative articles`'s rows: when, amount and note."""
    return [" ".join(row.split()[1:]) for row in listing.splitlines() if "@anna" in row]


async def test_a_date_after_the_amount_is_the_day_it_counts_for(articles: FakeChat) -> None:
    assert await articles.ok("/log articles +1 2026-11-30 published late") == (
        "Logged 1 on Publish articles for 2026-11-30: 1 of 4 that month. "
        "0 of 4 this month, 30 days left."
    )
    assert await articles.ok("#articles +2 yesterday") == (
        "Logged 2 on Publish articles for 2026-12-01. 2 of 4 this month, 30 days left."
    )
    assert await articles.ok("/log articles yesterday the BSC guide") == (
        "Logged 1 on Publish articles for 2026-12-01. 3 of 4 this month, 30 days left."
    )
    assert await articles.ok("/log articles 1 30.11") == (
        "Logged 1 on Publish articles for 2026-11-30: 2 of 4 that month. "
        "3 of 4 this month, 30 days left."
    )
    assert noted(await articles.ok("/initiative articles")) == [
        "2026-12-01 09:00 +1 @anna the BSC guide",
        "2026-12-01 09:00 +2 @anna",
        "2026-11-30 09:00 +1 @anna",
        "2026-11-30 09:00 +1 @anna published late",
    ]
    assert await articles.ok("#articles 3 nov posts") == (
        "Logged 1 on Publish articles for 2026-11-03: 3 of 4 that month. "
        "3 of 4 this month, 30 days left."
    )


async def test_a_day_ahead_is_refused_and_nothing_is_logged(articles: FakeChat) -> None:
    assert await articles.error("/log articles +1 2026-12-05") == (
        "2026-12-05 is in the future"
        " (today is 2026-12-02 in this chat's timezone); only today or earlier can be recorded."
    )
    assert await articles.error("#articles +1 tomorrow") == (
        "2026-12-03 is in the future"
        " (today is 2026-12-02 in this chat's timezone); only today or earlier can be recorded."
    )
    assert await articles.error("#articles +1 30.12") == (
        "'30.12' is 2026-12-30, in the future (today is 2026-12-02 "
        "in this chat's timezone); only today or earlier can be recorded. "
        "For last year's, add the year: 30.12.2025."
    )
    assert "0 of 4 this month" in await articles.ok("/initiatives")


async def test_words_that_are_no_date_stay_the_note(articles: FakeChat) -> None:
    assert await articles.ok("#articles 10 KPI mistakes") == (
        "Logged 1 on Publish articles. 1 of 4 this month, 30 days left."
    )
    assert await articles.ok("#articles +1 may newsletter") == (
        "Logged 1 on Publish articles. 2 of 4 this month, 30 days left."
    )
    assert await articles.ok("/log articles 1.5") == (
        "Logged 1.5 on Publish articles. 3.5 of 4 this month, 30 days left."
    )
    # a month or weekday name alone may be a title: it stays the note (review15)
    assert await articles.ok("#articles +1 march issue") == (
        "Logged 1 on Publish articles. 4.5 of 4 this month, target met."
    )
    assert await articles.ok("#articles +1 sunday edition") == (
        "Logged 1 on Publish articles. 5.5 of 4 this month, target met."
    )
    assert noted(await articles.ok("/initiative articles")) == [
        "2026-12-02 09:00 +1 @anna sunday edition",
        "2026-12-02 09:00 +1 @anna march issue",
        "2026-12-02 09:00 +1.5 @anna",
        "2026-12-02 09:00 +1 @anna may newsletter",
        "2026-12-02 09:00 +1 @anna 10 KPI mistakes",
    ]
